package tcp_test

import (
	"testing"
	"time"

	"github.com/usnet/usnet/sched"
	"github.com/usnet/usnet/skb"
	"github.com/usnet/usnet/tcp"
	"github.com/usnet/usnet/tcp/cc"
)

// gate wraps a netem delay line: frames enqueued in [from, until) are held
// back until `until` (a delay spike: the link stalls, nothing is lost) or,
// with drop, discarded (an outage).
type gate struct {
	*sched.Netem
	from, until time.Duration
	drop        bool
}

func (g *gate) Enqueue(b *skb.Buf, now time.Duration) bool {
	if g.until > 0 && now >= g.from && now < g.until {
		if g.drop {
			b.Free()
			return false
		}
		now = g.until // same departure time for all: their order is kept
	}
	return g.Netem.Enqueue(b, now)
}

// gateWorld is a 10 ms RTT world with a gate on a's transmit side;
// timestamps on both ends as ts says.
func gateWorld(t *testing.T, seed uint64, ts bool) (*world, *gate) {
	w := newWorld(t, seed, 1500)
	w.a.TCP.Sysctl.Timestamps, w.b.TCP.Sysctl.Timestamps = ts, ts
	cfg := sched.NetemConfig{Delay: 5 * time.Millisecond, Limit: 100000}
	g := &gate{Netem: sched.NewNetem(cfg, w.a.Exec().Rand(), w.st.Pool())}
	w.a.Exec().Do(func() { w.da.SetQdisc(g) })
	w.b.Exec().Do(func() { w.db.SetQdisc(sched.NewNetem(cfg, w.b.Exec().Rand(), w.st.Pool())) })
	return w, g
}

// spikeRun moves 8 MiB with the gate closed for d once 1 MiB is acknowledged.
// It returns the sender's state just before the timeout, just after the
// first undo, and at the end.
func spikeRun(t *testing.T, w *world, g *gate, d time.Duration) (pre, post, end tcp.Info) {
	t.Helper()
	cli, srv, _ := w.connect(80)
	undone := false
	w.transferWatch(cli, srv, 8<<20, time.Minute, func() {
		i := cli.TCPInfo()
		switch {
		case g.until == 0 && i.BytesAcked >= 1<<20:
			g.from, g.until = w.st.Sim.Now(), w.st.Sim.Now()+d
		case i.Timeouts == 0:
			pre = i
		case !undone && i.LossUndo > 0:
			post, undone = i, true
		}
	})
	return pre, post, cli.TCPInfo()
}

// TestFRTOSpuriousTimeout stalls the data direction for 400 ms (RTO about
// 210 ms) without losing anything and without timestamps, so only F-RTO
// can tell: the first ACK after the stall acknowledges data sent before
// the timeout and never retransmitted (RFC 5682 step 3b). The timeout is
// declared spurious, cwnd and ssthresh come back, and only the head was
// retransmitted. With tcp_frto = 0 the same stall costs a go-back-N
// retransmission of the window and a halved ssthresh, unless D-SACKs for
// every retransmission undo it later.
func TestFRTOSpuriousTimeout(t *testing.T) {
	w, g := gateWorld(t, 31, false)
	pre, post, end := spikeRun(t, w, g, 400*time.Millisecond)
	if end.Timeouts != 1 || end.SpuriousRTOs != 1 || end.LossUndo != 1 {
		t.Fatalf("timeouts %d spurious %d loss undo %d; %+v", end.Timeouts, end.SpuriousRTOs, end.LossUndo, end)
	}
	if post.Cwnd < pre.Cwnd || post.Ssthresh < pre.Ssthresh {
		t.Fatalf("not restored: cwnd %d ssthresh %d before the timeout, %d %d after the undo", pre.Cwnd, pre.Ssthresh, post.Cwnd, post.Ssthresh)
	}
	if end.Retransmits > 2 || end.Recoveries != 0 {
		t.Fatalf("%d retransmissions, %d recoveries after a spurious timeout", end.Retransmits, end.Recoveries)
	}
	t.Logf("before: cwnd %d ssthresh %d; after undo: cwnd %d ssthresh %d; %d retransmits", pre.Cwnd, pre.Ssthresh, post.Cwnd, post.Ssthresh, end.Retransmits)

	w, g = gateWorld(t, 31, false)
	w.a.TCP.Sysctl.FRTO = 0
	_, _, off := spikeRun(t, w, g, 400*time.Millisecond)
	// Without F-RTO the reduction stays unless every go-back-N
	// retransmission comes back D-SACKed, which undoes it later.
	if off.SpuriousRTOs != 0 || off.LossUndo != 0 || off.Retransmits < 10*end.Retransmits+10 || off.Ssthresh >= pre.Cwnd && off.DSACKUndo == 0 {
		t.Fatalf("tcp_frto=0: spurious %d loss undo %d retransmits %d ssthresh %d", off.SpuriousRTOs, off.LossUndo, off.Retransmits, off.Ssthresh)
	}
	t.Logf("tcp_frto=0: %d retransmits, ssthresh %d", off.Retransmits, off.Ssthresh)
}

// TestEifelSpuriousTimeout is the same stall with timestamps: the first
// ACK after it echoes a TSval older than the retransmission
// (tcp_packet_delayed), which undoes the timeout before F-RTO needs to
// judge (TCPLossUndo without TCPSpuriousRTOs, as in Linux).
func TestEifelSpuriousTimeout(t *testing.T) {
	w, g := gateWorld(t, 32, true)
	pre, post, end := spikeRun(t, w, g, 400*time.Millisecond)
	if end.Timeouts != 1 || end.LossUndo != 1 || end.SpuriousRTOs != 0 {
		t.Fatalf("timeouts %d loss undo %d spurious %d; %+v", end.Timeouts, end.LossUndo, end.SpuriousRTOs, end)
	}
	if post.Cwnd < pre.Cwnd || post.Ssthresh < pre.Ssthresh || end.Retransmits > 2 {
		t.Fatalf("cwnd %d→%d ssthresh %d→%d, %d retransmits", pre.Cwnd, post.Cwnd, pre.Ssthresh, post.Ssthresh, end.Retransmits)
	}
}

// TestFRTORealLoss drops everything a sends for 300 ms: the timeouts are
// real. After the outage the ACK of the retransmitted head covers nothing
// else, the two new segments F-RTO sends draw SACKs (step 3a), and the
// reduction stays.
func TestFRTORealLoss(t *testing.T) {
	for _, ts := range []bool{false, true} {
		w, g := gateWorld(t, 33, ts)
		g.drop = true
		pre, _, end := spikeRun(t, w, g, 300*time.Millisecond)
		if end.Timeouts == 0 || end.SpuriousRTOs != 0 || end.LossUndo != 0 || end.FullUndo+end.PartialUndo+end.DSACKUndo != 0 {
			t.Fatalf("ts %v: timeouts %d spurious %d undo loss/full/partial/dsack %d/%d/%d/%d", ts, end.Timeouts, end.SpuriousRTOs,
				end.LossUndo, end.FullUndo, end.PartialUndo, end.DSACKUndo)
		}
		if end.Ssthresh >= pre.Cwnd {
			t.Fatalf("ts %v: ssthresh %d after a real timeout at cwnd %d", ts, end.Ssthresh, pre.Cwnd)
		}
		t.Logf("ts %v: %d timeouts, cwnd %d at the first, ssthresh now %d", ts, end.Timeouts, pre.Cwnd, end.Ssthresh)
	}
}

// reorderOnce holds data frame 20 back by 3 ms on a 10 ms RTT path (a
// frame with others sent after it in its burst): the first reordering,
// which RACK takes for a loss (its window is zero until reordering is
// seen) and repairs by fast retransmit.
func reorderOnce(t *testing.T, ts bool) (first, end tcp.Info) {
	w, _ := hookWorld(t, 34, 5*time.Millisecond, func(n int) (bool, time.Duration) {
		if n == 20 {
			return false, 3 * time.Millisecond
		}
		return false, 0
	})
	w.a.TCP.Sysctl.Timestamps, w.b.TCP.Sysctl.Timestamps = ts, ts
	cli, srv, _ := w.connect(80)
	var pre tcp.Info
	w.transferWatch(cli, srv, 8<<20, time.Minute, func() {
		if i := cli.TCPInfo(); i.Recoveries == 0 {
			pre = i
		}
	})
	return pre, cli.TCPInfo()
}

// TestDSACKUndoReordering: without timestamps only D-SACKs can show the
// fast retransmit was needless. Every retransmission comes back D-SACKed
// (undo_retrans reaches 0) and the reduction is undone
// (tcp_try_undo_dsack): ssthresh is the one from before.
func TestDSACKUndoReordering(t *testing.T) {
	pre, end := reorderOnce(t, false)
	if end.Recoveries != 1 || end.DSACKUndo != 1 || end.FullUndo+end.PartialUndo != 0 {
		t.Fatalf("recoveries %d, undo dsack %d full %d partial %d; %+v", end.Recoveries, end.DSACKUndo, end.FullUndo, end.PartialUndo, end)
	}
	if end.Ssthresh < pre.Ssthresh || end.Cwnd < end.PriorCwnd {
		t.Fatalf("ssthresh %d (was %d), cwnd %d below the %d before recovery", end.Ssthresh, pre.Ssthresh, end.Cwnd, end.PriorCwnd)
	}
	t.Logf("%d retransmissions D-SACKed (%d D-SACKs), ssthresh %d, cwnd %d (prior %d)", end.Retransmits, end.DSACKs, end.Ssthresh, end.Cwnd, end.PriorCwnd)
}

// TestTimestampUndoReordering: with timestamps the ACK for the late
// original echoes its TSval, older than the retransmission (Eifel), so the
// recovery is undone at once, as a full or partial undo, before any
// D-SACK arrives.
func TestTimestampUndoReordering(t *testing.T) {
	pre, end := reorderOnce(t, true)
	if end.Recoveries != 1 || end.FullUndo+end.PartialUndo != 1 || end.DSACKUndo != 0 {
		t.Fatalf("recoveries %d, undo full %d partial %d dsack %d; %+v", end.Recoveries, end.FullUndo, end.PartialUndo, end.DSACKUndo, end)
	}
	if end.Ssthresh < pre.Ssthresh || end.Cwnd < end.PriorCwnd {
		t.Fatalf("ssthresh %d (was %d), cwnd %d below the %d before recovery", end.Ssthresh, pre.Ssthresh, end.Cwnd, end.PriorCwnd)
	}
	t.Logf("undo full %d partial %d; ssthresh %d, cwnd %d (prior %d)", end.FullUndo, end.PartialUndo, end.Ssthresh, end.Cwnd, end.PriorCwnd)
}

// TestRealLossNotUndone drops one data frame: the retransmission is
// needed, no D-SACK comes and the echoed timestamp is the
// retransmission's, so nothing is undone and ssthresh stays at the
// algorithm's reduction (0.7·cwnd for CUBIC, 0.5 for Reno), with and
// without timestamps.
func TestRealLossNotUndone(t *testing.T) {
	for _, algo := range []struct {
		name string
		want func(uint32) uint32
	}{
		{"cubic", func(c uint32) uint32 { return max(c*717/1024, 2) }},
		{"reno", func(c uint32) uint32 { return max(c/2, 2) }},
	} {
		for _, ts := range []bool{false, true} {
			w, _ := hookWorld(t, 35, 5*time.Millisecond, func(n int) (bool, time.Duration) { return n == 30, 0 })
			w.a.TCP.Sysctl.Timestamps, w.b.TCP.Sysctl.Timestamps = ts, ts
			w.a.TCP.Sysctl.CongestionControl = algo.name
			cli, srv, _ := w.connect(80)
			w.transfer(cli, srv, 4<<20, time.Minute)
			i := cli.TCPInfo()
			if i.Recoveries != 1 || i.FullUndo+i.PartialUndo+i.DSACKUndo+i.LossUndo != 0 {
				t.Fatalf("%s ts %v: recoveries %d undo full/partial/dsack/loss %d/%d/%d/%d", algo.name, ts, i.Recoveries, i.FullUndo, i.PartialUndo, i.DSACKUndo, i.LossUndo)
			}
			if i.Ssthresh != algo.want(i.PriorCwnd) || i.Ssthresh == cc.InfiniteSsthresh {
				t.Fatalf("%s ts %v: ssthresh %d after loss at cwnd %d, want %d", algo.name, ts, i.Ssthresh, i.PriorCwnd, algo.want(i.PriorCwnd))
			}
		}
	}
}
