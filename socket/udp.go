package socket

import (
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"

	"github.com/usnet/usnet/executor"
	"github.com/usnet/usnet/udp"
)

// UDPConn is a UDP socket as a net.PacketConn and, when connected, a
// net.Conn.
type UDPConn struct {
	endpoint
	s *udp.Sock

	// The receive queue the executor fills (udp.Sock.OnQueue) and readers
	// drain under rmu, with no call onto the executor per datagram.
	rmu      sync.Mutex
	rq       []udp.Datagram
	rqHead   int
	consumed int // truesize read and not yet returned to the socket
	// released is truesize read and handed to releaseT, which returns it
	// to the socket on the executor: in quarters of the receive buffer,
	// or when the queue is empty (udp_rmem_release's forward deficit).
	released  atomic.Int64
	releaseT  *executor.Timer
	threshold atomic.Int64 // a quarter of SO_RCVBUF
	// errPending is set on the executor when an ICMP error is recorded:
	// the next read asks the socket, which reports it before any datagram.
	errPending atomic.Bool
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
	c := &UDPConn{}
	c.init(exec)
	exec.Do(func() {
		c.s = t.NewSock()
		c.s.OnReadable = c.readable.raise
		c.s.OnQueue = c.enqueue
		c.s.OnError = func() { c.errPending.Store(true) }
		c.releaseT = exec.NewTimer(c.release)
		c.threshold.Store(int64(c.s.RcvBuf / 4))
	})
	return c
}

// SetBroadcast sets SO_BROADCAST.
func (c *UDPConn) SetBroadcast(on bool) { c.exec.Do(func() { c.s.Broadcast = on }) }

// SetReadBuffer sets SO_RCVBUF (doubled, as the kernel does).
func (c *UDPConn) SetReadBuffer(n int) error {
	c.exec.Do(func() { c.s.RcvBuf = 2 * n })
	c.threshold.Store(int64(2 * n / 4))
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
	for {
		if c.closed.Load() {
			return 0, from, net.ErrClosed
		}
		if c.errPending.Load() {
			c.exec.Do(func() {
				c.errPending.Store(false)
				err = c.s.TakeErr()
			})
			if err != nil {
				return 0, from, err
			}
		}
		c.rmu.Lock()
		n, from, ok := c.pop(p)
		c.rmu.Unlock()
		if ok {
			return n, from, nil
		}
		if c.rd.expired() {
			return 0, from, os.ErrDeadlineExceeded
		}
		select {
		case <-c.readable:
		case <-c.rd.done():
		case <-c.closeCh:
		}
	}
}

// enqueue takes a datagram from the socket on the executor.
func (c *UDPConn) enqueue(d udp.Datagram) {
	c.rmu.Lock()
	if c.rqHead > 0 && c.rqHead >= len(c.rq)/2 {
		// Slide the unread part down so the queue reuses its array.
		n := copy(c.rq, c.rq[c.rqHead:])
		clear(c.rq[n:])
		c.rq, c.rqHead = c.rq[:n], 0
	}
	c.rq = append(c.rq, d)
	c.rmu.Unlock()
	c.readable.raise()
}

// pop reads the next queued datagram into p; rmu is held.
func (c *UDPConn) pop(p []byte) (n int, from netip.AddrPort, ok bool) {
	if c.rqHead == len(c.rq) {
		return 0, from, false
	}
	d := c.rq[c.rqHead]
	c.rq[c.rqHead] = udp.Datagram{}
	c.rqHead++
	n = copy(p, d.Buf.Bytes())
	c.consumed += d.Buf.Truesize()
	d.Buf.Free()
	if c.rqHead == len(c.rq) || int64(c.consumed) >= c.threshold.Load() {
		c.released.Add(int64(c.consumed))
		c.consumed = 0
		c.exec.Kick(c.releaseT)
	}
	return n, d.From, true
}

// release returns read datagrams' truesize to the socket; it runs on the
// executor.
func (c *UDPConn) release() { c.s.Uncharge(int(c.released.Swap(0))) }

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
	c.rmu.Lock()
	for _, d := range c.rq[c.rqHead:] {
		d.Buf.Free()
	}
	c.rq, c.rqHead = nil, 0
	c.rmu.Unlock()
	return nil
}

// LocalAddr returns the bound address.
func (c *UDPConn) LocalAddr() net.Addr { return c.local() }

// RemoteAddr returns the connected peer, or nil.
func (c *UDPConn) RemoteAddr() net.Addr { return c.remote() }
