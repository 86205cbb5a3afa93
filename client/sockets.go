package client

import (
	"context"
	"net"
)

// Dial connects from the namespace ("tcp", "tcp4", "udp", "udp4"), as
// net.Dial does from the host.
func (n *Namespace) Dial(network, addr string) (net.Conn, error) {
	return n.DialContext(context.Background(), network, addr)
}

// DialContext is Dial with a context bounding the connection attempt.
func (n *Namespace) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	s, err := n.c.sockets(n.name)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	return s.DialContext(ctx, network, addr)
}

// Listen announces a TCP listener in the namespace.
func (n *Namespace) Listen(network, addr string) (net.Listener, error) {
	s, err := n.c.sockets(n.name)
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: network, Err: err}
	}
	return s.Listen(network, addr)
}

// ListenPacket opens a UDP ("udp", "udp4") or ICMP echo ("ip4:icmp")
// socket in the namespace.
func (n *Namespace) ListenPacket(network, addr string) (net.PacketConn, error) {
	s, err := n.c.sockets(n.name)
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: network, Err: err}
	}
	return s.ListenPacket(network, addr)
}
