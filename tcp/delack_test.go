package tcp_test

import (
	"testing"
	"time"

	"github.com/usnet/usnet/tcp"
)

// sendOnly writes n bytes from cli as one write and runs until they are
// acknowledged, reading nothing on srv.
func sendOnly(t *testing.T, w *world, cli *tcp.Conn, n int, limit time.Duration) {
	t.Helper()
	p := make([]byte, n)
	target := cli.Info.BytesAcked + uint64(n)
	if !w.run(limit, func() bool {
		for len(p) > 0 {
			k, err := cli.Send(p)
			if err != nil {
				t.Fatal(err)
			}
			if k == 0 {
				break
			}
			p = p[k:]
		}
		return cli.Info.BytesAcked == target
	}) {
		t.Fatalf("%d bytes not acknowledged; %+v", n, cli.TCPInfo())
	}
}

// ackDelay sends n bytes from cli as one write, runs until cli has them
// acknowledged (srv reading them as they come if read), and returns how
// long srv held its ACK: from the arrival of the last data segment (one-way
// delay owd after it entered a's qdisc) to the ACK that covers it.
func ackDelay(t *testing.T, w *world, qa, qb *wire, cli, srv *tcp.Conn, n int, owd time.Duration, read bool) time.Duration {
	t.Helper()
	ma, mb := len(qa.segs), len(qb.segs)
	if read {
		sendAll(t, w, cli, srv, n, 10*time.Second)
	} else {
		sendOnly(t, w, cli, n, 10*time.Second)
	}
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

// TestDelayedAck checks the receiver's ACK policy against Linux 6.18's
// tcp_event_data_recv, __tcp_ack_snd_check, tcp_send_delayed_ack and
// tcp_cleanup_rbuf:
//   - quick-ack mode from the first data: the first 16 data segments
//     (TCP_MAX_QUICKACKS; tcp_incr_quickack caps at rcv_wnd/(2·rcv_mss),
//     61 here) are acknowledged at once;
//   - after that a lone small segment nobody reads waits for the
//     delayed-ACK timer, whose ato starts at TCP_ATO_MIN = 40 ms; each
//     time the timer fires ato doubles (up to the RTO), but the delay is
//     bounded by the SRTT floored at TCP_DELACK_MIN, so it stays 40 ms;
//   - a reader that drains a small segment acknowledges it at once
//     (ICSK_ACK_PUSHED, not interactive);
//   - a gap longer than the RTO starts quick-ack mode again.
func TestDelayedAck(t *testing.T) {
	const owd = time.Millisecond
	w := newWorld(t, 103, 1500)
	qa, qb := w.wires(owd)
	cli, srv, _ := w.connect(80)
	w.st.Sim.RunFor(10 * time.Millisecond)
	for i := 0; i < 16; i++ {
		if d := ackDelay(t, w, qa, qb, cli, srv, 100, owd, false); d != 0 {
			t.Fatalf("segment %d of quick-ack mode acknowledged after %v, want at once", i, d)
		}
		w.st.Sim.RunFor(50 * time.Millisecond)
	}
	for i := 0; i < 3; i++ {
		if d := ackDelay(t, w, qa, qb, cli, srv, 100, owd, false); d != 40*time.Millisecond {
			t.Fatalf("lone segment %d after quick-ack mode acknowledged after %v, want 40 ms", i, d)
		}
		// Each firing doubles ato, up to the RTO (the gaps of about
		// 90 ms exceed it, so arrivals leave it alone).
		want := min(80*time.Millisecond<<i, srv.TCPInfo().RTO.Truncate(time.Millisecond))
		if ato := srv.ATO(); ato != want {
			t.Fatalf("ato %v after the timer fired %d times, want %v", ato, i+1, want)
		}
		w.st.Sim.RunFor(50 * time.Millisecond)
	}
	buf := make([]byte, 4096)
	w.b.Exec().Do(func() {
		for n, _, _ := srv.Recv(buf); n > 0; n, _, _ = srv.Recv(buf) {
		}
	})
	for i := 0; i < 3; i++ {
		if d := ackDelay(t, w, qa, qb, cli, srv, 100, owd, true); d != 0 {
			t.Fatalf("drained small segment %d acknowledged after %v, want at once", i, d)
		}
		w.st.Sim.RunFor(50 * time.Millisecond)
	}
	// Silence longer than the receiver's RTO (about 200 ms here) brings
	// quick-ack mode back (tcp_event_data_recv's "too long gap").
	w.st.Sim.RunFor(time.Second)
	for i := 0; i < 16; i++ {
		if d := ackDelay(t, w, qa, qb, cli, srv, 100, owd, false); d != 0 {
			t.Fatalf("segment %d after an idle second acknowledged after %v, want at once", i, d)
		}
		w.st.Sim.RunFor(50 * time.Millisecond)
	}
	if d := ackDelay(t, w, qa, qb, cli, srv, 100, owd, false); d != 40*time.Millisecond {
		t.Fatalf("lone segment after the second quick-ack run acknowledged after %v, want 40 ms", d)
	}
}

// TestDelayedAckATO: ato after known gaps between data segments
// (tcp_event_data_recv), in whole jiffies of HZ 1000: 40 ms at the first
// data; a gap m of at most 20 ms gives ato/2 + 20 ms, one below ato gives
// ato/2 + m, a longer one leaves it.
func TestDelayedAckATO(t *testing.T) {
	w := newWorld(t, 104, 1500)
	w.wires(time.Millisecond)
	cli, srv, _ := w.connect(80)
	cli.NoDelay = true
	w.st.Sim.RunFor(10 * time.Millisecond)
	steps := []struct {
		gap time.Duration // before the segment
		ato time.Duration // after it arrived
	}{
		{0, 40 * time.Millisecond},                      // first data
		{30 * time.Millisecond, 50 * time.Millisecond},  // 20 + 30
		{45 * time.Millisecond, 70 * time.Millisecond},  // 25 + 45
		{5 * time.Millisecond, 55 * time.Millisecond},   // 35 + 20
		{100 * time.Millisecond, 55 * time.Millisecond}, // m > ato: kept
		{54 * time.Millisecond, 81 * time.Millisecond},  // 27 + 54
		{3 * time.Millisecond, 60 * time.Millisecond},   // 40 + 20
	}
	for i, s := range steps {
		if i > 0 {
			w.st.Sim.RunFor(s.gap - 2*time.Millisecond)
		}
		if n, err := cli.Send(make([]byte, 100)); n != 100 || err != nil {
			t.Fatal(n, err)
		}
		w.st.Sim.RunFor(2 * time.Millisecond) // 1 ms one way, then processed
		if got := srv.ATO(); got != s.ato {
			t.Fatalf("step %d (gap %v): ato %v, want %v", i, s.gap, got, s.ato)
		}
	}
}
