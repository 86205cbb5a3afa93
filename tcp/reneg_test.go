package tcp_test

import (
	"testing"
	"time"

	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/skb"
)

// TestSACKReneging: segments B and C are SACKed after A was lost; then an
// ACK covers A and stops at B, which the receiver had SACKed — it
// reneged. As tcp_check_sack_reneging, the sender does not retransmit at
// once but arms the retransmission timer for max(SRTT/2, 10 ms); when it
// fires with B still SACKed at the head, the timeout forgets the SACKs
// (TCPSACKReneging) and retransmits B.
func TestSACKReneging(t *testing.T) {
	var aSeq uint32
	dropA := false
	var frames []struct {
		seq uint32
		at  time.Duration
	}
	w := seqWorld(t, 44, func(seq uint32, n int, now time.Duration) (bool, time.Duration) {
		if dropA {
			frames = append(frames, struct {
				seq uint32
				at  time.Duration
			}{seq, now})
		}
		return dropA && seq == aSeq, 0
	})
	w.a.TCP.Sysctl.Timestamps, w.b.TCP.Sysctl.Timestamps = false, false
	cli, srv, _ := w.connect(80)
	cli.NoDelay = true
	sendAll(t, w, cli, srv, 64<<10, 10*time.Second)
	w.st.Sim.RunFor(100 * time.Millisecond)
	dropA = true
	var bSeq uint32
	w.a.Exec().Do(func() {
		aSeq = cli.SndNxt()
		cli.Send(make([]byte, 1000))
		bSeq = cli.SndNxt()
		cli.Send(make([]byte, 1000))
		cli.Send(make([]byte, 1000))
	})
	w.st.Sim.RunFor(11 * time.Millisecond) // the SACKs of B and C are in
	// The receiver's ACK of A, stopping at B.
	w.b.Exec().Do(func() {
		la, ra := srv.LocalAddr(), srv.RemoteAddr()
		rt, err := w.b.IPv4.RouteOutput(&ipv4.FlowKey{Dst: ra.Addr(), Src: la.Addr(), Proto: 6})
		if err != nil {
			t.Fatal(err)
		}
		b := w.st.Pool().Get(skb.DefaultHeadroom, 20)
		h := header.TCP(b.Put(20))
		clear(h)
		h.SetSrcPort(la.Port())
		h.SetDstPort(ra.Port())
		h.SetSeq(srv.SndNxt())
		h.SetAck(bSeq)
		h[12] = 5 << 4
		h.SetFlags(header.TCPFlagACK)
		h.SetWindow(1000)
		h.FillChecksum(la.Addr(), ra.Addr())
		w.b.IPv4.Output(b, la.Addr(), ra.Addr(), 6, &rt, ipv4.SendOpts{})
	})
	w.st.Sim.RunFor(5 * time.Millisecond) // the forged ACK arrives
	acked := w.st.Sim.Now()
	if w.a.TCP.Stats.TCPSACKReneging != 0 {
		t.Fatal("reneging counted before the timeout")
	}
	w.st.Sim.RunFor(100 * time.Millisecond)
	if n := w.a.TCP.Stats.TCPSACKReneging; n != 1 {
		t.Fatalf("TCPSACKReneging %d, want 1; %+v", n, cli.TCPInfo())
	}
	var rtx time.Duration
	for _, f := range frames[3:] {
		if f.seq == bSeq {
			rtx = f.at
			break
		}
	}
	want := max(cli.TCPInfo().RTT/2, 10*time.Millisecond)
	if rtx == 0 || rtx-acked > want || rtx-acked < want-5*time.Millisecond {
		t.Fatalf("B retransmitted at %v, %v after the reneging ACK (by %v), want after max(SRTT/2, 10 ms) = %v", rtx, rtx-acked, acked, want)
	}
}
