package socket_test

import (
	"context"
	"errors"
	"io"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/usnet/usnet/socket"
)

// Connections move to the socket's own ready queue as soon as they are
// established, so Accept takes no executor call; they still count
// against the backlog until Accept takes them, and closing the listener
// resets those it never took, as Linux does with its accept queue.

func TestTCPBacklogCountsUnaccepted(t *testing.T) {
	a, b := tcpPair(t)
	const port = 50
	l, err := socket.ListenTCP(b.Exec(), b.TCP, netip.AddrPortFrom(tcpB, port), 2)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	dial := func(timeout time.Duration) (*socket.TCPConn, error) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		return socket.DialTCP(ctx, a.Exec(), a.TCP, netip.AddrPort{}, netip.AddrPortFrom(tcpB, port))
	}
	for i := range 2 {
		c, err := dial(5 * time.Second)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		defer c.Close()
	}
	overflows := func() (n uint64) {
		b.Exec().Do(func() { n = b.TCP.Stats.ListenOverflows })
		return n
	}
	time.Sleep(20 * time.Millisecond) // the final ACKs reach the listener
	before := overflows()
	if _, err := dial(300 * time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("third dial with the backlog full: %v", err)
	}
	if overflows() == before {
		t.Fatal("no listen overflow counted for the third SYN")
	}
	s, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := dial(5 * time.Second)
	if err != nil {
		t.Fatalf("dial after an accept freed a slot: %v", err)
	}
	c.Close()
}

func TestTCPListenerCloseResetsUnaccepted(t *testing.T) {
	a, b := tcpPair(t)
	const port = 51
	l, err := socket.ListenTCP(b.Exec(), b.TCP, netip.AddrPortFrom(tcpB, port), 16)
	if err != nil {
		t.Fatal(err)
	}
	c, err := socket.DialTCP(context.Background(), a.Exec(), a.TCP, netip.AddrPort{}, netip.AddrPortFrom(tcpB, port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("early")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // established and handed to the socket
	l.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadAll(c); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("read after the listener closed: %v, want a reset", err)
	}
	var n int
	b.Exec().Do(func() { n = b.TCP.NumConns() })
	if n != 0 {
		t.Fatalf("%d connections left in the listener's namespace", n)
	}
}

// TestTCPAcceptGetsEarlyData: what the peer sent and its FIN before the
// connection was accepted are read after Accept.
func TestTCPAcceptGetsEarlyData(t *testing.T) {
	a, b := tcpPair(t)
	const port = 52
	l, err := socket.ListenTCP(b.Exec(), b.TCP, netip.AddrPortFrom(tcpB, port), 16)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for i := range 3 {
		c, err := socket.DialTCP(context.Background(), a.Exec(), a.TCP, netip.AddrPort{}, netip.AddrPortFrom(tcpB, port))
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte{'a' + byte(i)})
		c.Close()
	}
	time.Sleep(20 * time.Millisecond)
	for i := range 3 {
		s, err := l.Accept()
		if err != nil {
			t.Fatal(err)
		}
		s.SetReadDeadline(time.Now().Add(5 * time.Second))
		got, err := io.ReadAll(s)
		if err != nil || string(got) != string([]byte{'a' + byte(i)}) {
			t.Fatalf("connection %d: %q %v", i, got, err)
		}
		s.Close()
	}
}

// TestTCPConcurrentReads: Reads on one connection take turns and share
// the connection's one recv call; each gets a contiguous piece of the
// stream in its own buffer, and together they get all of it.
func TestTCPConcurrentReads(t *testing.T) {
	a, b := tcpPair(t)
	c, s, _ := dialAccept(t, a, b, 53)
	defer c.Close()
	const total = 300 << 10
	go func() {
		buf := make([]byte, total)
		for i := range buf {
			buf[i] = byte(i % 251)
		}
		s.Write(buf)
		s.Close()
	}()
	got := make(chan int, 4)
	for range 4 {
		go func() {
			n := 0
			buf := make([]byte, 1000)
			for {
				k, err := c.Read(buf)
				for j := 1; j < k; j++ {
					if buf[j] != byte((int(buf[j-1])+1)%251) {
						t.Errorf("read of %d bytes is not one piece of the stream at %d", k, j)
						break
					}
				}
				n += k
				if err != nil {
					got <- n
					return
				}
			}
		}()
	}
	sum := 0
	for range 4 {
		sum += <-got
	}
	if sum != total {
		t.Fatalf("readers got %d bytes together, want %d", sum, total)
	}
}
