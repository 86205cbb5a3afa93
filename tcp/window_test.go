package tcp_test

import (
	"testing"
	"time"
)

// TestSenderRespectsReceiveWindow: a receiver that does not read takes
// exactly what it advertised; the sender never sends past the window (a
// SYN-ACK's window is unscaled, RFC 7323 2.2), so on a clean link nothing
// is dropped and nothing is retransmitted, at any MTU.
func TestSenderRespectsReceiveWindow(t *testing.T) {
	for _, mtu := range []int{1500, 65000} {
		w := newWorld(t, 3, mtu)
		cli, srv, _ := w.connect(7000)
		data := make([]byte, 4<<20)
		sent := 0
		w.run(2*time.Second, func() bool {
			n, _ := cli.Send(data[sent:])
			sent += n
			return false
		})
		if got := srv.Info.BytesReceived; got == 0 || got > 1<<20 {
			t.Fatalf("mtu %d: a receiver that never read took %d bytes", mtu, got)
		}
		// A receiver that does not read delays its ACKs (the window it
		// would offer shrinks: __tcp_ack_snd_check), so the sender may
		// send tail loss probes; nothing else is retransmitted.
		if r, p := cli.Info.Retransmits, cli.Info.TLPs; r > p {
			t.Fatalf("mtu %d: %d retransmissions (%d loss probes) on a clean link into a full window", mtu, r, p)
		}
		// Now read everything: the rest flows, still without loss.
		buf := make([]byte, 1<<20)
		read := 0
		if !w.run(20*time.Second, func() bool {
			if n, _, _ := srv.Recv(buf); n > 0 {
				read += n
			}
			if n, _ := cli.Send(data[sent:]); n > 0 {
				sent += n
			}
			return read == len(data)
		}) {
			t.Fatalf("mtu %d: read %d of %d", mtu, read, len(data))
		}
		if r, p := cli.Info.Retransmits, cli.Info.TLPs; r > p {
			t.Fatalf("mtu %d: %d retransmissions (%d loss probes) on a clean link", mtu, r, p)
		}
	}
}

// TestWindowUpdateOnSmallReads: a receiver that drains its buffer in small
// reads must tell a sender facing a nearly closed window that it opened
// (__tcp_cleanup_rbuf compares the window the peer still sees, not what
// one read freed); otherwise the sender waits for a delayed ACK or a probe
// at every window. 32 MiB at MTU 9000 over a loss-free link must take
// well under a virtual second.
func TestWindowUpdateOnSmallReads(t *testing.T) {
	w := newWorld(t, 5, 9000)
	cli, srv, _ := w.connect(7001)
	data := make([]byte, 32<<20)
	buf := make([]byte, 16<<10)
	sent, read := 0, 0
	start := w.st.Sim.Now()
	if !w.run(30*time.Second, func() bool {
		if n, _ := cli.Send(data[sent:]); n > 0 {
			sent += n
		}
		for {
			n, _, _ := srv.Recv(buf)
			if n == 0 {
				break
			}
			read += n
		}
		return read == len(data)
	}) {
		t.Fatalf("read %d of %d", read, len(data))
	}
	if took := w.st.Sim.Now() - start; took > time.Second {
		t.Fatalf("32 MiB took %v of virtual time: the sender stalled on the receive window", took)
	}
}
