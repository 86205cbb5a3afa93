package tcp_test

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/sched"
	"github.com/usnet/usnet/skb"
	"github.com/usnet/usnet/tcp"
)

// seqHook wraps a netem delay line on a's transmit side and shows fn the
// sequence number and payload length of every TCP data frame, which it
// may drop or hold back.
type seqHook struct {
	*sched.Netem
	fn func(seq uint32, n int, now time.Duration) (drop bool, extra time.Duration)
}

func (h *seqHook) Enqueue(b *skb.Buf, now time.Duration) bool {
	if b.L3 >= 0 && h.fn != nil {
		ip := b.From(b.L3)
		if len(ip) >= 20 && ip[9] == 6 {
			ihl := int(ip[0]&0xf) * 4
			if t := ip[ihl:]; len(t) >= 20 {
				if n := len(t) - int(t[12]>>4)*4; n > 0 {
					drop, extra := h.fn(binary.BigEndian.Uint32(t[4:]), n, now)
					if drop {
						b.Free()
						return false
					}
					now += extra
				}
			}
		}
	}
	return h.Netem.Enqueue(b, now)
}

// seqWorld is a 10 ms RTT world with a seqHook on a's transmit side.
func seqWorld(t *testing.T, seed uint64, fn func(seq uint32, n int, now time.Duration) (bool, time.Duration)) *world {
	w := newWorld(t, seed, 1500)
	cfg := sched.NetemConfig{Delay: 5 * time.Millisecond, Limit: 100000}
	h := &seqHook{Netem: sched.NewNetem(cfg, w.a.Exec().Rand(), w.st.Pool()), fn: fn}
	w.a.Exec().Do(func() { w.da.SetQdisc(h) })
	w.b.Exec().Do(func() { w.db.SetQdisc(sched.NewNetem(cfg, w.b.Exec().Rand(), w.st.Pool())) })
	return w
}

// sendAll sends n bytes from cli and runs until srv has read them all and
// cli has seen them acknowledged.
func sendAll(t *testing.T, w *world, cli, srv *tcp.Conn, n int, limit time.Duration) {
	t.Helper()
	p := make([]byte, n)
	buf := make([]byte, 64<<10)
	target := cli.Info.BytesAcked + uint64(n)
	got := 0
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
		for {
			k, _, err := srv.Recv(buf)
			if err != nil {
				t.Fatal(err)
			}
			if k == 0 {
				break
			}
			got += k
		}
		return got == n && cli.Info.BytesAcked == target
	}) {
		t.Fatalf("%d of %d bytes arrived, %d acknowledged of %d; %+v", got, n, cli.Info.BytesAcked, target, cli.TCPInfo())
	}
}

// Tail sizes: payload lengths no other frame of the tests has.
const (
	tailA = 777
	tailB = 555
)

// tailRun warms a connection up with 64 KiB, then sends a lone segment
// of tailA bytes, then one of tailB bytes, each once the one before is
// acknowledged and 200 ms more have passed; fn sees a's data frames. It returns the sender's state
// before the first tail and at the end.
func tailRun(t *testing.T, algo string, fn func(seq uint32, n int, now time.Duration) (bool, time.Duration)) (pre, end tcp.Info, st tcp.Stats) {
	t.Helper()
	return tailRunTS(t, algo, true, fn)
}

// tailRunTS is tailRun with timestamps on or off.
func tailRunTS(t *testing.T, algo string, ts bool, fn func(seq uint32, n int, now time.Duration) (bool, time.Duration)) (pre, end tcp.Info, st tcp.Stats) {
	t.Helper()
	w := seqWorld(t, 41, fn)
	w.a.TCP.Sysctl.CongestionControl = algo
	w.a.TCP.Sysctl.Timestamps, w.b.TCP.Sysctl.Timestamps = ts, ts
	cli, srv, _ := w.connect(80)
	sendAll(t, w, cli, srv, 64<<10, 10*time.Second)
	w.st.Sim.RunFor(20 * time.Millisecond)
	pre = cli.TCPInfo()
	sendAll(t, w, cli, srv, tailA, 10*time.Second)
	w.st.Sim.RunFor(200 * time.Millisecond) // late arrivals settle
	sendAll(t, w, cli, srv, tailB, 10*time.Second)
	return pre, cli.TCPInfo(), w.a.TCP.Stats
}

// once returns a hook acting on the first frame of n bytes only.
func once(n int, drop bool, extra time.Duration) func(uint32, int, time.Duration) (bool, time.Duration) {
	done := false
	return func(_ uint32, k int, _ time.Duration) (bool, time.Duration) {
		if k != n || done {
			return false, 0
		}
		done = true
		return drop, extra
	}
}

// TestTLPRepairReduces drops the lone tail segment: the probe (a
// retransmission of it) repairs the loss before any RTO, and no D-SACK
// comes for it. When the next segment, sent after the probe, is
// acknowledged, the episode ends in a reduction as Linux's
// tcp_process_tlp_ack makes it: ssthresh from the algorithm (0.7·cwnd
// for CUBIC, 0.5 for Reno), cwnd set to it at once, back to Open — no
// fast recovery, no timeout (TCPLossProbeRecovery).
func TestTLPRepairReduces(t *testing.T) {
	for _, algo := range []struct {
		name string
		want func(uint32) uint32
	}{
		{"cubic", func(c uint32) uint32 { return max(c*717/1024, 2) }},
		{"reno", func(c uint32) uint32 { return max(c/2, 2) }},
	} {
		pre, end, st := tailRun(t, algo.name, once(tailA, true, 0))
		if end.TLPs != 1 || end.TLPRecoveries != 1 || end.Timeouts != 0 || end.Recoveries != 0 {
			t.Fatalf("%s: TLPs %d TLP recoveries %d timeouts %d recoveries %d; %+v", algo.name, end.TLPs, end.TLPRecoveries, end.Timeouts, end.Recoveries, end)
		}
		if st.TCPLossProbes != 1 || st.TCPLossProbeRecovery != 1 {
			t.Fatalf("%s: TCPLossProbes %d TCPLossProbeRecovery %d", algo.name, st.TCPLossProbes, st.TCPLossProbeRecovery)
		}
		if end.PriorCwnd != pre.Cwnd || end.Ssthresh != algo.want(pre.Cwnd) || end.Cwnd != end.Ssthresh {
			t.Fatalf("%s: cwnd %d before; after: prior %d, ssthresh %d (want %d), cwnd %d (want ssthresh)",
				algo.name, pre.Cwnd, end.PriorCwnd, end.Ssthresh, algo.want(pre.Cwnd), end.Cwnd)
		}
		t.Logf("%s: cwnd %d → %d, ssthresh %d", algo.name, pre.Cwnd, end.Cwnd, end.Ssthresh)
	}
}

// TestTLPDSACKNoReduction holds the lone tail segment back by 300 ms
// instead: the probe arrives first, the late original draws a D-SACK for
// the probe's range (FLAG_DSACK_TLP), so nothing was lost and nothing is
// reduced.
func TestTLPDSACKNoReduction(t *testing.T) {
	for _, ts := range []bool{true, false} {
		tlpDSACK(t, ts)
	}
}

func tlpDSACK(t *testing.T, ts bool) {
	pre, end, st := tailRunTS(t, "cubic", ts, once(tailA, false, 300*time.Millisecond))
	if end.TLPs != 1 || end.DSACKs == 0 {
		t.Fatalf("ts %v: TLPs %d D-SACKs %d; %+v", ts, end.TLPs, end.DSACKs, end)
	}
	if end.TLPRecoveries != 0 || st.TCPLossProbeRecovery != 0 || end.Timeouts != 0 || end.Recoveries != 0 {
		t.Fatalf("ts %v: TLP recoveries %d/%d timeouts %d recoveries %d; %+v", ts, end.TLPRecoveries, st.TCPLossProbeRecovery, end.Timeouts, end.Recoveries, end)
	}
	if end.Cwnd != pre.Cwnd || end.Ssthresh != pre.Ssthresh {
		t.Fatalf("ts %v: cwnd %d→%d ssthresh %d→%d after a needless probe", ts, pre.Cwnd, end.Cwnd, pre.Ssthresh, end.Ssthresh)
	}
}

// TestTLPOnePerEpisode drops both tails. The probe repairs the first; its
// ACK reaches but does not pass the episode's snd_nxt, so the episode is
// still open when the second tail is lost: the probe timer fires again
// but sends nothing (at most one probe per episode, tlp_high_seq), and
// the RTO repairs the second tail. The timeout ends the episode without
// a probe reduction.
func TestTLPOnePerEpisode(t *testing.T) {
	a, b := once(tailA, true, 0), once(tailB, true, 0)
	_, end, st := tailRun(t, "cubic", func(seq uint32, n int, now time.Duration) (bool, time.Duration) {
		if d, _ := a(seq, n, now); d {
			return true, 0
		}
		return b(seq, n, now)
	})
	if end.TLPs != 1 || st.TCPLossProbes != 1 || end.Timeouts != 1 || end.TLPRecoveries != 0 {
		t.Fatalf("TLPs %d/%d timeouts %d TLP recoveries %d; %+v", end.TLPs, st.TCPLossProbes, end.Timeouts, end.TLPRecoveries, end)
	}
	if end.Retransmits != 2 {
		t.Fatalf("%d retransmissions, want the probe and the RTO's", end.Retransmits)
	}
}

// TestLostRetransmitInLoss stalls the data direction for 150 ms (every
// frame dropped) so the RTO fires, and then drops the second
// retransmission of the go-back-N that follows. The third gets through
// and is SACKed; RACK sees the second, sent before it, was lost again
// (TCPLostRetransmit), and as Linux does (FLAG_LOST_RETRANS in
// tcp_fastretrans_alert) the sender moves from Loss to Recovery, whose
// PRR clocks the repair out on the SACKs: no second timeout.
func TestLostRetransmitInLoss(t *testing.T) {
	for _, frto := range []int{2, 0} {
		var from, until time.Duration
		var maxEnd uint32
		rexmits, dropped := 0, false
		w := seqWorld(t, 42, func(seq uint32, n int, now time.Duration) (bool, time.Duration) {
			end := seq + uint32(n)
			retx := maxEnd != 0 && int32(end-maxEnd) <= 0
			if !retx {
				maxEnd = end
			}
			switch {
			case until == 0:
			case now < until:
				return now >= from, 0
			case retx && !dropped:
				if rexmits++; rexmits == 2 {
					dropped = true
					return true, 0
				}
			}
			return false, 0
		})
		w.a.TCP.Sysctl.FRTO = frto
		cli, srv, _ := w.connect(80)
		d := w.transferWatch(cli, srv, 4<<20, time.Minute, func() {
			if until == 0 && cli.Info.BytesAcked >= 1<<20 {
				from, until = w.st.Sim.Now(), w.st.Sim.Now()+150*time.Millisecond
			}
		})
		i, st := cli.TCPInfo(), w.a.TCP.Stats
		if !dropped || i.Timeouts != 1 {
			t.Fatalf("frto %d: retransmission dropped %v, %d timeouts; %+v", frto, dropped, i.Timeouts, i)
		}
		if i.LostRetransmits != 1 || st.TCPLostRetransmit != 1 || i.Recoveries != 1 {
			t.Fatalf("frto %d: lost retransmits %d/%d, recoveries %d; %+v", frto, i.LostRetransmits, st.TCPLostRetransmit, i.Recoveries, i)
		}
		t.Logf("frto %d: %v; %+v", frto, d, i)
	}
}

// TestPTOCappedByRTODelta: a probe timer re-armed when new data goes out
// fires no later than the RTO of the oldest outstanding segment
// (tcp_schedule_loss_probe after a send caps the probe timeout by
// tcp_rto_delta_us, the time left to that RTO, not by a whole RTO). On a
// 100 ms RTT path (SRTT about 150 ms: the receiver delays its ACKs),
// segment A goes out at t0 and is lost; B follows at t0+200 ms. With two
// segments out the probe timeout is 2·SRTT + 2 ms (TCP_TIMEOUT_MIN), so
// from B about t0+500 ms; the RTO of A is due at t0 + RTO (about 470 ms),
// and that is when the probe goes.
func TestPTOCappedByRTODelta(t *testing.T) {
	var drop bool
	var frames []time.Duration
	w := newWorld(t, 43, 1500)
	cfg := sched.NetemConfig{Delay: 50 * time.Millisecond, Limit: 100000}
	h := &seqHook{Netem: sched.NewNetem(cfg, w.a.Exec().Rand(), w.st.Pool()), fn: func(_ uint32, _ int, now time.Duration) (bool, time.Duration) {
		if drop {
			frames = append(frames, now)
		}
		return drop, 0
	}}
	w.a.Exec().Do(func() { w.da.SetQdisc(h) })
	w.b.Exec().Do(func() { w.db.SetQdisc(sched.NewNetem(cfg, w.b.Exec().Rand(), w.st.Pool())) })
	cli, srv, _ := w.connect(80)
	cli.NoDelay = true
	for i := 0; i < 5; i++ {
		sendAll(t, w, cli, srv, 1000, 10*time.Second)
	}
	w.st.Sim.RunFor(300 * time.Millisecond)
	drop = true
	t0 := w.st.Sim.Now()
	rto := cli.TCPInfo().RTO
	if n, _ := cli.Send(make([]byte, 100)); n != 100 {
		t.Fatal("send A")
	}
	w.st.Sim.RunFor(200 * time.Millisecond)
	if n, _ := cli.Send(make([]byte, 100)); n != 100 {
		t.Fatal("send B")
	}
	if pto := 200*time.Millisecond + 2*cli.TCPInfo().RTT + 2*time.Millisecond; pto <= rto {
		t.Fatalf("probe timeout from B %v, not beyond A's RTO %v: nothing to cap", pto, rto)
	}
	w.st.Sim.RunFor(400 * time.Millisecond)
	if len(frames) < 3 {
		t.Fatalf("frames at %v: no probe", frames)
	}
	if got := frames[2] - t0; got != rto {
		t.Fatalf("probe %v after A, want its RTO %v (SRTT %v); frames %v", got, rto, cli.TCPInfo().RTT, frames)
	}
	if cli.Info.TLPs != 1 {
		t.Fatalf("%d probes, want 1", cli.Info.TLPs)
	}
}

// TestTLPProbesLoneFIN loses the tail of a connection's last flight: its
// last data segment and the FIN after it, sent on its own (the data went
// out before the close). As Linux's tcp_send_loss_probe, the probe
// retransmits the highest-sequence segment, the FIN itself: it arrives
// out of order, its SACK shows the data lost, and fast recovery repairs
// it with no timeout. With two segments out the probe timeout is
// 2·SRTT + 2 ms (packets_out, not bytes, decides).
func TestTLPProbesLoneFIN(t *testing.T) {
	w := newWorld(t, 151, 1500)
	qa, _ := w.wires(5 * time.Millisecond)
	cli, srv, _ := w.connect(80)
	w.st.Sim.RunFor(50 * time.Millisecond)
	sendAll(t, w, cli, srv, 20000, time.Second)
	w.st.Sim.RunFor(50 * time.Millisecond)
	var dropped [2]bool
	qa.drop = func(s *wireSeg) bool {
		switch {
		case s.n == 1000 && !dropped[0]:
			dropped[0] = true
			return true
		case s.flags&header.TCPFlagFIN != 0 && !dropped[1]:
			dropped[1] = true
			return true
		}
		return false
	}
	m := len(qa.segs)
	srtt := cli.TCPInfo().RTT
	if n, err := cli.Send(make([]byte, 1000)); n != 1000 || err != nil {
		t.Fatal(n, err)
	}
	cli.Close()
	buf := make([]byte, 2000)
	got, eof := 0, false
	if !w.run(3*time.Second, func() bool {
		n, e, _ := srv.Recv(buf)
		got += n
		eof = eof || e
		return eof && cli.State() == tcp.FinWait2
	}) {
		t.Fatalf("not closed: %d bytes, eof %v, client %v; sent %+v", got, eof, cli.State(), qa.segs[m:])
	}
	if !dropped[0] || !dropped[1] || got != 1000 {
		t.Fatalf("dropped %v, %d bytes read", dropped, got)
	}
	segs := qa.segs[m:]
	if len(segs) < 3 || segs[2].flags&header.TCPFlagFIN == 0 || segs[2].n != 0 {
		t.Fatalf("client sent %+v, want the probe to be the lone FIN", segs)
	}
	// Two segments out (data, then the FIN on its own): 2·SRTT + 2 ms,
	// not the one-segment rule's room for a delayed ACK.
	if d := segs[2].at - segs[1].at; d != 2*srtt+2*time.Millisecond {
		t.Fatalf("probe %v after the FIN, want 2·SRTT + 2 ms (SRTT %v)", d, srtt)
	}
	if cli.Info.TLPs != 1 || cli.Info.Timeouts != 0 {
		t.Fatalf("TLPs %d timeouts %d, want one probe and no timeout", cli.Info.TLPs, cli.Info.Timeouts)
	}
}

// TestDisorderOnReordering holds one segment back by 1 ms on a 10 ms
// RTT path: the SACK for the one behind it puts the sender in Disorder
// (tcp_try_keep_open; RACK's window of min_rtt/4 keeps it from
// Recovery), and the ACK that fills the hole takes it back to Open.
func TestDisorderOnReordering(t *testing.T) {
	const open, disorder = 0, 1
	w := seqWorld(t, 47, once(700, false, time.Millisecond))
	cli, srv, _ := w.connect(80)
	cli.NoDelay = true
	sendAll(t, w, cli, srv, 64<<10, 10*time.Second)
	w.st.Sim.RunFor(300 * time.Millisecond)
	for _, n := range []int{700, 800} {
		if k, err := cli.Send(make([]byte, n)); k != n || err != nil {
			t.Fatal(k, err)
		}
	}
	if cli.CAState() != open {
		t.Fatalf("state %d before, want Open", cli.CAState())
	}
	w.st.Sim.RunFor(10*time.Millisecond + 500*time.Microsecond) // the SACK is in
	if cli.CAState() != disorder {
		t.Fatalf("state %d after the SACK, want Disorder (%+v)", cli.CAState(), cli.Info)
	}
	w.st.Sim.RunFor(time.Millisecond) // the hole's ACK is in
	if cli.CAState() != open || cli.Info.Retransmits != 0 {
		t.Fatalf("state %d after the hole filled, %d retransmissions; want Open, none", cli.CAState(), cli.Info.Retransmits)
	}
}
