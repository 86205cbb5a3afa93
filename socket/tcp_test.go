package socket_test

import (
	"context"
	"errors"
	"github.com/usnet/usnet/stack/stacktest"
	"io"
	"net"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/usnet/usnet/socket"
	"github.com/usnet/usnet/stack"
	"github.com/usnet/usnet/tcp"
)

var (
	tcpA = netip.MustParseAddr("10.7.0.1")
	tcpB = netip.MustParseAddr("10.7.0.2")
)

// tcpPair is two real-time namespaces joined by a veth.
func tcpPair(t *testing.T) (a, b *stack.Namespace) { return tcpPairB(t) }

func tcpPairB(t testing.TB) (a, b *stack.Namespace) {
	return stacktest.Pair(t, "ta", "tb", tcpA, tcpB)
}

func dialAccept(t *testing.T, a, b *stack.Namespace, port uint16) (*socket.TCPConn, *socket.TCPConn, *socket.TCPListener) {
	t.Helper()
	l, err := socket.ListenTCP(b.Exec(), b.TCP, netip.AddrPortFrom(tcpB, port), 16)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	acc := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			t.Error(err)
		}
		acc <- c
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := socket.DialTCP(ctx, a.Exec(), a.TCP, netip.AddrPort{}, netip.AddrPortFrom(tcpB, port))
	if err != nil {
		t.Fatal(err)
	}
	s := <-acc
	if s == nil {
		t.FailNow()
	}
	return c, s.(*socket.TCPConn), l
}

func TestTCPConnEchoAndCloseWrite(t *testing.T) {
	a, b := tcpPair(t)
	c, s, _ := dialAccept(t, a, b, 7)
	defer c.Close()
	defer s.Close()
	if c.RemoteAddr().String() != "10.7.0.2:7" || s.LocalAddr().String() != "10.7.0.2:7" {
		t.Fatalf("addrs %v %v", c.RemoteAddr(), s.LocalAddr())
	}
	// Echo server: copy until EOF, then close its side.
	done := make(chan error, 1)
	go func() {
		_, err := io.Copy(s, s)
		s.CloseWrite()
		done <- err
	}()
	msg := make([]byte, 3<<20)
	for i := range msg {
		msg[i] = byte(i * 7)
	}
	go func() {
		c.Write(msg)
		c.CloseWrite()
	}()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(msg) {
		t.Fatalf("echo: %d bytes, want %d", len(got), len(msg))
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestTCPRefused(t *testing.T) {
	a, _ := tcpPair(t)
	_, err := socket.DialTCP(context.Background(), a.Exec(), a.TCP, netip.AddrPort{}, netip.AddrPortFrom(tcpB, 9))
	var oe *net.OpError
	if !errors.As(err, &oe) || oe.Op != "dial" || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("got %v, want dial ... connection refused", err)
	}
}

func TestTCPReadDeadline(t *testing.T) {
	a, b := tcpPair(t)
	c, s, _ := dialAccept(t, a, b, 8)
	defer c.Close()
	defer s.Close()
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	_, err := c.Read(make([]byte, 10))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatal("not a timeout net.Error")
	}
	c.SetReadDeadline(time.Time{})
	s.Write([]byte("x"))
	if n, err := c.Read(make([]byte, 10)); n != 1 || err != nil {
		t.Fatalf("read after clearing the deadline: %d %v", n, err)
	}
}

func TestTCPReadAfterReset(t *testing.T) {
	a, b := tcpPair(t)
	c, s, _ := dialAccept(t, a, b, 10)
	defer c.Close()
	s.SetLinger(0)
	s.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := c.Read(make([]byte, 10))
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("got %v, want connection reset", err)
	}
	if _, err := s.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read on closed conn: %v", err)
	}
}

func TestTCPCloseUnblocksRead(t *testing.T) {
	a, b := tcpPair(t)
	c, s, _ := dialAccept(t, a, b, 11)
	defer s.Close()
	errc := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 10))
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	c.Close()
	if err := <-errc; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("got %v", err)
	}
}

func TestTCPListenerClose(t *testing.T) {
	a, b := tcpPair(t)
	_ = a
	l, err := socket.ListenTCP(b.Exec(), b.TCP, netip.AddrPortFrom(tcpB, 12), 4)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := socket.ListenTCP(b.Exec(), b.TCP, netip.AddrPortFrom(tcpB, 12), 4); !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("second listen: %v", err)
	}
	errc := make(chan error, 1)
	go func() { _, err := l.Accept(); errc <- err }()
	time.Sleep(10 * time.Millisecond)
	l.Close()
	if err := <-errc; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("accept after close: %v", err)
	}
}

// BenchmarkTCPConnRealtime is bulk throughput through the net.Conn API
// between two real-time namespaces over a veth (MTU 1500).
func BenchmarkTCPConnRealtime(b *testing.B) {
	a, bb := tcpPairB(b)
	l, err := socket.ListenTCP(bb.Exec(), bb.TCP, netip.AddrPortFrom(tcpB, 20), 4)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	done := make(chan int64)
	go func() {
		s, err := l.Accept()
		if err != nil {
			done <- 0
			return
		}
		n, _ := io.Copy(io.Discard, s)
		s.Close()
		done <- n
	}()
	c, err := socket.DialTCP(context.Background(), a.Exec(), a.TCP, netip.AddrPort{}, netip.AddrPortFrom(tcpB, 20))
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	b.SetBytes(int64(len(buf)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	c.CloseWrite()
	if n := <-done; n != int64(b.N)*int64(len(buf)) {
		b.Fatalf("received %d", n)
	}
	b.StopTimer()
	c.Close()
}

// TestTCPNoGoroutineLeak opens and closes many connections through the
// socket layer in real time, a goroutine per accepted connection as a Go
// server has; afterwards the goroutine count returns to its baseline.
func TestTCPNoGoroutineLeak(t *testing.T) {
	n := 1000
	if testing.Short() {
		n = 100
	}
	a, b := tcpPair(t)
	base := runtime.NumGoroutine()
	l, err := socket.ListenTCP(b.Exec(), b.TCP, netip.AddrPortFrom(tcpB, 7070), 128)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				buf := make([]byte, 64)
				if _, err := c.Read(buf); err != nil {
					return
				}
				c.Write([]byte("pong"))
				io.Copy(io.Discard, c)
			}()
		}
	}()
	buf := make([]byte, 64)
	for i := 0; i < n; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c, err := socket.DialTCP(ctx, a.Exec(), a.TCP, netip.AddrPort{}, netip.AddrPortFrom(tcpB, 7070))
		cancel()
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		if k, err := c.Read(buf); err != nil || string(buf[:k]) != "pong" {
			t.Fatalf("read %d: %q %v", i, buf[:k], err)
		}
		c.Close()
	}
	l.Close()
	wg.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > base {
		t.Fatalf("%d goroutines after %d connections, %d before", g, n, base)
	}
}

// TestTCPUrgent: WriteOOB's last byte leaves the stream at the receiver
// (Linux's default) and is read with ReadOOB; the bytes around it arrive
// intact.
func TestTCPUrgent(t *testing.T) {
	a, b := tcpPair(t)
	c, s, _ := dialAccept(t, a, b, 7071)
	defer c.Close()
	defer s.Close()
	if _, err := c.Write([]byte("ab")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WriteOOB([]byte("c!")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("de")); err != nil {
		t.Fatal(err)
	}
	c.CloseWrite()
	s.SetReadDeadline(time.Now().Add(5 * time.Second))
	var got []byte
	buf := make([]byte, 16)
	for len(got) < 3 { // reads stop at the urgent mark
		n, err := s.Read(buf)
		if err != nil {
			t.Fatalf("read: %v after %q", err, got)
		}
		got = append(got, buf[:n]...)
	}
	if string(got) != "abc" {
		t.Fatalf("before the mark: %q", got)
	}
	var oob byte
	var err error
	// WriteOOB sends "c" and the urgent "!" as two writes, so the reader
	// may have "abc" before the segment with the urgent pointer arrives;
	// until then there is no urgent data and MSG_OOB gives EINVAL, as on
	// Linux (tcp_recv_urg). A program would wait for SIGURG or an
	// exceptional condition in select; the test polls.
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(time.Millisecond) {
		if oob, err = s.ReadOOB(); !errors.Is(err, syscall.EAGAIN) && !errors.Is(err, syscall.EINVAL) {
			break
		}
	}
	if err != nil || oob != '!' {
		t.Fatalf("ReadOOB: %q %v", oob, err)
	}
	rest, err := io.ReadAll(s)
	if err != nil || string(rest) != "de" {
		t.Fatalf("after the mark: %q %v", rest, err)
	}
}

// TestTCPCloseRead: CloseRead as Linux's shutdown(SHUT_RD): bytes already
// queued are still read, then Read returns io.EOF at once; a Read blocked
// at the time returns io.EOF; the peer's later data is still delivered
// and the connection keeps working both ways.
func TestTCPCloseRead(t *testing.T) {
	a, b := tcpPair(t)
	c, s, _ := dialAccept(t, a, b, 13)
	defer c.Close()
	defer s.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	blocked := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 1))
		blocked <- err
	}()
	time.Sleep(20 * time.Millisecond)
	if err := c.CloseRead(); err != nil {
		t.Fatal(err)
	}
	if err := <-blocked; err != io.EOF {
		t.Fatalf("blocked read: %v, want EOF", err)
	}
	s.Write([]byte("hello"))
	// Poll: until the bytes arrive, reads return EOF without waiting.
	var got []byte
	buf := make([]byte, 16)
	for start := time.Now(); string(got) != "hello"; {
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil && err != io.EOF {
			t.Fatalf("read: %v", err)
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("got %q", got)
		}
		if n == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	if n, err := c.Read(buf); n != 0 || err != io.EOF {
		t.Fatalf("read of an empty queue after CloseRead: %d %v", n, err)
	}
	c.Write([]byte("ping"))
	s.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := io.ReadFull(s, buf[:4]); n != 4 || string(buf[:4]) != "ping" || err != nil {
		t.Fatalf("peer read %q %v", buf[:n], err)
	}
}

// TestTCPLingerDrains: with SetLinger(5) Close waits until the queued
// megabyte is acknowledged: when it returns the peer's stack has it all.
func TestTCPLingerDrains(t *testing.T) {
	a, b := tcpPair(t)
	c, s, _ := dialAccept(t, a, b, 14)
	defer s.Close()
	c.SetWriteBuffer(4 << 20)
	data := make([]byte, 1<<20)
	if _, err := c.Write(data); err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, s)
	c.SetLinger(5)
	start := time.Now()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if got := s.Info().BytesReceived; got != uint64(len(data)) {
		t.Fatalf("Close returned after %v with %d of %d bytes received", took, got, len(data))
	}
	if took >= 5*time.Second {
		t.Fatalf("Close took %v: the linger timed out", took)
	}
}

// TestTCPLingerTimeout: a peer that does not read keeps the data queued;
// Close with SetLinger(1) returns after the second, without a reset.
func TestTCPLingerTimeout(t *testing.T) {
	a, b := tcpPair(t)
	c, s, _ := dialAccept(t, a, b, 15)
	defer s.Close()
	s.SetReadBuffer(8 << 10)
	c.SetWriteBuffer(4 << 20)
	if _, err := c.Write(make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	c.SetLinger(1)
	start := time.Now()
	c.Close()
	if took := time.Since(start); took < time.Second || took > 5*time.Second {
		t.Fatalf("Close took %v, want the 1 s linger", took)
	}
	if i := s.Info(); i.State != tcp.Established {
		t.Fatalf("peer state %v after the linger timeout, want ESTABLISHED (no reset)", i.State)
	}
}
