package socket

import (
	"net"
	"net/netip"
	"os"

	"github.com/usnet/usnet/executor"
	"github.com/usnet/usnet/udp"
)

// UDPConn is a UDP socket as a net.PacketConn and, when connected, a
// net.Conn.
type UDPConn struct {
	endpoint
	s *udp.Sock
}

var (
	_ net.PacketConn = (*UDPConn)(nil)
	_ net.Conn       = (*UDPConn)(nil)
)

// ListenUDP binds a UDP socket in the namespace whose UDP table is t
// (net.ListenPacket("udp", addr)).
func ListenUDP(exec executor.Executor, t *udp.Table, addr netip.AddrPort, reuse bool) (*UDPConn, error) {
	c := newUDPConn(exec, t)
	var err error
	exec.Do(func() {
		c.s.ReuseAddr, c.s.ReusePort = reuse, reuse
		err = c.s.Bind(addr)
	})
	if err != nil {
		return nil, opError("listen", "udp", nil, net.UDPAddrFromAddrPort(addr), "bind", err)
	}
	return c, nil
}

// DialUDP creates a connected UDP socket (net.Dial("udp", addr)).
func DialUDP(exec executor.Executor, t *udp.Table, laddr, raddr netip.AddrPort) (*UDPConn, error) {
	c := newUDPConn(exec, t)
	var err error
	exec.Do(func() {
		if laddr.IsValid() {
			if err = c.s.Bind(laddr); err != nil {
				return
			}
		}
		err = c.s.Connect(raddr)
	})
	if err != nil {
		return nil, opError("dial", "udp", nil, net.UDPAddrFromAddrPort(raddr), "connect", err)
	}
	return c, nil
}

func newUDPConn(exec executor.Executor, t *udp.Table) *UDPConn {
	c := &UDPConn{endpoint: newEndpoint(exec)}
	exec.Do(func() {
		c.s = t.NewSock()
		c.s.OnReadable = c.readable.raise
	})
	return c
}

// SetBroadcast sets SO_BROADCAST.
func (c *UDPConn) SetBroadcast(on bool) { c.exec.Do(func() { c.s.Broadcast = on }) }

// SetReadBuffer sets SO_RCVBUF (doubled, as the kernel does).
func (c *UDPConn) SetReadBuffer(n int) error {
	c.exec.Do(func() { c.s.RcvBuf = 2 * n })
	return nil
}

func (c *UDPConn) local() net.Addr {
	var a netip.AddrPort
	c.exec.Do(func() { a = c.s.Local })
	return net.UDPAddrFromAddrPort(a)
}

func (c *UDPConn) remote() net.Addr {
	var a netip.AddrPort
	c.exec.Do(func() { a = c.s.Remote })
	if !a.IsValid() {
		return nil
	}
	return net.UDPAddrFromAddrPort(a)
}

// ReadFromUDPAddrPort reads one datagram, blocking until one arrives, the
// read deadline passes or the socket closes.
func (c *UDPConn) ReadFromUDPAddrPort(p []byte) (n int, from netip.AddrPort, err error) {
	var rerr error
	err = c.waitRead(func() bool {
		d, e, ok := c.s.Recv()
		if ok && e == nil {
			n = copy(p, d.Buf.Bytes())
			from = d.From
			d.Buf.Free()
		}
		rerr = e
		return ok
	})
	if err == nil {
		err = rerr
	}
	return n, from, err
}

// ReadFrom implements net.PacketConn.
func (c *UDPConn) ReadFrom(p []byte) (int, net.Addr, error) {
	n, from, err := c.ReadFromUDPAddrPort(p)
	if err != nil {
		return n, nil, opError("read", "udp", c.local(), nil, "recvfrom", err)
	}
	return n, net.UDPAddrFromAddrPort(from), nil
}

// Read implements net.Conn.
func (c *UDPConn) Read(p []byte) (int, error) {
	n, _, err := c.ReadFromUDPAddrPort(p)
	if err != nil {
		return n, opError("read", "udp", c.local(), c.remote(), "read", err)
	}
	return n, nil
}

// WriteToUDPAddrPort sends one datagram. UDP never blocks on send here:
// the device queue drops what it cannot take, as a kernel socket with a
// full qdisc does.
func (c *UDPConn) WriteToUDPAddrPort(p []byte, to netip.AddrPort) (int, error) {
	if c.closed.Load() {
		return 0, net.ErrClosed
	}
	if c.wd.expired() {
		return 0, os.ErrDeadlineExceeded
	}
	var err error
	c.exec.Do(func() { err = c.s.SendTo(p, to) })
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

// WriteTo implements net.PacketConn.
func (c *UDPConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, opError("write", "udp", c.local(), addr, "", net.InvalidAddrError("not a UDP address"))
	}
	ap := ua.AddrPort()
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	n, err := c.WriteToUDPAddrPort(p, ap)
	if err != nil {
		return n, opError("write", "udp", c.local(), addr, "sendto", err)
	}
	return n, nil
}

// Write implements net.Conn.
func (c *UDPConn) Write(p []byte) (int, error) {
	n, err := c.WriteToUDPAddrPort(p, netip.AddrPort{})
	if err != nil {
		return n, opError("write", "udp", c.local(), c.remote(), "write", err)
	}
	return n, nil
}

// Close closes the socket; blocked reads return net.ErrClosed.
func (c *UDPConn) Close() error {
	if !c.markClosed() {
		return opError("close", "udp", nil, nil, "", net.ErrClosed)
	}
	c.exec.Do(c.s.Close)
	return nil
}

// LocalAddr returns the bound address.
func (c *UDPConn) LocalAddr() net.Addr { return c.local() }

// RemoteAddr returns the connected peer, or nil.
func (c *UDPConn) RemoteAddr() net.Addr { return c.remote() }
