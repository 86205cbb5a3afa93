package sockproxy_test

import (
	"context"
	"errors"
	"github.com/usnet/usnet/tcp"
	"io"
	"net"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/usnet/usnet/sockproxy"
	"github.com/usnet/usnet/stack"
)

// proxiedPair returns a proxied connection to a listener of ns and the
// usnet end the namespace accepted, a kernel-like socket to observe the
// proxy's effects on.
func proxiedPair(t *testing.T, ns *stack.Namespace, port string) (*sockproxy.TCPConn, net.Conn) {
	t.Helper()
	l, err := ns.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	c, err := client(t, ns).DialContext(context.Background(), "tcp", "127.0.0.1:"+port)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	peer, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { peer.Close() })
	return c.(*sockproxy.TCPConn), peer
}

// TestProxiedCloseRead: shutdown(SHUT_RD) reaches the usnet socket: what
// arrived can still be read, then EOF without waiting for the peer, and
// the sending side still works.
func TestProxiedCloseRead(t *testing.T) {
	ns := loopbackNS(t)
	c, peer := proxiedPair(t, ns, "7001")
	if _, err := peer.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, 1)
	if _, err := io.ReadFull(c, b); err != nil || b[0] != 'h' {
		t.Fatalf("first byte %q %v", b, err)
	}
	if err := c.CloseRead(); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(c) // the deadline fails this if EOF never comes
	if err != nil || string(rest) != "ello" {
		t.Fatalf("after CloseRead read %q, %v; want \"ello\" then EOF", rest, err)
	}
	if _, err := c.Write([]byte("still")); err != nil {
		t.Fatal(err)
	}
	peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	got := make([]byte, 5)
	if _, err := io.ReadFull(peer, got); err != nil || string(got) != "still" {
		t.Fatalf("peer read %q %v after the client's CloseRead", got, err)
	}
}

// TestProxiedLingerZeroResets: SetLinger(0) then Close is a reset.
func TestProxiedLingerZeroResets(t *testing.T) {
	ns := loopbackNS(t)
	c, peer := proxiedPair(t, ns, "7002")
	if err := c.SetLinger(0); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := peer.Read(make([]byte, 10)); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("peer read after linger-0 close: %v, want ECONNRESET", err)
	}
}

// TestProxiedLingerWaits: a positive linger makes Close wait for the
// acknowledgement and the data arrives whole, then EOF.
func TestProxiedLingerWaits(t *testing.T) {
	ns := loopbackNS(t)
	c, peer := proxiedPair(t, ns, "7003")
	if err := c.SetLinger(5); err != nil {
		t.Fatal(err)
	}
	msg := make([]byte, 300000)
	done := make(chan []byte)
	go func() {
		peer.SetReadDeadline(time.Now().Add(10 * time.Second))
		b, _ := io.ReadAll(peer)
		done <- b
	}()
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if got := <-done; len(got) != len(msg) {
		t.Fatalf("peer got %d bytes, want %d then EOF", len(got), len(msg))
	}
}

// TestProxiedCloseIsClose: Close is close(2), not a half close: the data
// and a FIN reach the peer, and what the peer sends afterwards is
// answered with a reset.
func TestProxiedCloseIsClose(t *testing.T) {
	ns := loopbackNS(t)
	c, peer := proxiedPair(t, ns, "7004")
	c.Write([]byte("bye"))
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(peer)
	if err != nil || string(got) != "bye" {
		t.Fatalf("peer read %q %v, want \"bye\" then EOF", got, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := peer.Write([]byte("x"))
		if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
			return
		}
		if err != nil {
			t.Fatalf("peer write: %v, want ECONNRESET or EPIPE", err)
		}
		if time.Now().After(deadline) {
			t.Fatal("the proxied Close left the usnet connection open (no reset for the peer's data)")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestProxiedUnreadDataResets: closing with received data unread resets
// the connection, as Linux's close does.
func TestProxiedUnreadDataResets(t *testing.T) {
	ns := loopbackNS(t)
	c, peer := proxiedPair(t, ns, "7005")
	if _, err := peer.Write([]byte("unread")); err != nil {
		t.Fatal(err)
	}
	// Wait until the data waits in the client's descriptor.
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; {
		var n int
		rc.Control(func(fd uintptr) { n, _, _ = unix.Recvfrom(int(fd), make([]byte, 8), unix.MSG_PEEK|unix.MSG_DONTWAIT) })
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the peer's data never reached the client")
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.Close()
	peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := peer.Read(make([]byte, 10)); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("peer read after a close with unread data: %v, want ECONNRESET", err)
	}
}

// TestProxiedOptions: the options a Go program sets on a *net.TCPConn
// reach the usnet socket, on dialed and accepted connections.
func TestProxiedOptions(t *testing.T) {
	ns := loopbackNS(t)
	cl := client(t, ns)
	l, err := cl.Listen("tcp", "127.0.0.1:7006")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := cl.DialContext(context.Background(), "tcp", "127.0.0.1:7006")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	a, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for name, conn := range map[string]*sockproxy.TCPConn{"dialed": c.(*sockproxy.TCPConn), "accepted": a.(*sockproxy.TCPConn)} {
		if !conn.NoDelay() {
			t.Errorf("%s: TCP_NODELAY off, want on as Go's net sets it", name)
		}
		if err := conn.SetNoDelay(false); err != nil || conn.NoDelay() {
			t.Errorf("%s: SetNoDelay(false): %v, NoDelay %v", name, err, conn.NoDelay())
		}
		if !conn.QuickAck() {
			t.Errorf("%s: TCP_QUICKACK 0 on a new connection", name)
		}
		if err := conn.SetQuickAck(false); err != nil || conn.QuickAck() {
			t.Errorf("%s: SetQuickAck(false): %v, QuickAck %v", name, err, conn.QuickAck())
		}
		if err := conn.SetQuickAck(true); err != nil || !conn.QuickAck() {
			t.Errorf("%s: SetQuickAck(true): %v, QuickAck %v", name, err, conn.QuickAck())
		}
		if k := conn.KeepAliveConfig(); !k.Enable || k.Idle != 15*time.Second {
			t.Errorf("%s: keepalive %+v, want on with 15 s as net.Dial and net.Listen set", name, k)
		}
		want := net.KeepAliveConfig{Enable: true, Idle: 30 * time.Second, Interval: 5 * time.Second, Count: 3}
		if err := conn.SetKeepAliveConfig(want); err != nil {
			t.Fatal(err)
		}
		if k := conn.KeepAliveConfig(); k != want {
			t.Errorf("%s: keepalive %+v after SetKeepAliveConfig(%+v)", name, k, want)
		}
		if err := conn.SetKeepAlivePeriod(7 * time.Second); err != nil {
			t.Fatal(err)
		}
		if k := conn.KeepAliveConfig(); k.Idle != 7*time.Second || k.Interval != 7*time.Second {
			t.Errorf("%s: keepalive %+v after SetKeepAlivePeriod(7s)", name, k)
		}
		if err := conn.SetKeepAlive(false); err != nil || conn.KeepAliveConfig().Enable {
			t.Errorf("%s: SetKeepAlive(false): %v, %+v", name, err, conn.KeepAliveConfig())
		}
		if err := conn.SetCongestion("reno"); err != nil || conn.Congestion() != "reno" {
			t.Errorf("%s: SetCongestion(reno): %v, now %q", name, err, conn.Congestion())
		}
		if err := conn.SetCongestion("nope"); !errors.Is(err, syscall.ENOENT) {
			t.Errorf("%s: SetCongestion(nope): %v, want ENOENT", name, err)
		}
		if err := conn.SetReadBuffer(1 << 20); err != nil {
			t.Errorf("%s: SetReadBuffer: %v", name, err)
		}
		if err := conn.SetWriteBuffer(1 << 20); err != nil {
			t.Errorf("%s: SetWriteBuffer: %v", name, err)
		}
	}
	// Data still flows after all that.
	c.Write([]byte("ok"))
	a.SetReadDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, 2)
	if _, err := io.ReadFull(a, b); err != nil || string(b) != "ok" {
		t.Fatalf("read %q %v", b, err)
	}
	// TCP_INFO of both ends, from the usnet connections.
	ci, ai := c.(*sockproxy.TCPConn).Info(), a.(*sockproxy.TCPConn).Info()
	if ci.State != tcp.Established || ci.BytesSent != 2 || ci.Congestion != "reno" || !ci.Timestamps {
		t.Errorf("dialed end's Info: %+v", ci)
	}
	if ai.State != tcp.Established || ai.BytesReceived != 2 {
		t.Errorf("accepted end's Info: %+v", ai)
	}
	pc, err := cl.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if err := pc.(*sockproxy.PacketConn).SetReadBuffer(1 << 20); err != nil {
		t.Errorf("UDP SetReadBuffer: %v", err)
	}
	if err := pc.(*sockproxy.PacketConn).SetWriteBuffer(1 << 20); err != nil {
		t.Errorf("UDP SetWriteBuffer: %v", err)
	}
}

// TestListenerDeadline: Accept honours SetDeadline.
func TestListenerDeadline(t *testing.T) {
	ns := loopbackNS(t)
	l, err := client(t, ns).Listen("tcp", "127.0.0.1:7007")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.(*sockproxy.Listener).SetDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := l.Accept(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Accept after the deadline: %v", err)
	}
}

// TestProxiedCloseLeavesNothing: every goroutine the proxy starts for a
// connection ends when the client closes it.
func TestProxiedCloseLeavesNothing(t *testing.T) {
	ns := loopbackNS(t)
	l, err := ns.Listen("tcp", "127.0.0.1:7008")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	cl := client(t, ns)
	dial := func() {
		c, err := cl.DialContext(context.Background(), "tcp", "127.0.0.1:7008")
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("x"))
		c.Close()
	}
	dial()
	time.Sleep(50 * time.Millisecond)
	before := runtime.NumGoroutine()
	for range 50 {
		dial()
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after 50 proxied connections closed, %d before", runtime.NumGoroutine(), before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestProxiedReadAfterReset: a peer's reset fails the client's next read
// with ECONNRESET, as a kernel socket's does, then reads are EOF.
func TestProxiedReadAfterReset(t *testing.T) {
	ns := loopbackNS(t)
	c, peer := proxiedPair(t, ns, "7010")
	peer.(interface{ SetLinger(int) error }).SetLinger(0)
	peer.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := c.Read(make([]byte, 10))
	var op *net.OpError
	if !errors.Is(err, syscall.ECONNRESET) || !errors.As(err, &op) || op.Op != "read" || op.Net != "tcp" {
		t.Fatalf("read after the peer's reset: %#v, want a read *net.OpError with ECONNRESET", err)
	}
	if _, err := c.Read(make([]byte, 10)); err != io.EOF {
		t.Fatalf("second read after the reset: %v, want EOF", err)
	}
}

// TestProxiedReadAfterFIN: an orderly close is EOF, not an error.
func TestProxiedReadAfterFIN(t *testing.T) {
	ns := loopbackNS(t)
	c, peer := proxiedPair(t, ns, "7011")
	peer.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 10)); err != io.EOF {
		t.Fatalf("read after the peer's FIN: %v, want EOF", err)
	}
}
