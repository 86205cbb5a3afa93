package tcp_test

import (
	"testing"
	"time"

	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/sched"
	"github.com/usnet/usnet/skb"
)

// hook wraps a netem delay line and lets a test drop or hold back data
// frames (longer than 1000 bytes) by their ordinal, counted from 1.
type hook struct {
	*sched.Netem
	seen    int
	fn      func(n int) (drop bool, extra time.Duration)
	dropFIN int // FIN segments still to drop
}

func (h *hook) Enqueue(b *skb.Buf, now time.Duration) bool {
	if h.dropFIN > 0 && b.L3 >= 0 {
		if ip := b.From(b.L3); len(ip) >= 20 && ip[9] == 6 {
			if t := header.TCP(ip[int(ip[0]&0xf)*4:]); len(t) >= 20 && t.Flags()&header.TCPFlagFIN != 0 {
				h.dropFIN--
				b.Free()
				return false
			}
		}
	}
	if b.Len() > 1000 {
		h.seen++
		if h.fn != nil {
			drop, extra := h.fn(h.seen)
			if drop {
				b.Free()
				return false
			}
			now += extra
		}
	}
	return h.Netem.Enqueue(b, now)
}

// hookWorld is a world with delay on both directions and a hook on a's
// transmit side.
func hookWorld(t *testing.T, seed uint64, delay time.Duration, fn func(int) (bool, time.Duration)) (*world, *hook) {
	w := newWorld(t, seed, 1500)
	cfg := sched.NetemConfig{Delay: delay, Limit: 100000}
	h := &hook{Netem: sched.NewNetem(cfg, w.a.Exec().Rand(), w.st.Pool()), fn: fn}
	w.a.Exec().Do(func() { w.da.SetQdisc(h) })
	w.b.Exec().Do(func() { w.db.SetQdisc(sched.NewNetem(cfg, w.b.Exec().Rand(), w.st.Pool())) })
	return w, h
}

// TestRACKReorderNoSpuriousRetransmit holds every 25th data frame back by
// 1 ms on a 10 ms RTT path: reordering, no loss. Like Linux, the first
// event (no reordering seen yet, many segments SACKed) is taken for a loss;
// from then on RACK's window of min_rtt/4 (2.5 ms) covers the delay and
// nothing is retransmitted. The three-dupACK rule retransmitted at every
// event.
func TestRACKReorderNoSpuriousRetransmit(t *testing.T) {
	events := 0
	w, _ := hookWorld(t, 21, 5*time.Millisecond, func(n int) (bool, time.Duration) {
		if n%25 == 0 {
			events++
			return false, time.Millisecond
		}
		return false, 0
	})
	cli, srv, _ := w.connect(80)
	var snap uint64
	snapped := false
	settle := time.Duration(0)
	end := w.transferWatch(cli, srv, 32<<20, time.Hour, func() {
		if snapped || events < 3 || cli.Info.ReordSeen == 0 {
			return
		}
		if settle == 0 {
			settle = w.st.Sim.Now() + 50*time.Millisecond // let that event's recovery end
		} else if w.st.Sim.Now() >= settle {
			snap, snapped = cli.Info.Retransmits, true
		}
	})
	if events < 20 || !snapped {
		t.Fatalf("only %d reordering events (snapshot %v)", events, snapped)
	}
	if cli.Info.Retransmits != snap {
		t.Fatalf("%d spurious retransmissions after reordering was seen (%d before); %+v", cli.Info.Retransmits-snap, snap, cli.Info)
	}
	t.Logf("%d reorder events, %d retransmits all before detection, %v; %+v", events, snap, end, cli.Info)
}

// TestTailLossProbe drops the last data frame of a transfer and the FIN
// sent after it (which, SACKed, would show the loss by itself): the tail
// loss probe's ACK lets RACK repair it without a retransmission timeout.
func TestTailLossProbe(t *testing.T) {
	const size = 300 << 10
	// Count the data frames of the clean run (the simulation repeats).
	w, h := hookWorld(t, 22, 5*time.Millisecond, nil)
	cli, srv, _ := w.connect(80)
	w.transfer(cli, srv, size, time.Minute)
	frames := h.seen
	w, h = hookWorld(t, 22, 5*time.Millisecond, func(n int) (bool, time.Duration) { return n == frames, 0 })
	h.dropFIN = 1
	cli, srv, _ = w.connect(80)
	d := w.transfer(cli, srv, size, time.Minute)
	i := cli.Info
	if i.Timeouts != 0 || i.TLPs == 0 || i.Retransmits == 0 {
		t.Fatalf("tail loss of frame %d: timeouts %d TLPs %d retransmits %d", frames, i.Timeouts, i.TLPs, i.Retransmits)
	}
	if d >= 200*time.Millisecond { // below any RTO (>= 200 ms)
		t.Fatalf("recovery took %v", d)
	}
	t.Logf("frame %d of %d dropped, recovered in %v with %d TLPs: %+v", frames, frames, d, i.TLPs, i)
}
