package main

import (
	"github.com/usnet/usnet/daemon"
	"github.com/usnet/usnet/iproute"
	"github.com/usnet/usnet/tools"
)

// openNamespace reaches a namespace of the running daemon through the
// socket proxy.
func openNamespace(name string) (tools.Namespace, error) {
	return daemon.Sockets(daemon.DefaultPath(), name), nil
}

// dialNetlink opens rtnetlink to a namespace of the running daemon.
func dialNetlink(name string) (iproute.Transport, error) {
	return daemon.Dial(daemon.DefaultPath(), name)
}
