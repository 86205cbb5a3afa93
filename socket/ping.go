package socket

import (
	"net"
	"net/netip"
	"sync/atomic"

	"github.com/usnet/usnet/executor"
	"github.com/usnet/usnet/ping"
)

// PingConn is an ICMP echo socket (socket(AF_INET, SOCK_DGRAM,
// IPPROTO_ICMP)) as a net.PacketConn: WriteTo takes an ICMP echo request
// message, ReadFrom returns echo reply messages. Addresses are *net.UDPAddr
// with port 0, as golang.org/x/net/icmp uses for unprivileged ping.
type PingConn struct {
	endpoint
	s *ping.Sock
	// TTL of outgoing requests (0: the default).
	ttl atomic.Uint32
}

var _ net.PacketConn = (*PingConn)(nil)

// ListenPing opens a ping socket in the namespace whose ping table is t.
func ListenPing(exec executor.Executor, t *ping.Table) (*PingConn, error) {
	c := &PingConn{}
	c.init(exec)
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
func (c *PingConn) ReadFrom(p []byte) (n int, addr net.Addr, err error) {
	n, addr, _, err = c.ReadFromTTL(p)
	return n, addr, err
}

// ReadFromTTL is ReadFrom that also returns the TTL of the reply's IP
// header, which Linux hands a ping socket with IP_RECVTTL and iputils
// ping prints.
func (c *PingConn) ReadFromTTL(p []byte) (n int, addr net.Addr, ttl int, err error) {
	var from netip.Addr
	var rerr error
	err = c.waitRead(func() bool {
		r, e, ok := c.s.Recv()
		if ok && e == nil {
			n = copy(p, r.Buf.Bytes())
			from = r.From
			ttl = int(r.TTL)
			r.Buf.Free()
		}
		rerr = e
		return ok
	})
	if err == nil {
		err = rerr
	}
	if err != nil {
		return 0, nil, 0, opError("read", "ip4:icmp", nil, nil, "recvfrom", err)
	}
	return n, &net.UDPAddr{IP: from.AsSlice()}, ttl, nil
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
	if !c.markClosed() {
		return opError("close", "ip4:icmp", nil, nil, "", net.ErrClosed)
	}
	c.exec.Do(c.s.Close)
	return nil
}

// LocalAddr returns the wildcard address with the echo identifier as port.
func (c *PingConn) LocalAddr() net.Addr { return &net.UDPAddr{IP: net.IPv4zero, Port: int(c.s.ID)} }
