package tcp_test

import (
	"testing"
	"time"

	"github.com/usnet/usnet/tcp"
)

// ackDelay sends n bytes from cli as one write, runs until srv has read
// them and cli has them acknowledged, and returns how long srv held its
// ACK: from the arrival of the last data segment (one-way delay owd after
// it entered a's qdisc) to the ACK that covers it.
func ackDelay(t *testing.T, w *world, qa, qb *wire, cli, srv *tcp.Conn, n int, owd time.Duration) time.Duration {
	t.Helper()
	ma, mb := len(qa.segs), len(qb.segs)
	sendAll(t, w, cli, srv, n, 10*time.Second)
	end := cli.SndNxt()
	var last *wireSeg
	for i := ma; i < len(qa.segs); i++ {
		if s := &qa.segs[i]; s.n > 0 && s.seq+uint32(s.n) == end {
			last = s
		}
	}
	if last == nil {
		t.Fatalf("no data segment ending at %d", end)
	}
	for i := mb; i < len(qb.segs); i++ {
		if s := qb.segs[i]; s.ack == end {
			return s.at - last.at - owd
		}
	}
	t.Fatalf("no ACK of %d", end)
	return 0
}

// TestDelayedAck checks the receiver's ACK policy against Linux's
// __tcp_ack_snd_check and tcp_send_delayed_ack:
//   - quick-ack mode from the first data: the first 16 data segments
//     (TCP_MAX_QUICKACKS; Linux's tcp_incr_quickack caps at
//     rcv_wnd/(2·rcv_mss), 61 here) are acknowledged at once;
//   - after that a lone small segment waits for the delayed-ACK timer,
//     whose ato starts at TCP_ATO_MIN = 40 ms (HZ/25) and stays there
//     while segments come further apart than ato (tcp_event_data_recv);
//     the timer is min(ato, SRTT floored at TCP_DELACK_MIN 40 ms), so
//     40 ms;
//   - two full-sized segments are acknowledged at once;
//   - a gap longer than the RTO starts quick-ack mode again.
func TestDelayedAck(t *testing.T) {
	const owd = time.Millisecond
	w := newWorld(t, 103, 1500)
	qa, qb := w.wires(owd)
	cli, srv, _ := w.connect(80)
	w.st.Sim.RunFor(10 * time.Millisecond)
	for i := 0; i < 16; i++ {
		if d := ackDelay(t, w, qa, qb, cli, srv, 100, owd); d != 0 {
			t.Fatalf("segment %d of quick-ack mode acknowledged after %v, want at once", i, d)
		}
		w.st.Sim.RunFor(50 * time.Millisecond)
	}
	for i := 0; i < 3; i++ {
		if d := ackDelay(t, w, qa, qb, cli, srv, 100, owd); d != 40*time.Millisecond {
			t.Fatalf("lone segment %d after quick-ack mode acknowledged after %v, want 40 ms", i, d)
		}
		w.st.Sim.RunFor(50 * time.Millisecond)
	}
	if d := ackDelay(t, w, qa, qb, cli, srv, 2*1448, owd); d != 0 {
		t.Fatalf("two full segments acknowledged after %v, want at once", d)
	}
	// Silence longer than the receiver's RTO (about 200 ms here) brings
	// quick-ack mode back (tcp_event_data_recv's "too long gap").
	w.st.Sim.RunFor(time.Second)
	for i := 0; i < 16; i++ {
		if d := ackDelay(t, w, qa, qb, cli, srv, 100, owd); d != 0 {
			t.Fatalf("segment %d after an idle second acknowledged after %v, want at once", i, d)
		}
		w.st.Sim.RunFor(50 * time.Millisecond)
	}
	if d := ackDelay(t, w, qa, qb, cli, srv, 100, owd); d != 40*time.Millisecond {
		t.Fatalf("lone segment after the second quick-ack run acknowledged after %v, want 40 ms", d)
	}
}
