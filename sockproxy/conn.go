package sockproxy

import (
	"encoding/json"
	"errors"
	"github.com/usnet/usnet/tcp"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ctlConn is the client's end of a socket's control descriptor: one
// request at a time, each answered.
type ctlConn struct {
	mu     sync.Mutex
	c      *net.UnixConn
	closed bool
}

// send writes req; the caller holds mu.
func (k *ctlConn) send(req Request) error {
	if k.closed {
		return net.ErrClosed
	}
	b, _ := json.Marshal(req)
	_, err := k.c.Write(b)
	return err
}

// recv reads the reply; the caller holds mu.
func (k *ctlConn) recv() (Reply, error) {
	buf := make([]byte, maxControl)
	n, err := k.c.Read(buf)
	if err != nil {
		return Reply{}, err
	}
	var r Reply
	if err := json.Unmarshal(buf[:n], &r); err != nil {
		return r, err
	}
	if r.Errno != 0 {
		return r, syscall.Errno(r.Errno)
	}
	return r, nil
}

// call sends req and waits for its reply.
func (k *ctlConn) call(req Request) (Reply, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.send(req); err != nil {
		return Reply{}, err
	}
	return k.recv()
}

func (k *ctlConn) close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return net.ErrClosed
	}
	k.closed = true
	return k.c.Close()
}

// sockErr is err from a control request as *net.TCPConn reports it.
func sockErr(op, network string, laddr, raddr net.Addr, sc string, err error) error {
	var en syscall.Errno
	if errors.As(err, &en) {
		err = os.NewSyscallError(sc, en)
	}
	return &net.OpError{Op: op, Net: network, Source: laddr, Addr: raddr, Err: err}
}

// TCPConn is a proxied TCP connection: the data flow through a unix
// stream whose addresses are the usnet connection's; the half closes,
// close and the socket options reach the usnet connection over the
// socket's control descriptor. It has the methods of *net.TCPConn, and
// usnet's getters and SetCongestion (TCP_CONGESTION).
type TCPConn struct {
	*net.UnixConn
	ctl          *ctlConn
	laddr, raddr net.Addr
	linger       atomic.Int32
	// eofChecked: Read asked, at the data stream's EOF, whether the usnet
	// connection failed (SO_ERROR); it asks once, as a kernel socket's
	// read reports a reset once and then returns EOF.
	eofChecked atomic.Bool
}

func newTCPConn(data, ctl *net.UnixConn, laddr, raddr net.Addr) *TCPConn {
	c := &TCPConn{UnixConn: data, ctl: &ctlConn{c: ctl}, laddr: laddr, raddr: raddr}
	c.linger.Store(-1)
	return c
}

// Read reads as from the kernel socket: a connection the peer reset or
// that timed out fails once with ECONNRESET or ETIMEDOUT, then reads EOF.
func (c *TCPConn) Read(p []byte) (int, error) {
	n, err := c.UnixConn.Read(p)
	if err == io.EOF && c.eofChecked.CompareAndSwap(false, true) {
		if r, gerr := c.getsockopt(optError); gerr == nil && r.Int != 0 {
			return n, &net.OpError{Op: "read", Net: "tcp", Source: c.laddr, Addr: c.raddr,
				Err: os.NewSyscallError("read", syscall.Errno(r.Int))}
		}
	}
	return n, err
}

func (c *TCPConn) LocalAddr() net.Addr  { return c.laddr }
func (c *TCPConn) RemoteAddr() net.Addr { return c.raddr }

func (c *TCPConn) setsockopt(req Request) error {
	req.Op = opSetsockopt
	if _, err := c.ctl.call(req); err != nil {
		return sockErr("set", "tcp", c.laddr, c.raddr, "setsockopt", err)
	}
	return nil
}

func (c *TCPConn) getsockopt(opt string) (Reply, error) {
	return c.ctl.call(Request{Op: opGetsockopt, Opt: opt})
}

// Close closes the connection as close(2) closes a kernel socket: FIN
// after the data written, RST with SetLinger(0) or when received data
// was left unread, and with a positive linger it waits, up to that many
// seconds, for the peer to acknowledge the data.
func (c *TCPConn) Close() error {
	if l := c.linger.Load(); l > 0 {
		c.ctl.mu.Lock()
		err := c.ctl.send(Request{Op: opClose})
		cerr := c.UnixConn.Close()
		if err == nil && cerr == nil {
			// The usnet socket's linger ends the wait; this bound only
			// guards against a daemon that went away.
			c.ctl.c.SetReadDeadline(time.Now().Add(time.Duration(l)*time.Second + 2*time.Second))
			c.ctl.recv()
		}
		c.ctl.mu.Unlock()
		c.ctl.close()
		return cerr
	}
	err := c.UnixConn.Close()
	c.ctl.close()
	return err
}

// CloseWrite shuts down the sending side (FIN after the data written).
func (c *TCPConn) CloseWrite() error {
	if _, err := c.ctl.call(Request{Op: opShutdown, Int: unix.SHUT_WR}); err != nil {
		return sockErr("close", "tcp", c.laddr, c.raddr, "shutdown", err)
	}
	return c.UnixConn.CloseWrite()
}

// CloseRead shuts down the receiving side (shutdown(SHUT_RD)): what
// arrived before can still be read, then Read returns io.EOF.
func (c *TCPConn) CloseRead() error {
	if _, err := c.ctl.call(Request{Op: opShutdown, Int: unix.SHUT_RD}); err != nil {
		return sockErr("close", "tcp", c.laddr, c.raddr, "shutdown", err)
	}
	return nil
}

// SetLinger sets SO_LINGER as *net.TCPConn does.
func (c *TCPConn) SetLinger(sec int) error {
	if err := c.setsockopt(Request{Opt: optLinger, Int: sec}); err != nil {
		return err
	}
	c.linger.Store(int32(max(sec, -1)))
	return nil
}

// SetNoDelay sets TCP_NODELAY.
func (c *TCPConn) SetNoDelay(on bool) error {
	return c.setsockopt(Request{Opt: optNoDelay, Int: b2i(on)})
}

// NoDelay reports TCP_NODELAY (false when it cannot be read).
func (c *TCPConn) NoDelay() bool {
	r, err := c.getsockopt(optNoDelay)
	return err == nil && r.Int != 0
}

// SetQuickAck sets TCP_QUICKACK.
func (c *TCPConn) SetQuickAck(on bool) error {
	return c.setsockopt(Request{Opt: optQuickAck, Int: b2i(on)})
}

// QuickAck reports TCP_QUICKACK (false when it cannot be read).
func (c *TCPConn) QuickAck() bool {
	r, err := c.getsockopt(optQuickAck)
	return err == nil && r.Int != 0
}

// SetKeepAlive sets SO_KEEPALIVE.
func (c *TCPConn) SetKeepAlive(on bool) error {
	return c.setsockopt(Request{Opt: optKeepAlive, Int: b2i(on)})
}

// SetKeepAlivePeriod sets TCP_KEEPIDLE and TCP_KEEPINTVL.
func (c *TCPConn) SetKeepAlivePeriod(d time.Duration) error {
	return c.setsockopt(Request{Opt: optKeepAlivePeriod, Int: int(d)})
}

// SetKeepAliveConfig configures keepalive as *net.TCPConn's does.
func (c *TCPConn) SetKeepAliveConfig(cfg net.KeepAliveConfig) error {
	return c.setsockopt(Request{Opt: optKeepAliveConfig, KeepAlive: &cfg})
}

// KeepAliveConfig returns the keepalive settings in force (the zero
// config when they cannot be read).
func (c *TCPConn) KeepAliveConfig() net.KeepAliveConfig {
	r, err := c.getsockopt(optKeepAliveConfig)
	if err != nil || r.KeepAlive == nil {
		return net.KeepAliveConfig{}
	}
	return *r.KeepAlive
}

// SetReadBuffer sets the usnet socket's SO_RCVBUF.
func (c *TCPConn) SetReadBuffer(n int) error {
	return c.setsockopt(Request{Opt: optRcvBuf, Int: n})
}

// SetWriteBuffer sets the usnet socket's SO_SNDBUF.
func (c *TCPConn) SetWriteBuffer(n int) error {
	return c.setsockopt(Request{Opt: optSndBuf, Int: n})
}

// SetCongestion selects the congestion control algorithm
// (TCP_CONGESTION); an unknown name is ENOENT.
func (c *TCPConn) SetCongestion(name string) error {
	return c.setsockopt(Request{Opt: optCongestion, Str: name})
}

// Congestion returns the congestion control algorithm ("" when it
// cannot be read).
func (c *TCPConn) Congestion() string {
	r, _ := c.getsockopt(optCongestion)
	return r.Str
}

// Info returns the usnet connection's TCP_INFO; the zero Info when the
// daemon cannot be asked (the socket is closed).
func (c *TCPConn) Info() tcp.Info {
	r, err := c.getsockopt(optInfo)
	if err != nil || r.Info == nil {
		return tcp.Info{}
	}
	return *r.Info
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Listener is a proxied TCP listener.
type Listener struct {
	c    *net.UnixConn
	addr net.Addr
}

// Accept waits for the daemon to pass the next connection.
func (l *Listener) Accept() (net.Conn, error) {
	r, fds, err := readReply(l.c)
	if err != nil {
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			err = net.ErrClosed
		}
		return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.addr, Err: err}
	}
	if err := replyErr("accept", "tcp", l.addr, r); err != nil {
		closeFDs(fds)
		return nil, err
	}
	data, ctl, err := sockets(fds)
	if err != nil {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.addr, Err: err}
	}
	return newTCPConn(data, ctl, tcpAddr(r.Laddr), tcpAddr(r.Raddr)), nil
}

func (l *Listener) Close() error   { return l.c.Close() }
func (l *Listener) Addr() net.Addr { return l.addr }

// SetDeadline sets the deadline of Accept, as *net.TCPListener's does.
func (l *Listener) SetDeadline(t time.Time) error { return l.c.SetReadDeadline(t) }

// PacketConn is a proxied datagram socket.
type PacketConn struct {
	*net.UnixConn
	ctl          *ctlConn
	laddr, raddr *net.UDPAddr
}

func newPacketConn(data, ctl *net.UnixConn, laddr, raddr *net.UDPAddr) *PacketConn {
	return &PacketConn{UnixConn: data, ctl: &ctlConn{c: ctl}, laddr: laddr, raddr: raddr}
}

func (c *PacketConn) LocalAddr() net.Addr { return c.laddr }

func (c *PacketConn) RemoteAddr() net.Addr {
	if c.raddr == nil {
		return nil
	}
	return c.raddr
}

// Close closes the socket.
func (c *PacketConn) Close() error {
	err := c.UnixConn.Close()
	c.ctl.close()
	return err
}

// SetReadBuffer sets the usnet socket's SO_RCVBUF.
func (c *PacketConn) SetReadBuffer(n int) error {
	if _, err := c.ctl.call(Request{Op: opSetsockopt, Opt: optRcvBuf, Int: n}); err != nil {
		return sockErr("set", "udp", c.laddr, c.RemoteAddr(), "setsockopt", err)
	}
	return nil
}

// SetWriteBuffer sets SO_SNDBUF.
func (c *PacketConn) SetWriteBuffer(n int) error {
	if _, err := c.ctl.call(Request{Op: opSetsockopt, Opt: optSndBuf, Int: n}); err != nil {
		return sockErr("set", "udp", c.laddr, c.RemoteAddr(), "setsockopt", err)
	}
	return nil
}

// ReadFrom returns the next datagram and its source.
func (c *PacketConn) ReadFrom(p []byte) (int, net.Addr, error) {
	n, from, _, err := c.ReadFromTTL(p)
	return n, from, err
}

// ReadFromTTL is ReadFrom that also returns the datagram's IP TTL, which
// the server reports for ping sockets (0: not known).
func (c *PacketConn) ReadFromTTL(p []byte) (int, net.Addr, int, error) {
	buf := make([]byte, addrHeader+len(p))
	n, err := c.UnixConn.Read(buf)
	if err != nil {
		return 0, nil, 0, err
	}
	if n < addrHeader {
		return 0, nil, 0, &net.OpError{Op: "read", Net: "udp", Err: net.ErrClosed}
	}
	return copy(p, buf[addrHeader:n]), net.UDPAddrFromAddrPort(getAddr(buf)), int(buf[6]), nil
}

// WriteTo sends p to addr.
func (c *PacketConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	ap := addrPortOf(addr)
	if !ap.IsValid() {
		if a, ok := addr.(*net.IPAddr); ok {
			ip, _ := netip.AddrFromSlice(a.IP)
			ap = netip.AddrPortFrom(ip.Unmap(), 0)
		}
	}
	return c.write(p, ap)
}

func (c *PacketConn) write(p []byte, to netip.AddrPort) (int, error) {
	if len(p) > maxDatagram {
		return 0, &net.OpError{Op: "write", Net: "udp", Err: os.NewSyscallError("sendto", syscall.EMSGSIZE)}
	}
	buf := make([]byte, addrHeader+len(p))
	putAddr(buf, to)
	copy(buf[addrHeader:], p)
	if _, err := c.UnixConn.Write(buf); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Read and Write serve a connected (dialed) socket.
func (c *PacketConn) Read(p []byte) (int, error) {
	n, _, err := c.ReadFrom(p)
	return n, err
}

func (c *PacketConn) Write(p []byte) (int, error) {
	return c.write(p, netip.AddrPortFrom(netip.IPv4Unspecified(), 0))
}
