package tcp_test

import (
	"testing"
	"time"

	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/sched"
	"github.com/usnet/usnet/skb"
	"github.com/usnet/usnet/tcp"
)

// ackSink is a qdisc that shows each outgoing TCP segment to fn and
// drops it.
type ackSink struct {
	*sched.Netem
	fn func(header.TCP)
}

func (a *ackSink) Enqueue(b *skb.Buf, now time.Duration) bool {
	if fr := b.Bytes(); len(fr) >= 14+40 && fr[12] == 8 && fr[13] == 0 && fr[14+9] == 6 {
		a.fn(header.TCP(fr[14+20:]))
	}
	b.Free()
	return false
}

// forgeData injects, from from's side, n bytes of data at from's snd_nxt
// + off, acknowledging what from's peer has sent (no options: the test
// world has timestamps off).
func forgeData(t testing.TB, w *world, from, to *tcp.Conn, off uint32, n int) {
	t.Helper()
	forgeDataFlags(t, w, from, to, off, n, 0)
}

// forgeDataFlags is forgeData with more flags (PSH) beside ACK.
func forgeDataFlags(t testing.TB, w *world, from, to *tcp.Conn, off uint32, n int, flags header.TCPFlags) {
	t.Helper()
	la, ra := from.LocalAddr(), from.RemoteAddr()
	w.a.Exec().Do(func() {
		rt, err := w.a.IPv4.RouteOutput(&ipv4.FlowKey{Dst: ra.Addr(), Src: la.Addr(), Proto: 6})
		if err != nil {
			t.Fatal(err)
		}
		b := w.st.Pool().Get(skb.DefaultHeadroom, 20+n)
		h := header.TCP(b.Put(20 + n))
		clear(h)
		h.SetSrcPort(la.Port())
		h.SetDstPort(ra.Port())
		h.SetSeq(from.SndNxt() + off)
		h.SetAck(to.SndNxt())
		h[12] = 5 << 4
		h.SetFlags(header.TCPFlagACK | flags)
		h.SetWindow(65535)
		h.FillChecksum(la.Addr(), ra.Addr())
		w.a.IPv4.Output(b, la.Addr(), ra.Addr(), 6, &rt, ipv4.SendOpts{})
	})
}

// TestDSACKOutOfOrderDuplicates feeds a receiver out-of-order segments
// that overlap what it holds and checks each ACK's blocks, in offsets
// from the first byte expected: the D-SACK block first, exactly the
// duplicate range, as tcp_data_queue_ofo and tcp_ofo_queue set it (RFC
// 2883), then the SACK blocks, the latest arrival's first.
func TestDSACKOutOfOrderDuplicates(t *testing.T) {
	w := newWorld(t, 61, 1500)
	w.a.TCP.Sysctl.Timestamps, w.b.TCP.Sysctl.Timestamps = false, false
	cli, srv, _ := w.connect(80)
	base := cli.SndNxt()
	// The receiver's ACKs are recorded and go no further: the sender
	// would answer ACKs for data it never sent.
	var last header.TCPOptions
	var lastAck uint32
	acks := 0
	sink := &ackSink{Netem: sched.NewNetem(sched.NetemConfig{}, w.b.Exec().Rand(), w.st.Pool()), fn: func(h header.TCP) {
		last = header.TCPOptions{}
		h.ParseOptions(&last)
		lastAck = h.Ack() - base
		acks++
	}}
	w.b.Exec().Do(func() { w.db.SetQdisc(sink) })
	type blk struct{ s, e uint32 }
	steps := []struct {
		name       string
		off        uint32
		n          int
		ack        uint32
		dsack      *blk
		sack       []blk
		oldSent    uint64 // TCPDSACKOldSent after the step
		ofoSent    uint64 // TCPDSACKOfoSent after the step
		ofoMergeds uint64 // TCPOFOMerge after the step
	}{
		{"first out-of-order", 1000, 1000, 0, nil, []blk{{1000, 2000}}, 0, 0, 0},
		{"exact duplicate", 1000, 1000, 0, &blk{1000, 2000}, []blk{{1000, 2000}}, 0, 1, 1},
		{"inside held data", 1200, 600, 0, &blk{1200, 1800}, []blk{{1000, 2000}}, 0, 2, 2},
		{"partial overlap", 1500, 1000, 0, &blk{1500, 2000}, []blk{{1000, 2500}}, 0, 3, 2},
		{"disjoint", 3000, 1000, 0, nil, []blk{{3000, 4000}, {1000, 2500}}, 0, 3, 2},
		{"covers the next", 2800, 1700, 0, &blk{3000, 4000}, []blk{{2800, 4500}, {1000, 2500}}, 0, 4, 3},
		{"same start, longer", 2800, 1800, 0, &blk{2800, 4500}, []blk{{2800, 4600}, {1000, 2500}}, 0, 5, 4},
		{"in order, overlapping the queue", 0, 1200, 2500, &blk{1000, 1200}, []blk{{2800, 4600}}, 1, 5, 4},
		{"retransmission across rcv_nxt", 2400, 400, 4600, &blk{2400, 2500}, nil, 2, 5, 4},
		{"old duplicate", 100, 100, 4600, &blk{100, 200}, nil, 3, 5, 4},
	}
	for _, s := range steps {
		before := acks
		forgeData(t, w, cli, srv, s.off, s.n)
		w.st.Sim.RunFor(time.Millisecond)
		if acks == before {
			t.Fatalf("%s: no ACK", s.name)
		}
		var got []blk
		for i := range last.NumSACK {
			got = append(got, blk{last.SACK[i].Start - base, last.SACK[i].End - base})
		}
		var want []blk
		if s.dsack != nil {
			want = append(want, *s.dsack)
		}
		want = append(want, s.sack...)
		if lastAck != s.ack || len(got) != len(want) {
			t.Fatalf("%s: ack %d blocks %v, want ack %d blocks %v", s.name, lastAck, got, s.ack, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s: ack %d blocks %v, want %v", s.name, lastAck, got, want)
			}
		}
		st := w.b.TCP.Stats
		if st.TCPDSACKOldSent != s.oldSent || st.TCPDSACKOfoSent != s.ofoSent || st.TCPOFOMerge != s.ofoMergeds {
			t.Fatalf("%s: DSACKOldSent %d DSACKOfoSent %d OFOMerge %d, want %d %d %d", s.name,
				st.TCPDSACKOldSent, st.TCPDSACKOfoSent, st.TCPOFOMerge, s.oldSent, s.ofoSent, s.ofoMergeds)
		}
	}
	if got := srv.RcvNxt() - base; got != 4600 {
		t.Fatalf("rcv_nxt at +%d, want +4600", got)
	}
	if srv.Info.BytesReceived != 4600 {
		t.Fatalf("received %d bytes, want 4600", srv.Info.BytesReceived)
	}
}
