package tcp_test

import (
	"testing"
	"time"

	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/tcp"
)

// TestFinDelayedAck: a FIN received in ESTABLISHED is acknowledged as
// data is, delayed, in interactive mode (tcp_fin enters pingpong mode in
// CLOSE_WAIT): an application that closes within ato sends one segment,
// its FIN carrying the ACK; one that does not gets its ACK from the
// delayed-ACK timer after ato, which leaves pingpong mode. In FIN_WAIT
// there is no FIN of ours left to carry it: the ACK goes at once.
func TestFinDelayedAck(t *testing.T) {
	const owd = time.Millisecond
	setup := func(seed uint64) (*world, *wire, *wire, *tcp.Conn, *tcp.Conn) {
		w := newWorld(t, seed, 1500)
		qa, qb := w.wires(owd)
		cli, srv, _ := w.connect(80)
		w.st.Sim.RunFor(10 * time.Millisecond)
		// A request, acknowledged at once (quick-ack mode) and read.
		if n, err := cli.Send(make([]byte, 100)); n != 100 || err != nil {
			t.Fatal(n, err)
		}
		buf := make([]byte, 200)
		got := 0
		if !w.run(time.Second, func() bool { n, _, _ := srv.Recv(buf); got += n; return got == 100 }) {
			t.Fatal("request not received")
		}
		w.st.Sim.RunFor(10 * time.Millisecond)
		return w, qa, qb, cli, srv
	}
	finSent := func(q *wire) time.Duration {
		for i := len(q.segs) - 1; i >= 0; i-- {
			if q.segs[i].flags&header.TCPFlagFIN != 0 {
				return q.segs[i].at
			}
		}
		t.Fatal("no FIN sent")
		return 0
	}
	eof := func(w *world, srv *tcp.Conn) {
		if !w.run(time.Second, func() bool { _, eof, _ := srv.Recv(make([]byte, 10)); return eof }) {
			t.Fatal("no EOF at the server")
		}
	}

	// The server closes as soon as it reads the EOF.
	w, qa, qb, cli, srv := setup(141)
	mb := len(qb.segs)
	cli.Close()
	eof(w, srv)
	finAt := finSent(qa)
	if srv.State() != tcp.CloseWait || srv.QuickAck() {
		t.Fatalf("after the peer's FIN: %v, TCP_QUICKACK %v; want CLOSE_WAIT in pingpong mode", srv.State(), srv.QuickAck())
	}
	closeAt := w.st.Sim.Now()
	if closeAt-finAt-owd >= 40*time.Millisecond {
		t.Fatalf("EOF read %v after the FIN arrived, want within ato", closeAt-finAt-owd)
	}
	srv.Close()
	w.st.Sim.RunFor(100 * time.Millisecond)
	segs := qb.segs[mb:]
	if len(segs) != 1 || segs[0].flags != header.TCPFlagFIN|header.TCPFlagACK || segs[0].ack != cli.SndNxt() {
		t.Fatalf("server closing within ato sent %+v, want one FIN-ACK acknowledging the FIN (%d)", segs, cli.SndNxt())
	}
	if segs[0].at != closeAt {
		t.Fatalf("FIN-ACK at %v, want at once on close (%v)", segs[0].at, closeAt)
	}

	// The server does not close: the timer acknowledges the FIN after
	// ato (40 ms) and leaves pingpong mode.
	w, qa, qb, cli, srv = setup(142)
	mb = len(qb.segs)
	delayed := w.b.TCP.Stats.DelayedACKs
	cli.Close()
	eof(w, srv)
	finAt = finSent(qa)
	w.st.Sim.RunFor(100 * time.Millisecond)
	segs = qb.segs[mb:]
	if len(segs) != 1 || segs[0].flags != header.TCPFlagACK || segs[0].ack != cli.SndNxt() {
		t.Fatalf("server not closing sent %+v, want one ACK of the FIN", segs)
	}
	if d := segs[0].at - finAt - owd; d != 40*time.Millisecond {
		t.Fatalf("FIN acknowledged after %v, want ato (40 ms)", d)
	}
	if w.b.TCP.Stats.DelayedACKs != delayed+1 || !srv.QuickAck() {
		t.Fatalf("DelayedACKs %d (want %d), TCP_QUICKACK %v (want pingpong left)", w.b.TCP.Stats.DelayedACKs, delayed+1, srv.QuickAck())
	}

	// The server closed first: the client's FIN in FIN_WAIT2 is
	// acknowledged at once.
	w, qa, qb, cli, srv = setup(143)
	srv.Close()
	w.st.Sim.RunFor(10 * time.Millisecond)
	if srv.State() != tcp.FinWait2 {
		t.Fatalf("server %v after closing first, want FIN_WAIT2", srv.State())
	}
	mb = len(qb.segs)
	cli.Close()
	w.st.Sim.RunFor(100 * time.Millisecond)
	finAt = finSent(qa)
	segs = qb.segs[mb:]
	if len(segs) != 1 || segs[0].flags != header.TCPFlagACK || segs[0].at-finAt-owd != 0 {
		t.Fatalf("FIN in FIN_WAIT2: server sent %+v (FIN at %v), want one ACK at once", segs, finAt)
	}

	// A retransmitted FIN in CLOSE_WAIT (our delayed ACK seems lost):
	// tcp_send_dupack answers at once with a D-SACK for the FIN and
	// leaves pingpong mode for quick-ack mode.
	f := newForgedRx(t, 144)
	f.send(100, true)
	f.read()
	f.w.st.Sim.RunFor(10 * time.Millisecond)
	k := len(f.acks)
	forgeDataFlags(t, f.w, f.cli, f.srv, f.off, 0, header.TCPFlagFIN)
	f.w.st.Sim.RunFor(time.Millisecond)
	if len(f.since(k)) != 0 || f.srv.State() != tcp.CloseWait {
		t.Fatalf("FIN: ACKs %+v, %v; want it delayed in CLOSE_WAIT", f.since(k), f.srv.State())
	}
	forgeDataFlags(t, f.w, f.cli, f.srv, f.off, 0, header.TCPFlagFIN)
	f.w.st.Sim.RunFor(time.Millisecond)
	if a := f.since(k); len(a) != 1 || a[0].ack != f.off+1 || a[0].nsack != 1 {
		t.Fatalf("retransmitted FIN: ACKs %+v, want one of %d with a D-SACK at once", a, f.off+1)
	}
	if !f.srv.QuickAck() || f.srv.QuickAcks() == 0 {
		t.Fatalf("retransmitted FIN: TCP_QUICKACK %v, %d quick ACKs; want quick-ack mode", f.srv.QuickAck(), f.srv.QuickAcks())
	}
}

// TestOutOfOrderFINSacked: a FIN beyond a hole is held and SACKed, its
// block ending after it (end_seq counts the FIN, tcp_sack_new_ofo_skb);
// when the hole fills, the connection takes data and FIN together.
func TestOutOfOrderFINSacked(t *testing.T) {
	f := newForgedRx(t, 145)
	f.send(100, true)
	f.read()
	k := len(f.acks)
	forgeDataFlags(t, f.w, f.cli, f.srv, f.off+100, 0, header.TCPFlagFIN)
	f.w.st.Sim.RunFor(time.Millisecond)
	if a := f.since(k); len(a) != 1 || a[0].ack != f.off || a[0].nsack != 1 {
		t.Fatalf("out-of-order FIN: ACKs %+v, want a duplicate ACK of %d with one SACK block", a, f.off)
	}
	f.send(100, false)
	if f.srv.State() != tcp.CloseWait {
		t.Fatalf("hole filled: %v, want CLOSE_WAIT", f.srv.State())
	}
	if a := f.acks[len(f.acks)-1]; a.ack != f.off+1 || a.nsack != 0 {
		t.Fatalf("hole filled: last ACK %+v, want %d without SACK blocks", a, f.off+1)
	}
}

// TestOutOfOrderFINPurged: a connection that ends holding an
// out-of-order FIN (no payload, no buffer) frees its queue cleanly.
func TestOutOfOrderFINPurged(t *testing.T) {
	f := newForgedRx(t, 146)
	f.send(100, true)
	forgeDataFlags(t, f.w, f.cli, f.srv, f.off+100, 0, header.TCPFlagFIN)
	f.w.st.Sim.RunFor(time.Millisecond)
	f.srv.Abort()
	f.w.st.Sim.RunFor(time.Millisecond)
	if f.srv.State() != tcp.Closed {
		t.Fatalf("after abort: %v", f.srv.State())
	}
}

// TestDataBeyondFINPurged: out-of-order data the peer sent beyond its
// FIN is purged when the FIN arrives in order, with the SACK blocks that
// reported it (tcp_fin: "we have something out-of-order after FIN ...
// for now drop them"): the receive memory goes back to what the read
// queue holds and the FIN's ACK carries no SACK block.
func TestDataBeyondFINPurged(t *testing.T) {
	f := newForgedRx(t, 147)
	f.send(100, true)
	// 200 bytes after a gap where the FIN will be: held out of order.
	forgeData(t, f.w, f.cli, f.srv, f.off+1, 200)
	f.w.st.Sim.RunFor(time.Millisecond)
	if n := f.acks[len(f.acks)-1].nsack; n != 1 {
		t.Fatalf("out-of-order data: ACK with %d SACK blocks, want 1", n)
	}
	held := f.srv.RcvMem()
	// The FIN, in order, with no data.
	forgeDataFlags(t, f.w, f.cli, f.srv, f.off, 0, header.TCPFlagFIN)
	f.w.st.Sim.RunFor(time.Second)
	if f.srv.State() != tcp.CloseWait {
		t.Fatalf("after the FIN: %v", f.srv.State())
	}
	if mem := f.srv.RcvMem(); mem >= held {
		t.Errorf("receive memory %d after the FIN, %d before: the data beyond it is still held", mem, held)
	}
	last := f.acks[len(f.acks)-1]
	if last.nsack != 0 || last.ack != f.off+1 {
		t.Errorf("the FIN's ACK: ack %d with %d SACK blocks %v, want %d and none", last.ack, last.nsack, last.blocks, f.off+1)
	}
}
