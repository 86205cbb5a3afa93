package socket_test

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/usnet/usnet/socket"
	"github.com/usnet/usnet/stack"
	"github.com/usnet/usnet/udp"
)

func udpPair(t *testing.T, port uint16) (a, b *stack.Namespace, rc, tc *socket.UDPConn) {
	t.Helper()
	a, b = tcpPair(t)
	rc, err := socket.ListenUDP(b.Exec(), b.UDP, netip.AddrPortFrom(tcpB, port), false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rc.Close() })
	tc, err = socket.DialUDP(a.Exec(), a.UDP, netip.AddrPort{}, netip.AddrPortFrom(tcpB, port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tc.Close() })
	return a, b, rc, tc
}

func udpStats(ns *stack.Namespace) (s udp.Stats) {
	ns.Exec().Do(func() { s = ns.UDP.Stats })
	return s
}

// waitStat polls until cond holds for the namespace's UDP counters.
func waitStat(t *testing.T, ns *stack.Namespace, cond func(udp.Stats) bool) udp.Stats {
	t.Helper()
	for range 500 {
		if s := udpStats(ns); cond(s) {
			return s
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("UDP counters never reached the condition: %+v", udpStats(ns))
	return udp.Stats{}
}

// TestUDPReceiveBufferTruesize: the receive queue is bounded by the
// buffers' truesize, as Linux bounds it, so a flood of tiny datagrams
// fills a small SO_RCVBUF after a few dozen, the rest count as
// RcvbufErrors, and reading frees the space for new datagrams (also when
// the reader stops right after draining a batch).
func TestUDPReceiveBufferTruesize(t *testing.T) {
	_, b, rc, tc := udpPair(t, 5400)
	rc.SetReadBuffer(16 << 10) // 32 KiB after doubling
	const sent = 500
	msg := make([]byte, 18)
	for i := range sent {
		binary.BigEndian.PutUint32(msg, uint32(i))
		if _, err := tc.Write(msg); err != nil {
			t.Fatal(err)
		}
		if (i+1)%50 == 0 { // in bursts the device queues take whole
			waitStat(t, b, func(s udp.Stats) bool { return s.InDatagrams+s.RcvbufErrors == uint64(i+1) })
		}
	}
	st := udpStats(b)
	// Counted by payload, 32 KiB would hold 1820 of these datagrams.
	if st.InDatagrams == 0 || st.InDatagrams > 50 {
		t.Fatalf("queued %d datagrams of 18 bytes in a 32 KiB buffer, want a truesize-bounded few", st.InDatagrams)
	}
	buf := make([]byte, 64)
	rc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	prev := -1
	for got := uint64(0); got < st.InDatagrams; got++ {
		n, err := rc.Read(buf)
		if err != nil || n != 18 {
			t.Fatalf("read %d: n=%d err=%v", got, n, err)
		}
		seq := int(binary.BigEndian.Uint32(buf))
		if seq <= prev {
			t.Fatalf("datagram %d after %d: out of order", seq, prev)
		}
		prev = seq
	}
	// The queue is drained and the reader idle: the space must come back
	// without another read, so a second burst is queued again.
	for i := range 10 {
		binary.BigEndian.PutUint32(msg, uint32(1000+i))
		tc.Write(msg)
	}
	waitStat(t, b, func(s udp.Stats) bool { return s.InDatagrams+s.RcvbufErrors == sent+10 })
	if s := udpStats(b); s.InDatagrams != st.InDatagrams+10 {
		t.Fatalf("after draining, %d of 10 new datagrams queued", s.InDatagrams-st.InDatagrams)
	}
}

// TestUDPErrorBeforeQueuedDatagrams: a pending ICMP error is reported by
// the next read even when datagrams are already waiting, as Linux's
// recvmsg checks sk_err first; the datagrams follow.
func TestUDPErrorBeforeQueuedDatagrams(t *testing.T) {
	a, _, rc, tc := udpPair(t, 5401)
	// B answers from port 5401 to A's socket, twice.
	local := tc.LocalAddr().(interface{ AddrPort() netip.AddrPort }).AddrPort()
	to := netip.AddrPortFrom(tcpA, local.Port())
	for _, m := range []string{"one", "two"} {
		if _, err := rc.WriteToUDPAddrPort([]byte(m), to); err != nil {
			t.Fatal(err)
		}
	}
	waitStat(t, a, func(s udp.Stats) bool { return s.InDatagrams == 2 })
	buf := make([]byte, 16)
	if n, err := tc.Read(buf); err != nil || string(buf[:n]) != "one" {
		t.Fatalf("first read: %q %v", buf[:n], err)
	}
	// Nobody listens on B:5401 any more: A's next datagram draws a port
	// unreachable, which the connected socket records.
	rc.Close()
	if _, err := tc.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		var unreach uint64
		a.Exec().Do(func() { unreach = a.IPv4.Stats.IcmpInDestUnreachs })
		if unreach == 1 {
			break
		}
		if i == 500 {
			t.Fatal("the port unreachable never reached A")
		}
		time.Sleep(5 * time.Millisecond)
	}
	tc.SetReadDeadline(time.Now().Add(time.Second))
	if n, err := tc.Read(buf); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("read %q, %v; want ECONNREFUSED before the queued datagram", buf[:n], err)
	}
	tc.SetReadDeadline(time.Now().Add(time.Second))
	if n, err := tc.Read(buf); err != nil || string(buf[:n]) != "two" {
		t.Fatalf("after the error: %q %v", buf[:n], err)
	}
}

// TestUDPConcurrentReaders: readers sharing one socket (as net.PacketConn
// allows) each get distinct datagrams, none is lost or repeated, and a
// reader with a deadline is not held up by another blocked reader.
func TestUDPConcurrentReaders(t *testing.T) {
	_, b, rc, tc := udpPair(t, 5402)
	rc.SetReadBuffer(8 << 20)
	const sent = 20000
	seen := make([]bool, sent)
	var mu sync.Mutex
	var wg sync.WaitGroup
	total := 0
	for range 4 {
		wg.Go(func() {
			buf := make([]byte, 64)
			for {
				rc.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
				n, err := rc.Read(buf)
				if err != nil {
					return
				}
				seq := binary.BigEndian.Uint32(buf[:n])
				mu.Lock()
				if seen[seq] {
					t.Errorf("datagram %d read twice", seq)
				}
				seen[seq] = true
				total++
				mu.Unlock()
			}
		})
	}
	msg := make([]byte, 18)
	for i := range sent {
		binary.BigEndian.PutUint32(msg, uint32(i))
		if _, err := tc.Write(msg); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	st := udpStats(b)
	// Datagrams may also be dropped below UDP (the device queues) when the
	// sender outruns the receiver; none may vanish once queued.
	if uint64(total) != st.InDatagrams || st.InDatagrams+st.RcvbufErrors > sent {
		t.Fatalf("read %d, queued %d, dropped %d of %d sent", total, st.InDatagrams, st.RcvbufErrors, sent)
	}
	if total == 0 {
		t.Fatal("no datagram read")
	}
}
