package main

import (
	"os"

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

func dialDaemonIP(ns string) (iproute.Transport, error) {
	return daemon.Dial(daemon.DefaultPath(), ns)
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

// cmdBridge is `usnet bridge`: iproute2's bridge(8) (fdb, vlan, link)
// against the daemon's namespaces, or with --kernel against the kernel's.
func cmdBridge(args []string) error {
	opt := iproute.Options{Dial: dialDaemonIP, Netns: daemonNamespaces{}}
	if len(args) > 0 && args[0] == "--kernel" {
		args = args[1:]
		opt = iproute.Options{}
	}
	if code := iproute.RunBridge(args, opt); code != 0 {
		os.Exit(code)
	}
	return nil
}
