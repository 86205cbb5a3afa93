package client

import (
	"syscall"

	"github.com/usnet/usnet/daemon"
	"github.com/usnet/usnet/stack"
	"github.com/usnet/usnet/sysctl"
)

// Sysctl reads a setting of the namespace ("net.ipv4.ip_forward") as
// /proc/sys/net shows it (package sysctl); ENOENT for a name usnet does
// not have.
func (n *Namespace) Sysctl(name string) (string, error) {
	v, err := n.c.sysctl.get(n.name, name)
	return v, wrap("sysctl", err)
}

// SetSysctl writes a setting as `sysctl -w name=value` does: EINVAL for a
// value the kernel refuses, EACCES for a read-only name, EPERM for a
// client that is not an administrator (CAP_NET_ADMIN).
func (n *Namespace) SetSysctl(name, value string) error {
	return wrap("sysctl", n.c.sysctl.set(n.name, name, value))
}

// Sysctls returns every setting of the namespace sorted by name
// (`sysctl -a`).
func (n *Namespace) Sysctls() ([]sysctl.Entry, error) {
	l, err := n.c.sysctl.all(n.name)
	return l, wrap("sysctl", err)
}

// sysctlOps reach a namespace's settings in process or over the daemon.
type sysctlOps struct {
	get func(ns, name string) (string, error)
	set func(ns, name, value string) error
	all func(ns string) ([]sysctl.Entry, error)
}

func remoteSysctl(path string) sysctlOps {
	return sysctlOps{
		get: func(ns, name string) (string, error) { return daemon.Sysctl(path, ns, name) },
		set: func(ns, name, value string) error { return daemon.SetSysctl(path, ns, name, value) },
		all: func(ns string) ([]sysctl.Entry, error) { return daemon.Sysctls(path, ns) },
	}
}

func localSysctl(st *stack.Stack, admin bool) sysctlOps {
	lookup := func(ns string) (*stack.Namespace, error) {
		if ns == "" {
			return st.Default(), nil
		}
		return st.Lookup(ns)
	}
	return sysctlOps{
		get: func(ns, name string) (string, error) {
			n, err := lookup(ns)
			if err != nil {
				return "", err
			}
			return n.Sysctl(name)
		},
		set: func(ns, name, value string) error {
			n, err := lookup(ns)
			if err != nil {
				return err
			}
			if !admin {
				// Unknown and read-only names fail as for anyone.
				if err := n.SysctlWritable(name); err != nil {
					return err
				}
				return syscall.EPERM
			}
			return n.SetSysctl(name, value)
		},
		all: func(ns string) ([]sysctl.Entry, error) {
			n, err := lookup(ns)
			if err != nil {
				return nil, err
			}
			return n.Sysctls(), nil
		},
	}
}
