package stack

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"

	"github.com/usnet/usnet/socket"
)

// This file is the per-namespace mirror of package net: Dial, Listen and
// ListenPacket with the same network names and address syntax, returning
// usnet sockets. They block, so they need a real-time stack.

// ParseAddrPort parses "host:port" where host is an IPv4 literal, empty
// (any address) or "localhost"; usnet resolves no names.
func ParseAddrPort(network, addr string) (netip.AddrPort, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return netip.AddrPort{}, &net.AddrError{Err: err.Error(), Addr: addr}
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return netip.AddrPort{}, &net.AddrError{Err: "invalid port", Addr: addr}
	}
	var ip netip.Addr
	switch host {
	case "":
		ip = netip.IPv4Unspecified()
	case "localhost":
		ip = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	default:
		ip, err = netip.ParseAddr(host)
		if err != nil || !ip.Unmap().Is4() {
			return netip.AddrPort{}, &net.AddrError{Err: "no such host (usnet resolves no names; IPv4 literals only)", Addr: host}
		}
	}
	return netip.AddrPortFrom(ip.Unmap(), uint16(p)), nil
}

// Dial connects to addr on the named network ("udp", "udp4", "tcp",
// "tcp4") from this namespace, like net.Dial: TCP connections start with
// Nagle off and keepalive on (15 s idle, 15 s between probes, 9 probes),
// as net.Dial's and net.Listen's do.
func (n *Namespace) Dial(network, addr string) (net.Conn, error) {
	return n.DialContext(context.Background(), network, addr)
}

// DialContext is Dial with a context bounding the connection set-up.
func (n *Namespace) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	ap, err := ParseAddrPort(network, addr)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	switch network {
	case "udp", "udp4":
		return socket.DialUDP(n.Exec(), n.UDP, netip.AddrPort{}, ap)
	case "tcp", "tcp4":
		if n.dialTCP == nil {
			return nil, &net.OpError{Op: "dial", Net: network, Err: net.UnknownNetworkError(network + " (no TCP in this build)")}
		}
		return n.dialTCP(ctx, ap)
	}
	return nil, &net.OpError{Op: "dial", Net: network, Err: net.UnknownNetworkError(network)}
}

// Listen announces on addr ("tcp", "tcp4"), like net.Listen.
func (n *Namespace) Listen(network, addr string) (net.Listener, error) {
	ap, err := ParseAddrPort(network, addr)
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: network, Err: err}
	}
	switch network {
	case "tcp", "tcp4":
		if n.listenTCP == nil {
			return nil, &net.OpError{Op: "listen", Net: network, Err: net.UnknownNetworkError(network + " (no TCP in this build)")}
		}
		return n.listenTCP(ap)
	}
	return nil, &net.OpError{Op: "listen", Net: network, Err: net.UnknownNetworkError(network)}
}

// ListenPacket opens a packet socket like net.ListenPacket: "udp"/"udp4"
// at addr, or "ip4:icmp" (an unprivileged ping socket; addr is ignored).
func (n *Namespace) ListenPacket(network, addr string) (net.PacketConn, error) {
	switch network {
	case "udp", "udp4":
		ap, err := ParseAddrPort(network, addr)
		if err != nil {
			return nil, &net.OpError{Op: "listen", Net: network, Err: err}
		}
		return socket.ListenUDP(n.Exec(), n.UDP, ap, false)
	case "ip4:icmp", "ip4:1", "udp4:icmp":
		return socket.ListenPing(n.Exec(), n.Ping)
	}
	return nil, &net.OpError{Op: "listen", Net: network, Err: fmt.Errorf("%w", net.UnknownNetworkError(network))}
}

// keepAliveListener turns keepalive on for every accepted connection, as
// net.Listen's listeners do (net.ListenConfig's default: 15 s idle, 15 s
// between probes, 9 probes).
type keepAliveListener struct{ *socket.TCPListener }

func (l keepAliveListener) Accept() (net.Conn, error) {
	c, err := l.TCPListener.Accept()
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*socket.TCPConn); ok {
		tc.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true})
	}
	return c, nil
}
