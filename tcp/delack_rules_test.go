package tcp_test

import (
	"testing"
	"time"

	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/sched"
	"github.com/usnet/usnet/tcp"
)

// TestDelayedAckPingpong: a request/response exchange makes the server
// interactive (tcp_event_data_sent: data sent within ato of the last
// receive, tcp_pingpong_thresh 1). The first request is acknowledged at
// once (quick-ack mode from the first data); later ones are not, the
// reply carries the ACK. When a request gets no reply the delayed-ACK
// timer fires in pingpong mode, which leaves it and deflates ato to
// TCP_ATO_MIN (tcp_delack_timer_handler).
func TestDelayedAckPingpong(t *testing.T) {
	const owd = time.Millisecond
	w := newWorld(t, 105, 1500)
	qa, qb := w.wires(owd)
	cli, srv, _ := w.connect(80)
	cli.NoDelay, srv.NoDelay = true, true
	w.st.Sim.RunFor(10 * time.Millisecond)
	buf := make([]byte, 4096)
	// exchange sends a 100-byte request and, if reply, answers it as soon
	// as it is read; it returns the segments b sent meanwhile.
	exchange := func(reply bool) []wireSeg {
		mb := len(qb.segs)
		if n, err := cli.Send(make([]byte, 100)); n != 100 || err != nil {
			t.Fatal(n, err)
		}
		end := cli.SndNxt()
		got := 0
		if !w.run(time.Second, func() bool {
			n, _, _ := srv.Recv(buf)
			got += n
			return got == 100
		}) {
			t.Fatal("request not received")
		}
		if reply {
			if n, err := srv.Send(make([]byte, 100)); n != 100 || err != nil {
				t.Fatal(n, err)
			}
		}
		w.st.Sim.RunFor(5 * time.Millisecond)
		segs := qb.segs[mb:]
		for _, s := range segs {
			if s.n > 0 && s.ack != end {
				t.Fatalf("reply acknowledges %d, want the request's end %d", s.ack, end)
			}
		}
		return segs
	}
	pure := func(segs []wireSeg) int {
		k := 0
		for _, s := range segs {
			if s.n == 0 && s.flags == header.TCPFlagACK {
				k++
			}
		}
		return k
	}
	if segs := exchange(true); pure(segs) != 1 || len(segs) != 2 {
		t.Fatalf("first exchange: server sent %+v, want a quick ACK then the reply", segs)
	}
	if srv.Pingpong() != 1 {
		t.Fatalf("pingpong %d after a reply within ato, want 1", srv.Pingpong())
	}
	for i := 2; i <= 10; i++ {
		w.st.Sim.RunFor(25 * time.Millisecond) // requests about 30 ms apart
		if segs := exchange(true); pure(segs) != 0 || len(segs) != 1 {
			t.Fatalf("exchange %d: server sent %+v, want only the reply carrying the ACK", i, segs)
		}
	}
	// Gaps of 30 ms below ato pull it to ato/2 + 30 ms (60 ms in the
	// limit).
	if srv.ATO() <= 40*time.Millisecond {
		t.Fatalf("ato %v after requests 30 ms apart, want above 40 ms", srv.ATO())
	}
	// A request left unanswered: the timer, bounded by the SRTT floored
	// at TCP_DELACK_MIN, sends the ACK after 40 ms.
	w.st.Sim.RunFor(25 * time.Millisecond)
	delayed := w.b.TCP.Stats.DelayedACKs
	ma, mb := len(qa.segs), len(qb.segs)
	exchange(false)
	w.st.Sim.RunFor(250 * time.Millisecond)
	req, segs := qa.segs[ma], qb.segs[mb:]
	if pure(segs) != 1 || len(segs) != 1 {
		t.Fatalf("unanswered request: server sent %+v, want one delayed ACK", segs)
	}
	if d := segs[0].at - req.at - owd; d != 40*time.Millisecond {
		t.Fatalf("unanswered request acknowledged after %v, want 40 ms", d)
	}
	if w.b.TCP.Stats.DelayedACKs != delayed+1 {
		t.Fatalf("DelayedACKs %d, want %d", w.b.TCP.Stats.DelayedACKs, delayed+1)
	}
	if srv.Pingpong() != 0 || srv.ATO() != 40*time.Millisecond {
		t.Fatalf("after the timer in pingpong mode: pingpong %d ato %v, want 0 and 40 ms", srv.Pingpong(), srv.ATO())
	}
}

// forgedRx is a connection whose server end is fed forged segments from
// the client's side (timestamps off, so no options) and whose segments
// are recorded and go no further.
type forgedRx struct {
	t        *testing.T
	w        *world
	cli, srv *tcp.Conn
	off      uint32 // next sequence offset from the client's snd_nxt
	owd      time.Duration
	acks     []forgedAck
	buf      []byte
}

type forgedAck struct {
	at     time.Duration
	ack    uint32 // offset from the client's snd_nxt
	win    uint16
	nsack  int
	blocks [][2]uint32 // the SACK blocks, offsets from the client's snd_nxt
}

func newForgedRx(t *testing.T, seed uint64) *forgedRx { return newForgedRxWith(t, seed, nil) }

// newForgedRxWith is newForgedRx calling set before the connection opens
// (set may install wires of one-way delay owd and set f.owd).
func newForgedRxWith(t *testing.T, seed uint64, set func(*forgedRx)) *forgedRx {
	w := newWorld(t, seed, 1500)
	w.a.TCP.Sysctl.Timestamps, w.b.TCP.Sysctl.Timestamps = false, false
	f := &forgedRx{t: t, w: w, buf: make([]byte, 64<<10)}
	if set != nil {
		set(f)
	}
	f.cli, f.srv, _ = w.connect(80)
	cli := f.cli
	base := cli.SndNxt()
	sink := &ackSink{Netem: sched.NewNetem(sched.NetemConfig{}, w.b.Exec().Rand(), w.st.Pool()), fn: func(h header.TCP) {
		var o header.TCPOptions
		h.ParseOptions(&o)
		a := forgedAck{at: w.st.Sim.Now(), ack: h.Ack() - base, win: h.Window(), nsack: o.NumSACK}
		for _, b := range o.SACK[:o.NumSACK] {
			a.blocks = append(a.blocks, [2]uint32{b.Start - base, b.End - base})
		}
		f.acks = append(f.acks, a)
	}}
	w.b.Exec().Do(func() { w.db.SetQdisc(sink) })
	w.st.Sim.RunFor(10 * time.Millisecond)
	return f
}

// send forges n bytes at the next offset, with PSH if psh, and lets them
// arrive.
func (f *forgedRx) send(n int, psh bool) {
	var flags header.TCPFlags
	if psh {
		flags = header.TCPFlagPSH
	}
	forgeDataFlags(f.t, f.w, f.cli, f.srv, f.off, n, flags)
	f.off += uint32(n)
	f.w.st.Sim.RunFor(f.owd)
}

// burst forges k segments of n bytes back to back and lets them arrive.
func (f *forgedRx) burst(k, n int) {
	for range k {
		forgeDataFlags(f.t, f.w, f.cli, f.srv, f.off, n, 0)
		f.off += uint32(n)
	}
	f.w.st.Sim.RunFor(f.owd)
}

// read drains the server's receive queue.
func (f *forgedRx) read() {
	for {
		n, _, err := f.srv.Recv(f.buf)
		if err != nil {
			f.t.Fatal(err)
		}
		if n == 0 {
			f.w.st.Sim.RunFor(0) // what the read sent
			return
		}
	}
}

// since returns the ACKs sent after the first k.
func (f *forgedRx) since(k int) []forgedAck { return f.acks[k:] }

// TestDelayedAckRcvMSS: tcp_measure_rcv_mss learns the peer's segment
// size, so half-MSS segments of a peer with a small MSS are acknowledged
// every second one, as full ones are; a pushed segment (PSH on a full
// one, or a short one) sets ICSK_ACK_PUSHED, so the reader draining it
// sends the ACK (tcp_cleanup_rbuf), where an unpushed one waits; a short
// segment of the same size twice running becomes rcv_mss.
func TestDelayedAckRcvMSS(t *testing.T) {
	f := newForgedRx(t, 106)
	if m := f.srv.TCPInfo().RcvMSS; m != 536 {
		t.Fatalf("rcv_mss %d before data, want TCP_MSS_DEFAULT 536", m)
	}
	// Quick-ack mode: every segment acknowledged at once, 16 times.
	for i := 0; i < 16; i++ {
		k := len(f.acks)
		f.send(700, false)
		if len(f.since(k)) != 1 {
			t.Fatalf("segment %d of quick-ack mode: %d ACKs, want 1", i, len(f.since(k)))
		}
		f.read()
		f.w.st.Sim.RunFor(5 * time.Millisecond)
	}
	if m := f.srv.TCPInfo().RcvMSS; m != 700 {
		t.Fatalf("rcv_mss %d after 700-byte segments, want 700", m)
	}
	if q := f.srv.QuickAcks(); q != 0 {
		t.Fatalf("%d quick ACKs left, want 0", q)
	}
	// Pairs of 700-byte segments: more than rcv_mss since the last
	// window advertised at the second of each, so one ACK per pair, at
	// once (with rcv_mss still 536 each segment would draw one).
	for i := 0; i < 10; i++ {
		k := len(f.acks)
		f.send(700, false)
		if len(f.since(k)) != 0 {
			t.Fatalf("pair %d: the first segment acknowledged at once", i)
		}
		f.send(700, false)
		if a := f.since(k); len(a) != 1 || a[0].ack != f.off {
			t.Fatalf("pair %d: ACKs %+v, want one of %d", i, a, f.off)
		}
		f.read()
		f.w.st.Sim.RunFor(5 * time.Millisecond)
	}
	// A lone full segment with PSH: held while unread, acknowledged by
	// the read that drains it.
	for i := 0; i < 3; i++ {
		k := len(f.acks)
		f.send(700, true)
		f.w.st.Sim.RunFor(2 * time.Millisecond)
		if len(f.since(k)) != 0 {
			t.Fatalf("pushed segment %d acknowledged before it was read", i)
		}
		f.read()
		if a := f.since(k); len(a) != 1 || a[0].ack != f.off {
			t.Fatalf("pushed segment %d: ACKs %+v after the read, want one of %d", i, a, f.off)
		}
		f.w.st.Sim.RunFor(10 * time.Millisecond)
	}
	// Without PSH the read sends nothing: the delayed-ACK timer does.
	k := len(f.acks)
	f.send(700, false)
	f.w.st.Sim.RunFor(2 * time.Millisecond)
	f.read()
	if len(f.since(k)) != 0 {
		t.Fatal("unpushed full segment acknowledged by the read")
	}
	// (Not waiting longer than needed: a silence beyond the RTO would
	// start quick-ack mode again.)
	delayed := f.w.b.TCP.Stats.DelayedACKs
	f.w.run(250*time.Millisecond, func() bool { return len(f.since(k)) > 0 })
	if a := f.since(k); len(a) != 1 || a[0].ack != f.off || f.w.b.TCP.Stats.DelayedACKs != delayed+1 {
		t.Fatalf("unpushed full segment: ACKs %+v, want one from the timer", a)
	}
	// Short segments (300 bytes, no PSH). The first is short of rcv_mss:
	// pushed, so the read acknowledges it. The second of the same size
	// becomes rcv_mss and is not pushed: the read sends nothing. The
	// third makes more than rcv_mss unacknowledged: an ACK at once.
	f.w.st.Sim.RunFor(10 * time.Millisecond)
	k = len(f.acks)
	f.send(300, false)
	f.read()
	if a := f.since(k); len(a) != 1 || a[0].ack != f.off {
		t.Fatalf("first short segment: ACKs %+v after the read, want one of %d", a, f.off)
	}
	f.w.st.Sim.RunFor(5 * time.Millisecond)
	k = len(f.acks)
	f.send(300, false)
	f.read()
	if len(f.since(k)) != 0 {
		t.Fatal("second short segment acknowledged, want it held")
	}
	if m := f.srv.TCPInfo().RcvMSS; m != 300 {
		t.Fatalf("rcv_mss %d after two 300-byte segments, want 300", m)
	}
	f.w.st.Sim.RunFor(5 * time.Millisecond)
	f.send(300, false)
	if a := f.since(k); len(a) != 1 || a[0].ack != f.off {
		t.Fatalf("third short segment: ACKs %+v, want one of %d at once", a, f.off)
	}
}

// TestDelayedAckWindow: __tcp_ack_snd_check sends the ACK for more than
// rcv_mss only if the window it would offer is no smaller than the one
// last advertised. A receiver whose reader keeps up acknowledges every
// second full segment; one whose application does not read offers less
// with each segment, so it delays (the reader's tcp_cleanup_rbuf would
// send the ACK as it frees room).
func TestDelayedAckWindow(t *testing.T) {
	count := func(read bool) (immediate int) {
		f := newForgedRx(t, 107)
		for i := 0; i < 20; i++ {
			k := len(f.acks)
			f.send(1460, false)
			f.send(1460, false)
			if i >= 9 { // quick-ack mode is over (16 segments)
				for _, a := range f.since(k) {
					if a.ack == f.off {
						immediate++
					}
				}
			}
			if read {
				f.read()
			}
			f.w.st.Sim.RunFor(5 * time.Millisecond)
		}
		return immediate
	}
	reading, idle := count(true), count(false)
	t.Logf("pairs 9-19 acknowledged at once: reading %d, not reading %d", reading, idle)
	if reading != 11 {
		t.Fatalf("reading receiver acknowledged %d of 11 pairs at once, want all", reading)
	}
	if idle > 2 {
		t.Fatalf("receiver not reading acknowledged %d of 11 pairs at once, want its ACKs delayed", idle)
	}
}
