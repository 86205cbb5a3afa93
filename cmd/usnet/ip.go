package main

import (
	"os"

	"golang.org/x/sys/unix"

	"github.com/usnet/usnet/daemon"
	"github.com/usnet/usnet/iproute"
)

// cmdIP is `usnet ip`: iproute2's ip(8) against the usnet daemon's
// namespaces, or with --kernel as the first argument against the Linux
// kernel's (handy for comparing the two). iproute2's exit status is part
// of its interface, so a failure exits here with that status instead of
// returning an error to main's generic exit 1.
func cmdIP(args []string) error {
	opt := iproute.Options{Dial: dialDaemonIP, Netns: daemonNamespaces{}}
	if len(args) > 0 && args[0] == "--kernel" {
		args = args[1:]
		opt = iproute.Options{}
	}
	if code := iproute.Run(args, opt); code != 0 {
		os.Exit(code)
	}
	return nil
}

// daemonTransport adds what `ip monitor` needs to the daemon connection.
type daemonTransport struct{ *daemon.NetlinkConn }

// Subscribe joins rtnetlink multicast groups.
func (t daemonTransport) Subscribe(groups ...uint32) error {
	for _, g := range groups {
		if err := t.Join(int(g)); err != nil {
			return err
		}
	}
	return nil
}

// ResolveNetns names a daemon namespace for `link set DEV netns NAME`:
// usnet reads IFLA_NET_NS_PID as a namespace id.
func (t daemonTransport) ResolveNetns(name string) (uint16, uint32, error) {
	id, err := daemon.NetnsID(daemon.DefaultPath(), name)
	return unix.IFLA_NET_NS_PID, id, err
}

func dialDaemonIP(ns string) (iproute.Transport, error) {
	c, err := daemon.Dial(daemon.DefaultPath(), ns)
	if err != nil {
		return nil, err
	}
	return daemonTransport{c}, nil
}

// daemonNamespaces is `ip netns` on the daemon.
type daemonNamespaces struct{}

func (daemonNamespaces) List() ([]iproute.NetnsEntry, error) {
	names, err := daemon.NetnsList(daemon.DefaultPath())
	var out []iproute.NetnsEntry
	for _, n := range names {
		out = append(out, iproute.NetnsEntry{Name: n, ID: -1})
	}
	return out, err
}
func (daemonNamespaces) Add(name string) error    { return daemon.NetnsAdd(daemon.DefaultPath(), name) }
func (daemonNamespaces) Delete(name string) error { return daemon.NetnsDel(daemon.DefaultPath(), name) }
