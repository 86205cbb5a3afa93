package socket

import (
	"context"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/usnet/usnet/executor"
	"github.com/usnet/usnet/tcp"
)

// TCPConn is a TCP connection as a net.Conn, with the extra methods of
// *net.TCPConn that usnet supports.
type TCPConn struct {
	endpoint
	c      *tcp.Conn
	la, ra netip.AddrPort
	// idle is set on the executor when a Read would find nothing, and
	// cleared there before readable is raised: Read then waits for the
	// signal instead of asking the executor first.
	idle atomic.Bool
	// The net.Addr forms are made when first asked for (errors,
	// LocalAddr): most connections never need them.
	addrOnce     sync.Once
	laddr, raddr *net.TCPAddr
	linger       atomic.Int32 // SO_LINGER seconds, -1: off

	// While DialTCP waits, the connection's callbacks tell on the
	// executor whether the handshake has ended, and hand DialTCP the
	// outcome: dialErr, then dialed. DialTCP reads them without entering
	// the executor again.
	dialing bool // executor only
	dialErr error
	dialed  atomic.Bool

	// Reads take turns (as the net package's do) and share one recv
	// call, so that a Read allocates nothing.
	rmu  sync.Mutex
	recv recvCall

	closeT executor.Timer // runs the default Close on the executor, kicked
}

// recvCall is a Read's executor call: its arguments and results, and the
// function value (made once) that Do runs.
type recvCall struct {
	tc    *TCPConn
	p     []byte
	n     int
	eof   bool
	err   error
	got   bool
	runFn func()
}

func (r *recvCall) run() {
	c := r.tc.c
	r.n, r.eof, r.err = c.Recv(r.p)
	r.tc.idle.Store(!c.Readable())
	r.got = r.n > 0 || r.eof || r.err != nil
}

var _ net.Conn = (*TCPConn)(nil)

func newTCPConn(exec executor.Executor, c *tcp.Conn) *TCPConn {
	tc := &TCPConn{c: c, la: c.LocalAddr(), ra: c.RemoteAddr()}
	tc.init(exec)
	tc.writable = newSignal()
	tc.linger.Store(-1)
	// Go's net package turns Nagle off on every TCP connection it makes
	// (dialed or accepted); SetNoDelay(false) turns it back on.
	c.NoDelay = true
	c.OnReadable = tc.onReadable
	c.OnWritable = tc.onWritable
	tc.idle.Store(!c.Readable())
	exec.InitTimer(&tc.closeT, c.Close)
	return tc
}

// onReadable and onWritable are the connection's callbacks, on the
// executor.
func (tc *TCPConn) onReadable() {
	tc.idle.Store(false)
	if tc.dialing {
		tc.dialCheck()
	}
	tc.readable.raise()
}

func (tc *TCPConn) onWritable() {
	if tc.dialing {
		tc.dialCheck()
	}
	tc.writable.raise()
}

// dialCheck, on the executor, ends the dial once the handshake has ended
// either way, and wakes DialTCP.
func (tc *TCPConn) dialCheck() {
	c := tc.c
	if !c.Established() && c.Err() == nil && c.State() != tcp.Closed {
		return
	}
	tc.dialing = false
	tc.dialErr = c.Err()
	tc.idle.Store(!c.Readable())
	tc.dialed.Store(true)
	tc.writable.raise()
}

// DialTCP connects from laddr (zero: any) to raddr in the namespace whose
// TCP table is t, waiting for the handshake or ctx.
//
// The goroutine enters the executor once, to send the SYN; the
// connection's callbacks, which every transition out of SYN-SENT runs,
// tell it the outcome.
func DialTCP(ctx context.Context, exec executor.Executor, t *tcp.Table, laddr, raddr netip.AddrPort) (*TCPConn, error) {
	var err error
	var tc *TCPConn
	exec.Do(func() {
		var c *tcp.Conn
		if c, err = t.Connect(laddr, raddr); err == nil {
			tc = newTCPConn(exec, c)
			tc.dialing = true
			// Connect may have ended the attempt before the callbacks
			// were installed.
			tc.dialCheck()
		}
	})
	if err != nil {
		return nil, opError("dial", "tcp", nil, net.TCPAddrFromAddrPort(raddr), "connect", err)
	}
	if tc == nil {
		return nil, opError("dial", "tcp", nil, net.TCPAddrFromAddrPort(raddr), "", net.ErrClosed)
	}
	for !tc.dialed.Load() {
		select {
		case <-tc.writable:
		case <-ctx.Done():
			exec.Do(tc.c.Abort)
			return nil, opError("dial", "tcp", nil, tc.RemoteAddr(), "", ctx.Err())
		}
	}
	if tc.dialErr != nil {
		return nil, opError("dial", "tcp", nil, tc.RemoteAddr(), "connect", tc.dialErr)
	}
	return tc, nil
}

// Read reads received bytes; io.EOF after the peer's FIN.
func (tc *TCPConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	tc.rmu.Lock()
	r := &tc.recv
	if r.runFn == nil {
		r.tc, r.runFn = tc, r.run
	}
	r.p = p
	err := tc.waitFor(r.runFn, &r.got, &tc.idle)
	n, eof, rerr := r.n, r.eof, r.err
	r.p, r.err = nil, nil
	tc.rmu.Unlock()
	if err != nil {
		return 0, opError("read", "tcp", tc.LocalAddr(), tc.RemoteAddr(), "", err)
	}
	if rerr != nil {
		return 0, opError("read", "tcp", tc.LocalAddr(), tc.RemoteAddr(), "read", rerr)
	}
	if eof {
		return 0, io.EOF
	}
	return n, nil
}

// Write queues all of p, waiting while the send buffer is full.
func (tc *TCPConn) Write(p []byte) (int, error) {
	written := 0
	for written < len(p) {
		if tc.closed.Load() {
			return written, opError("write", "tcp", tc.LocalAddr(), tc.RemoteAddr(), "", net.ErrClosed)
		}
		var n int
		var werr error
		tc.exec.Do(func() { n, werr = tc.c.Send(p[written:]) })
		written += n
		if werr != nil {
			return written, opError("write", "tcp", tc.LocalAddr(), tc.RemoteAddr(), "write", werr)
		}
		if written == len(p) {
			break
		}
		// Send took less than asked: the buffer is full and the
		// connection will signal when a third of it is free
		// (sk_stream_wait_memory); asking again before would only find
		// it full.
		if tc.wd.expired() {
			return written, opError("write", "tcp", tc.LocalAddr(), tc.RemoteAddr(), "", os.ErrDeadlineExceeded)
		}
		select {
		case <-tc.writable:
		case <-tc.wd.done():
		case <-tc.closeCh:
		}
	}
	return written, nil
}

// Close closes the connection: FIN after the queued data, or RST when
// received data was left unread (as Linux does). With SetLinger(0) it
// resets; with a positive linger it waits, up to that many seconds, until
// the queued data and the FIN are acknowledged, then returns nil either
// way, the connection finishing in the background (tcp_close's
// sk_stream_wait_close; Linux blocks even for a non-blocking socket).
func (tc *TCPConn) Close() error {
	if !tc.markClosed() {
		return opError("close", "tcp", tc.LocalAddr(), tc.RemoteAddr(), "", net.ErrClosed)
	}
	switch l := tc.linger.Load(); {
	case l == 0:
		tc.exec.Do(tc.c.Abort)
	case l > 0:
		timeout := time.Duration(l) * time.Second
		done := make(chan struct{})
		tc.exec.Do(func() { tc.c.CloseLinger(timeout, func(bool) { close(done) }) })
		// The executor's timer ends the wait; the real-time bound only
		// guards against a namespace torn down under the wait.
		t := time.NewTimer(timeout + time.Second)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
		}
	default:
		// Nothing waits for the FIN (close(2) returns at once too), so
		// the goroutine does not wait for the executor either: later
		// calls from this goroutine queue behind the close.
		tc.exec.Kick(&tc.closeT)
	}
	return nil
}

// CloseWrite shuts down the sending side (FIN).
func (tc *TCPConn) CloseWrite() error {
	if tc.closed.Load() {
		return opError("close", "tcp", tc.LocalAddr(), tc.RemoteAddr(), "", net.ErrClosed)
	}
	tc.exec.Do(tc.c.CloseWrite)
	return nil
}

// CloseRead shuts down the receiving side (shutdown(SHUT_RD)) as Linux
// does: nothing is sent, queued and later data can still be read, and
// Read returns io.EOF instead of waiting when nothing is queued. With the
// sending side shut down too, data from the peer resets the connection.
func (tc *TCPConn) CloseRead() error {
	if tc.closed.Load() {
		return opError("close", "tcp", tc.LocalAddr(), tc.RemoteAddr(), "", net.ErrClosed)
	}
	var err error
	tc.exec.Do(func() { err = tc.c.CloseRead() })
	if err != nil {
		return opError("close", "tcp", tc.LocalAddr(), tc.RemoteAddr(), "shutdown", err)
	}
	return nil
}

// SetCongestion selects the connection's congestion control algorithm
// by name ("cubic", "reno"), as setsockopt TCP_CONGESTION does; an
// unknown name is ENOENT. The namespace's default is
// tcp.Table.Sysctl.CongestionControl (net.ipv4.tcp_congestion_control).
func (tc *TCPConn) SetCongestion(name string) error {
	var err error
	tc.exec.Do(func() { err = tc.c.SetCongestion(name) })
	if err != nil {
		return opError("setsockopt", "tcp", tc.LocalAddr(), tc.RemoteAddr(), "setsockopt", err)
	}
	return nil
}

// Congestion returns the connection's congestion control algorithm
// (getsockopt TCP_CONGESTION).
func (tc *TCPConn) Congestion() string {
	var name string
	tc.exec.Do(func() { name = tc.c.Congestion() })
	return name
}

// SetNoDelay turns Nagle's algorithm off (true, the default of Go's net
// package) or on.
func (tc *TCPConn) SetNoDelay(on bool) error {
	tc.exec.Do(func() { tc.c.NoDelay = on })
	return nil
}

// NoDelay reports whether Nagle's algorithm is off (getsockopt
// TCP_NODELAY).
func (tc *TCPConn) NoDelay() bool {
	var on bool
	tc.exec.Do(func() { on = tc.c.NoDelay })
	return on
}

// SetQuickAck sets TCP_QUICKACK: off makes the connection interactive,
// delaying ACKs for replies to carry; on leaves that mode and sends an
// ACK still owed if the reader has drained what arrived. Like Linux's,
// the setting is not sticky: replies sent soon after data arrives make
// the connection interactive again.
func (tc *TCPConn) SetQuickAck(on bool) error {
	tc.exec.Do(func() { tc.c.SetQuickAck(on) })
	return nil
}

// QuickAck reports getsockopt TCP_QUICKACK: whether the connection is
// out of interactive (pingpong) mode.
func (tc *TCPConn) QuickAck() bool {
	var on bool
	tc.exec.Do(func() { on = tc.c.QuickAck() })
	return on
}

// SetLinger sets SO_LINGER as *net.TCPConn does: sec < 0 is the default
// (Close returns at once, the queued data and FIN go out in the
// background), 0 makes Close reset the connection, sec > 0 makes Close
// wait up to sec seconds for the queued data to be acknowledged.
func (tc *TCPConn) SetLinger(sec int) error {
	tc.linger.Store(int32(max(sec, -1)))
	return nil
}

// SetKeepAlive sets SO_KEEPALIVE.
func (tc *TCPConn) SetKeepAlive(on bool) error {
	tc.exec.Do(func() { tc.c.SetKeepAlive(on) })
	return nil
}

// SetKeepAlivePeriod sets TCP_KEEPIDLE and TCP_KEEPINTVL to d, as the net
// package does (whole seconds, at least one).
func (tc *TCPConn) SetKeepAlivePeriod(d time.Duration) error {
	d = max(d.Round(time.Second), time.Second)
	tc.exec.Do(func() { tc.c.SetKeepAliveParams(d, d, 0) })
	return nil
}

// SetKeepAliveConfig configures keepalive as *net.TCPConn's does: a zero
// Idle or Interval is 15 s and a zero Count 9 (the net package's
// defaults), a negative one leaves the setting as it is, durations are
// whole seconds, at least one.
func (tc *TCPConn) SetKeepAliveConfig(cfg net.KeepAliveConfig) error {
	secs := func(d, cur time.Duration) time.Duration {
		switch {
		case d < 0:
			return cur
		case d == 0:
			return 15 * time.Second
		}
		return max(d.Round(time.Second), time.Second)
	}
	tc.exec.Do(func() {
		idle, intvl, cnt := tc.c.KeepAliveParams()
		switch {
		case cfg.Count == 0:
			cnt = 9
		case cfg.Count > 0:
			cnt = cfg.Count
		}
		tc.c.SetKeepAliveParams(secs(cfg.Idle, idle), secs(cfg.Interval, intvl), cnt)
		tc.c.SetKeepAlive(cfg.Enable)
	})
	return nil
}

// KeepAliveConfig returns the keepalive settings in force (getsockopt
// SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT).
func (tc *TCPConn) KeepAliveConfig() net.KeepAliveConfig {
	var k net.KeepAliveConfig
	tc.exec.Do(func() {
		k.Enable = tc.c.KeepAlive()
		k.Idle, k.Interval, k.Count = tc.c.KeepAliveParams()
	})
	return k
}

// SetReadBuffer sets SO_RCVBUF (doubled, as the kernel does).
func (tc *TCPConn) SetReadBuffer(n int) error {
	tc.exec.Do(func() { tc.c.SetRecvBuffer(n) })
	return nil
}

// SetWriteBuffer sets SO_SNDBUF (doubled, as the kernel does).
func (tc *TCPConn) SetWriteBuffer(n int) error {
	tc.exec.Do(func() { tc.c.SetSendBuffer(n) })
	return nil
}

// SetOOBInline sets SO_OOBINLINE: urgent bytes stay in the stream.
// Without it (the default, as in Linux) Read skips them and ReadOOB
// returns the latest one.
func (tc *TCPConn) SetOOBInline(on bool) error {
	tc.exec.Do(func() { tc.c.SetOOBInline(on) })
	return nil
}

// ReadOOB reads the urgent byte (recv with MSG_OOB); it never blocks:
// EAGAIN before the byte arrives, EINVAL when there is none.
func (tc *TCPConn) ReadOOB() (byte, error) {
	var b byte
	var err error
	tc.exec.Do(func() { b, err = tc.c.RecvOOB() })
	if err != nil {
		return 0, opError("read", "tcp", tc.LocalAddr(), tc.RemoteAddr(), "recvmsg", err)
	}
	return b, nil
}

// WriteOOB sends p with its last byte urgent (send with MSG_OOB).
func (tc *TCPConn) WriteOOB(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if len(p) > 1 {
		if n, err := tc.Write(p[:len(p)-1]); err != nil {
			return n, err
		}
	}
	last := p[len(p)-1:]
	for {
		if tc.closed.Load() {
			return len(p) - 1, opError("write", "tcp", tc.LocalAddr(), tc.RemoteAddr(), "", net.ErrClosed)
		}
		var n int
		var err error
		tc.exec.Do(func() { n, err = tc.c.SendOOB(last) })
		if err != nil {
			return len(p) - 1, opError("write", "tcp", tc.LocalAddr(), tc.RemoteAddr(), "sendmsg", err)
		}
		if n > 0 {
			return len(p), nil
		}
		if tc.wd.expired() {
			return len(p) - 1, opError("write", "tcp", tc.LocalAddr(), tc.RemoteAddr(), "", os.ErrDeadlineExceeded)
		}
		select {
		case <-tc.writable:
		case <-tc.wd.done():
		case <-tc.closeCh:
		}
	}
}

// Info returns the connection's TCP_INFO-like statistics.
func (tc *TCPConn) Info() tcp.Info {
	var i tcp.Info
	tc.exec.Do(func() { i = tc.c.TCPInfo() })
	return i
}

func (tc *TCPConn) LocalAddr() net.Addr  { tc.makeAddrs(); return tc.laddr }
func (tc *TCPConn) RemoteAddr() net.Addr { tc.makeAddrs(); return tc.raddr }

func (tc *TCPConn) makeAddrs() {
	tc.addrOnce.Do(func() {
		tc.laddr = net.TCPAddrFromAddrPort(tc.la)
		tc.raddr = net.TCPAddrFromAddrPort(tc.ra)
	})
}

// TCPListener is a listening socket as a net.Listener.
//
// Connections do not wait in the tcp.Listener's accept queue for Accept
// to fetch them with an executor call: as each becomes ready, the
// listener's callback wraps it on the executor and moves it to ready,
// which Accept reads under a lock. Those connections still count against
// the backlog (tcp.Listener.Waiting) until Accept takes them.
type TCPListener struct {
	endpoint
	l    *tcp.Listener
	addr *net.TCPAddr

	mu      sync.Mutex
	ready   []*TCPConn // ready[head:] wait for Accept, oldest first
	head    int
	waiting atomic.Int32 // len(ready) - head, for the backlog on the executor
	gone    atomic.Bool  // the tcp.Listener was closed under the socket (namespace deleted)
}

// ListenTCP listens on laddr in the namespace whose TCP table is t.
func ListenTCP(exec executor.Executor, t *tcp.Table, laddr netip.AddrPort, backlog int) (*TCPListener, error) {
	tl := &TCPListener{}
	tl.init(exec)
	var err error
	exec.Do(func() {
		tl.l, err = t.Listen(laddr, backlog)
		if err == nil {
			tl.l.OnAcceptable = tl.onAcceptable
			tl.l.Waiting = tl.numWaiting
			tl.addr = net.TCPAddrFromAddrPort(tl.l.Addr())
		}
	})
	if err != nil {
		return nil, opError("listen", "tcp", nil, net.TCPAddrFromAddrPort(laddr), "bind", err)
	}
	return tl, nil
}

func (tl *TCPListener) numWaiting() int { return int(tl.waiting.Load()) }

// onAcceptable, on the executor, moves the connections ready to accept
// to ready and wakes Accept.
func (tl *TCPListener) onAcceptable() {
	for c := tl.l.Accept(); c != nil; c = tl.l.Accept() {
		tc := newTCPConn(tl.exec, c)
		tl.mu.Lock()
		tl.ready = append(tl.ready, tc)
		tl.waiting.Add(1)
		tl.mu.Unlock()
	}
	if tl.l.Pending() {
		tl.gone.Store(true) // nothing is queued, so the listener is closed
	}
	tl.readable.raise()
}

// take pops the oldest ready connection, or returns nil.
func (tl *TCPListener) take() *TCPConn {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	if tl.head == len(tl.ready) {
		return nil
	}
	tc := tl.ready[tl.head]
	tl.ready[tl.head] = nil
	if tl.head++; tl.head == len(tl.ready) {
		tl.ready, tl.head = tl.ready[:0], 0
	}
	tl.waiting.Add(-1)
	return tc
}

// Accept waits for the next connection.
func (tl *TCPListener) Accept() (net.Conn, error) {
	for {
		if tl.closed.Load() || tl.gone.Load() {
			return nil, opError("accept", "tcp", nil, tl.addr, "", net.ErrClosed)
		}
		if tc := tl.take(); tc != nil {
			return tc, nil
		}
		if tl.rd.expired() {
			return nil, opError("accept", "tcp", nil, tl.addr, "", os.ErrDeadlineExceeded)
		}
		select {
		case <-tl.readable:
		case <-tl.rd.done():
		case <-tl.closeCh:
		}
	}
}

// Close stops listening; connections not accepted yet are reset, as
// Linux resets those left in the accept queue.
func (tl *TCPListener) Close() error {
	if !tl.markClosed() {
		return opError("close", "tcp", nil, tl.addr, "", net.ErrClosed)
	}
	tl.exec.Do(func() {
		tl.l.Close()
		for tc := tl.take(); tc != nil; tc = tl.take() {
			tc.markClosed()
			tc.c.Abort()
		}
	})
	return nil
}

// Addr is the listening address.
func (tl *TCPListener) Addr() net.Addr { return tl.addr }
