package socket_test

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/usnet/usnet/socket"
)

// TestTCPDialContext: a dial that gets no answer (no host has the
// address, so the SYN never leaves) ends when its context does, and the
// connection it started is gone. DialTCP learns the handshake's outcome
// from the connection's callbacks; here none comes, only ctx.
func TestTCPDialContext(t *testing.T) {
	a, _ := tcpPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := socket.DialTCP(ctx, a.Exec(), a.TCP, netip.AddrPort{}, netip.MustParseAddrPort("10.7.0.99:80"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want the context's deadline", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("dial returned after %v", el)
	}
	var n int
	a.Exec().Do(func() { n = a.TCP.NumConns() })
	if n != 0 {
		t.Fatalf("%d connections left after the cancelled dial", n)
	}
}

// TestTCPDialSequence: many dials in a row each see their own handshake
// end (the outcome handed over by the callbacks is per connection), and
// the accepted side reads what the dialer wrote at once.
func TestTCPDialSequence(t *testing.T) {
	a, b := tcpPair(t)
	l, err := socket.ListenTCP(b.Exec(), b.TCP, netip.AddrPortFrom(tcpB, 40), 64)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			s, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				buf := make([]byte, 8)
				n, _ := s.Read(buf)
				s.Write(buf[:n])
				s.Close()
			}()
		}
	}()
	for i := range 200 {
		c, err := socket.DialTCP(context.Background(), a.Exec(), a.TCP, netip.AddrPort{}, netip.AddrPortFrom(tcpB, 40))
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		msg := []byte{byte(i), 1, 2}
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 8)
		n, err := c.Read(buf)
		if err != nil || n != 3 || buf[0] != byte(i) {
			t.Fatalf("echo %d: %v %v", i, buf[:n], err)
		}
		c.Close()
	}
}
