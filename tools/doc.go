// Package tools holds the small network programs `usnet` ships (ping, nc,
// http, perf) written against a namespace's socket API, so they run the
// same on an in-process namespace (stack.Namespace) and on a daemon's
// namespace through the socket proxy (sockproxy.Client). perf is iperf3
// 3.12 as its users know it: its protocol (the stock iperf3 can be either
// end), its options and its text and JSON output.
package tools

import (
	"context"
	"net"
)

// Namespace is the socket API the tools need; stack.Namespace and
// sockproxy.Client provide it.
type Namespace interface {
	DialContext(ctx context.Context, network, addr string) (net.Conn, error)
	Listen(network, addr string) (net.Listener, error)
	ListenPacket(network, addr string) (net.PacketConn, error)
}
