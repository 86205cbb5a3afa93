package stack

import "github.com/usnet/usnet/sysctl"

// This file gives embedded users the namespace's /proc/sys/net (package
// sysctl) from any goroutine: each call runs on the namespace executor.

func (n *Namespace) sysctlNet() sysctl.Net {
	return sysctl.Net{IPv4: n.IPv4, TCP: n.TCP, Neigh: n.Neigh}
}

// Sysctl reads a setting ("net.ipv4.ip_forward") as /proc/sys/net shows
// it; ENOENT for a name usnet does not have.
func (n *Namespace) Sysctl(name string) (v string, err error) {
	n.Exec().Do(func() { v, err = sysctl.Get(n.sysctlNet(), name) })
	return v, err
}

// SetSysctl writes a setting as `sysctl -w name=value` does, with the
// kernel's errors (ENOENT, EINVAL, EACCES for read-only names). It does
// not check privileges: the daemon does for its clients.
func (n *Namespace) SetSysctl(name, value string) (err error) {
	n.Exec().Do(func() { err = sysctl.Set(n.sysctlNet(), name, value) })
	return err
}

// Sysctls returns every setting, sorted by name (`sysctl -a`).
func (n *Namespace) Sysctls() (all []sysctl.Entry) {
	n.Exec().Do(func() { all = sysctl.All(n.sysctlNet()) })
	return all
}

// SysctlWritable tells, without writing, whether name exists (ENOENT)
// and is writable (EACCES for a read-only name): what a caller without
// the privilege to write learns before being refused.
func (n *Namespace) SysctlWritable(name string) (err error) {
	n.Exec().Do(func() { err = sysctl.CheckWrite(n.sysctlNet(), name) })
	return err
}
