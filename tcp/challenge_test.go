package tcp_test

import (
	"math"
	"testing"
	"time"

	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/skb"
	"github.com/usnet/usnet/tcp"
)

// forgeSeg injects a bare segment with flags from from's side, with
// sequence snd_nxt+off and, if ACK is among the flags, ack rcv_nxt.
func forgeSeg(t testing.TB, w *world, from *tcp.Conn, flags header.TCPFlags, off uint32) {
	t.Helper()
	la, ra := from.LocalAddr(), from.RemoteAddr()
	ns := w.b
	if la.Addr() == addrA {
		ns = w.a
	}
	ns.Exec().Do(func() {
		rt, err := ns.IPv4.RouteOutput(&ipv4.FlowKey{Dst: ra.Addr(), Src: la.Addr(), Proto: 6})
		if err != nil {
			t.Fatal(err)
		}
		b := w.st.Pool().Get(skb.DefaultHeadroom, 20)
		h := header.TCP(b.Put(20))
		clear(h)
		h.SetSrcPort(la.Port())
		h.SetDstPort(ra.Port())
		h.SetSeq(from.SndNxt() + off)
		if flags&header.TCPFlagACK != 0 {
			h.SetAck(from.RcvNxt())
		}
		h[12] = 5 << 4
		h.SetFlags(flags)
		h.SetWindow(1000)
		h.FillChecksum(la.Addr(), ra.Addr())
		ns.IPv4.Output(b, la.Addr(), ra.Addr(), 6, &rt, ipv4.SendOpts{})
	})
}

// TestChallengeACKs checks tcp_validate_incoming (RFC 5961): a SYN in
// the window of an established connection and an RST in the window but
// not at rcv_nxt each draw exactly one segment, a pure ACK carrying
// seq snd_nxt and ack rcv_nxt, and leave the connection established;
// a second one within 500 ms draws nothing (the per-connection
// tcp_invalid_ratelimit).
func TestChallengeACKs(t *testing.T) {
	for _, flags := range []header.TCPFlags{header.TCPFlagSYN, header.TCPFlagRST} {
		w := newWorld(t, 109, 1500)
		qa, _ := w.wires(time.Millisecond)
		cli, srv, _ := w.connect(80)
		w.st.Sim.RunFor(100 * time.Millisecond)
		for round := 0; round < 2; round++ {
			qa.segs = nil
			forgeSeg(t, w, srv, flags, 1000)
			w.st.Sim.RunFor(10 * time.Millisecond)
			if cli.State() != tcp.Established || cli.Err() != nil {
				t.Fatalf("%v: connection %v %v, want it untouched", flags, cli.State(), cli.Err())
			}
			if round == 1 {
				if len(qa.segs) != 0 {
					t.Fatalf("%v: a second challenge ACK within 500 ms: %+v", flags, qa.segs)
				}
				break
			}
			if len(qa.segs) != 1 {
				t.Fatalf("%v: %d segments in answer, want one challenge ACK", flags, len(qa.segs))
			}
			s := qa.segs[0]
			if s.flags != header.TCPFlagACK || s.n != 0 || s.seq != cli.SndNxt() || s.ack != cli.RcvNxt() {
				t.Fatalf("%v: answer flags %v len %d seq %d ack %d; want a bare ACK seq %d ack %d",
					flags, s.flags, s.n, s.seq, s.ack, cli.SndNxt(), cli.RcvNxt())
			}
		}
		if w.a.TCP.Stats.ChallengeACKs != 1 {
			t.Fatalf("ChallengeACKs %d, want 1", w.a.TCP.Stats.ChallengeACKs)
		}
	}
}

// TestChallengeACKLimit: tcp_challenge_ack_limit defaults to INT_MAX, as
// in Linux since 6.0 (no namespace-wide limit); a limit set lower caps
// the challenge ACKs of the namespace per second.
func TestChallengeACKLimit(t *testing.T) {
	for _, lim := range []int{math.MaxInt32, 2} {
		w := newWorld(t, 110, 1500)
		if w.a.TCP.Sysctl.ChallengeAckLimit != math.MaxInt32 {
			t.Fatalf("default tcp_challenge_ack_limit %d, want INT_MAX", w.a.TCP.Sysctl.ChallengeAckLimit)
		}
		w.a.TCP.Sysctl.ChallengeAckLimit = lim
		var srvs []*tcp.Conn
		for i := 0; i < 5; i++ {
			_, srv, _ := w.connect(uint16(80 + i))
			srvs = append(srvs, srv)
		}
		w.st.Sim.RunFor(time.Second - w.st.Sim.Now()%time.Second) // the start of a second
		for _, srv := range srvs {
			forgeSeg(t, w, srv, header.TCPFlagRST, 1000)
		}
		w.st.Sim.RunFor(10 * time.Millisecond)
		want := uint64(min(lim, 5))
		if got := w.a.TCP.Stats.ChallengeACKs; got != want {
			t.Fatalf("limit %d: %d challenge ACKs for 5 connections, want %d", lim, got, want)
		}
	}
}
