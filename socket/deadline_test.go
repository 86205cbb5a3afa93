package socket_test

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"
)

// Deadlines are made on their first set (most connections never set
// one): a call already waiting when the first deadline is set must still
// end at that deadline, as with the net package.

// waitErr runs f in a goroutine and returns its error channel, after
// giving it time to block.
func waitErr(f func() error) <-chan error {
	errc := make(chan error, 1)
	go func() { errc <- f() }()
	time.Sleep(30 * time.Millisecond)
	return errc
}

func wantTimeout(t *testing.T, errc <-chan error, what string) {
	t.Helper()
	select {
	case err := <-errc:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("%s: got %v, want a timeout", what, err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: still blocked 5 s after its deadline", what)
	}
}

func TestTCPFirstDeadlineWakesBlockedRead(t *testing.T) {
	a, b := tcpPair(t)
	c, s, _ := dialAccept(t, a, b, 30)
	defer c.Close()
	defer s.Close()
	errc := waitErr(func() error { _, err := c.Read(make([]byte, 10)); return err })
	c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	wantTimeout(t, errc, "read")
}

func TestTCPFirstDeadlineWakesBlockedWrite(t *testing.T) {
	a, b := tcpPair(t)
	c, s, _ := dialAccept(t, a, b, 31)
	defer c.Close()
	defer s.Close()
	c.SetWriteBuffer(4096)
	s.SetReadBuffer(4096)
	// s never reads: the write fills both buffers and waits.
	errc := waitErr(func() error { _, err := c.Write(make([]byte, 1<<20)); return err })
	c.SetDeadline(time.Now().Add(20 * time.Millisecond))
	wantTimeout(t, errc, "write")
}

func TestTCPFirstDeadlineWakesBlockedAccept(t *testing.T) {
	a, b := tcpPair(t)
	_, _, l := dialAccept(t, a, b, 32)
	errc := waitErr(func() error { _, err := l.Accept(); return err })
	l.SetDeadline(time.Now().Add(20 * time.Millisecond))
	wantTimeout(t, errc, "accept")
}

// TestTCPDeadlineMovedAndCleared: the deadline's timer is reused when the
// deadline moves; a deadline moved later or cleared before it passes
// never fires, one moved earlier does, and one set again after it passed
// applies afresh.
func TestTCPDeadlineMovedAndCleared(t *testing.T) {
	a, b := tcpPair(t)
	c, s, _ := dialAccept(t, a, b, 33)
	defer c.Close()
	defer s.Close()
	buf := make([]byte, 10)

	c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	time.AfterFunc(100*time.Millisecond, func() { s.Write([]byte("a")) })
	if n, err := c.Read(buf); n != 1 || err != nil {
		t.Fatalf("deadline moved later: %d %v", n, err)
	}

	c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	c.SetReadDeadline(time.Time{})
	time.AfterFunc(100*time.Millisecond, func() { s.Write([]byte("b")) })
	if n, err := c.Read(buf); n != 1 || err != nil {
		t.Fatalf("deadline cleared: %d %v", n, err)
	}

	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	errc := waitErr(func() error { _, err := c.Read(buf); return err })
	c.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	wantTimeout(t, errc, "deadline moved earlier")

	c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	start := time.Now()
	_, err := c.Read(buf)
	if !errors.Is(err, os.ErrDeadlineExceeded) || time.Since(start) < 15*time.Millisecond {
		t.Fatalf("deadline set again after it passed: %v after %v", err, time.Since(start))
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatal("not a timeout net.Error")
	}
}
