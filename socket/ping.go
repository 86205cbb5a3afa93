package socket

import (
	"net"
	"net/netip"
	"os"
	"sync/atomic"
	"time"

	"github.com/usnet/usnet/executor"
	"github.com/usnet/usnet/ping"
)

// PingConn is an ICMP echo socket (socket(AF_INET, SOCK_DGRAM,
// IPPROTO_ICMP)) as a net.PacketConn: WriteTo takes an ICMP echo request
// message, ReadFrom returns echo reply messages. Addresses are *net.UDPAddr
// with port 0, as golang.org/x/net/icmp uses for unprivileged ping.
type PingConn struct {
	exec     executor.Executor
	s        *ping.Sock
	readable signal
	rd, wd   *deadline
	closed   atomic.Bool
	closeCh  chan struct{}
	// TTL of outgoing requests (0: the default).
	ttl atomic.Uint32
}

var _ net.PacketConn = (*PingConn)(nil)

// ListenPing opens a ping socket in the namespace whose ping table is t.
func ListenPing(exec executor.Executor, t *ping.Table) (*PingConn, error) {
	c := &PingConn{exec: exec, readable: newSignal(), rd: newDeadline(), wd: newDeadline(), closeCh: make(chan struct{})}
	var err error
	exec.Do(func() {
		c.s, err = t.NewSock(0)
		if err == nil {
			c.s.OnReadable = c.readable.raise
		}
	})
	if err != nil {
		return nil, opError("listen", "ip4:icmp", nil, nil, "bind", err)
	}
	return c, nil
}

// SetTTL sets the TTL of outgoing requests.
func (c *PingConn) SetTTL(ttl int) { c.ttl.Store(uint32(ttl)) }

// ID returns the echo identifier the socket uses.
func (c *PingConn) ID() uint16 { return c.s.ID }

// ReadFrom returns the next echo reply message (ICMP header included).
func (c *PingConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		if c.closed.Load() {
			return 0, nil, opError("read", "ip4:icmp", nil, nil, "", net.ErrClosed)
		}
		var n int
		var from netip.Addr
		var err error
		var ok bool
		c.exec.Do(func() {
			var r ping.Reply
			r, err, ok = c.s.Recv()
			if ok && err == nil {
				n = copy(p, r.Buf.Bytes())
				from = r.From
				r.Buf.Free()
			}
		})
		if ok {
			if err != nil {
				return 0, nil, opError("read", "ip4:icmp", nil, nil, "recvfrom", err)
			}
			return n, &net.UDPAddr{IP: from.AsSlice()}, nil
		}
		if c.rd.expired() {
			return 0, nil, opError("read", "ip4:icmp", nil, nil, "", os.ErrDeadlineExceeded)
		}
		select {
		case <-c.readable:
		case <-c.rd.done():
		case <-c.closeCh:
		}
	}
}

// WriteTo sends an echo request message to addr (*net.UDPAddr or *net.IPAddr).
func (c *PingConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	var ip net.IP
	switch a := addr.(type) {
	case *net.UDPAddr:
		ip = a.IP
	case *net.IPAddr:
		ip = a.IP
	default:
		return 0, opError("write", "ip4:icmp", nil, addr, "", net.InvalidAddrError("not an IP address"))
	}
	dst, ok := netip.AddrFromSlice(ip)
	if !ok {
		return 0, opError("write", "ip4:icmp", nil, addr, "", net.InvalidAddrError("bad address"))
	}
	if c.closed.Load() {
		return 0, opError("write", "ip4:icmp", nil, addr, "", net.ErrClosed)
	}
	var err error
	c.exec.Do(func() { err = c.s.SendMsg(p, dst.Unmap(), uint8(c.ttl.Load())) })
	if err != nil {
		return 0, opError("write", "ip4:icmp", nil, addr, "sendto", err)
	}
	return len(p), nil
}

// Close closes the socket.
func (c *PingConn) Close() error {
	if c.closed.Swap(true) {
		return opError("close", "ip4:icmp", nil, nil, "", net.ErrClosed)
	}
	close(c.closeCh)
	c.exec.Do(c.s.Close)
	return nil
}

// LocalAddr returns the wildcard address with the echo identifier as port.
func (c *PingConn) LocalAddr() net.Addr { return &net.UDPAddr{IP: net.IPv4zero, Port: int(c.s.ID)} }

// SetDeadline sets both deadlines.
func (c *PingConn) SetDeadline(t time.Time) error { c.rd.set(t); c.wd.set(t); return nil }

// SetReadDeadline sets the read deadline.
func (c *PingConn) SetReadDeadline(t time.Time) error { c.rd.set(t); return nil }

// SetWriteDeadline sets the write deadline.
func (c *PingConn) SetWriteDeadline(t time.Time) error { c.wd.set(t); return nil }
