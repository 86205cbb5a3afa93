package offload

import (
	"bytes"
	"testing"

	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/skb"
)

// frames turns IP packets into a batch of received Bufs (Ethernet-framed
// unless ipOnly), with no checksum state, as from a real wire.
func frames(pool *skb.Pool, ipOnly bool, pkts ...[]byte) *skb.Batch {
	bt := skb.NewBatch(len(pkts))
	for _, p := range pkts {
		if !ipOnly {
			p = ethFrame(p)
		}
		bt.Add(pool.GetData(p))
	}
	return bt
}

// run sends in through a GRO and returns copies of the output frames and
// the output Bufs' metadata, freeing the Bufs.
func run(g *GRO, in *skb.Batch) ([][]byte, []skb.Meta) {
	out := skb.NewBatch(in.Len())
	g.Receive(in, out)
	if in.Len() != 0 {
		panic("input batch not emptied")
	}
	var data [][]byte
	var meta []skb.Meta
	for _, b := range out.Bufs() {
		data = append(data, append([]byte(nil), b.Bytes()...))
		meta = append(meta, b.Meta)
	}
	out.Free()
	return data, meta
}

// segs builds n consecutive segments of flow f with the given sizes.
func segs(t testing.TB, f flow, sizes ...int) [][]byte {
	var out [][]byte
	for i, n := range sizes {
		out = append(out, ipPacket(t, f, pattern(n, i)))
		f.seq += uint32(n)
		f.id++
	}
	return out
}

func payloadOf(t testing.TB, frame []byte, l2 int) []byte {
	_, th := checkTCP4(t, frame[l2:])
	return th.Payload()
}

func TestGRORoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name    string
		framing Framing
		partial bool
		size    int
		trusted bool // frames keep their CsumPartial state, as over veth
	}{
		{"ip trusted", IP, true, 30000, true},
		{"eth partial", Ethernet, true, 60000, false},
		{"eth full", Ethernet, false, 60000, false},
		{"ip odd size", IP, false, 10001, false},
		{"ip max", IP, true, 65535 - 20 - 32, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pool := newPool(t)
			f := defFlow()
			f.flags = header.TCPFlagACK | header.TCPFlagPSH
			payload := pattern(tc.size, 5)
			orig := ipPacket(t, f, payload)
			b := superPacket(t, pool, f, payload, 1448, tc.partial)
			in := skb.NewBatch(64)
			for _, s := range segment(t, pool, b, 1500) {
				if tc.trusted {
					in.Add(s)
					continue
				}
				// Over a wire: real checksums, no state.
				p := wire(s)
				s.Free()
				if tc.framing == Ethernet {
					p = ethFrame(p)
				}
				in.Add(pool.GetData(p))
			}
			n := in.Len()
			g := &GRO{Framing: tc.framing}
			out, meta := run(g, in)
			if len(out) != 1 {
				t.Fatalf("%d segments became %d packets, want 1", n, len(out))
			}
			l2 := 0
			if tc.framing == Ethernet {
				l2 = 14
				if !bytes.Equal(out[0][:14], ethFrame(nil)) {
					t.Error("ethernet header changed")
				}
			}
			h, th := checkTCP4(t, out[0][l2:])
			if !bytes.Equal(th.Payload(), payload) {
				t.Error("payload differs")
			}
			// Headers as the sender's super-packet had them, but for the
			// IP ID, the one of the first segment, and the checksums.
			if !bytes.Equal(h[:4], orig[:4]) || !bytes.Equal(h[6:10], orig[6:10]) ||
				!bytes.Equal(h[12:20+16], orig[12:20+16]) || !bytes.Equal(h[20+18:20+32], orig[20+18:20+32]) {
				t.Errorf("headers differ:\n%x\n%x", h[:52], orig[:52])
			}
			m := meta[0]
			if m.GSOSize != 1448 || m.GSOType != skb.GSOTCPv4 || m.Csum != skb.CsumUnnecessary {
				t.Errorf("meta gso %d type %d csum %d", m.GSOSize, m.GSOType, m.Csum)
			}
		})
	}
}

func TestGROMixedFlows(t *testing.T) {
	pool := newPool(t)
	fa, fb := defFlow(), defFlow()
	fb.sport = 40001
	a := segs(t, fa, 1448, 1448, 1448)
	b := segs(t, fb, 1448, 1448, 1448)

	// Interleaved: nothing is consecutive, nothing merges, order stays.
	in := frames(pool, false, a[0], b[0], a[1], b[1], a[2], b[2])
	want := [][]byte{a[0], b[0], a[1], b[1], a[2], b[2]}
	out, _ := run(&GRO{}, in)
	if len(out) != len(want) {
		t.Fatalf("interleaved: %d out, want %d", len(out), len(want))
	}
	for i := range out {
		if !bytes.Equal(out[i], ethFrame(want[i])) {
			t.Errorf("interleaved frame %d changed", i)
		}
	}

	// Grouped: one packet per flow, in the same order.
	out, _ = run(&GRO{}, frames(pool, false, a[0], a[1], a[2], b[0], b[1], b[2]))
	if len(out) != 2 {
		t.Fatalf("grouped: %d out, want 2", len(out))
	}
	for i, f := range []flow{fa, fb} {
		h, th := checkTCP4(t, out[i][14:])
		if th.SrcPort() != f.sport || len(th.Payload()) != 3*1448 || h.ID() != f.id {
			t.Errorf("grouped %d: port %d payload %d id %d", i, th.SrcPort(), len(th.Payload()), h.ID())
		}
	}
}

func TestGROOutOfOrder(t *testing.T) {
	pool := newPool(t)
	s := segs(t, defFlow(), 1448, 1448, 1448, 1448)
	in := frames(pool, true, s[0], s[2], s[1], s[3])
	out, _ := run(&GRO{Framing: IP}, in)
	// Every neighbour pair has a gap or goes backwards (0→2, 2→1, 1→3),
	// so nothing merges and the order stays.
	if len(out) != 4 {
		t.Fatalf("%d out, want 4", len(out))
	}
	for i, want := range [][]byte{s[0], s[2], s[1], s[3]} {
		if !bytes.Equal(out[i], want) {
			t.Errorf("frame %d changed", i)
		}
	}
	// A retransmitted (duplicate) segment does not merge either.
	out, _ = run(&GRO{Framing: IP}, frames(pool, true, s[0], s[1], s[1]))
	if len(out) != 2 {
		t.Errorf("duplicate: %d out, want 2", len(out))
	}
}

func TestGROEndsRun(t *testing.T) {
	pool := newPool(t)
	f := defFlow()
	// A short segment is merged and ends the run.
	s := segs(t, f, 1448, 1448, 500, 1448)
	out, _ := run(&GRO{Framing: IP}, frames(pool, true, s...))
	if len(out) != 2 || len(payloadOf(t, out[0], 0)) != 2*1448+500 {
		t.Errorf("short segment: %d out", len(out))
	}
	// A larger segment than the first does not merge.
	s = segs(t, f, 1000, 1448)
	if out, _ := run(&GRO{Framing: IP}, frames(pool, true, s...)); len(out) != 2 {
		t.Errorf("bigger second segment merged")
	}
	// PSH is merged into the run, which ends.
	g := f
	g.flags |= header.TCPFlagPSH
	p2 := segs(t, f, 1448, 1448)
	g.seq += 2 * 1448
	g.id += 2
	p3 := segs(t, g, 1448)
	f2 := f
	f2.seq, f2.id = g.seq+1448, g.id+1
	p4 := segs(t, f2, 1448)
	out, _ = run(&GRO{Framing: IP}, frames(pool, true, p2[0], p2[1], p3[0], p4[0]))
	if len(out) != 2 {
		t.Fatalf("psh: %d out, want 2", len(out))
	}
	if _, th := checkTCP4(t, out[0]); th.Flags()&header.TCPFlagPSH == 0 || len(th.Payload()) != 3*1448 {
		t.Errorf("psh run: flags %v payload %d", th.Flags(), len(th.Payload()))
	}
}

func TestGROMaxSize(t *testing.T) {
	pool := newPool(t)
	sizes := make([]int, 100)
	for i := range sizes {
		sizes[i] = 1448
	}
	s := segs(t, defFlow(), sizes...)
	out, meta := run(&GRO{}, frames(pool, false, s...))
	total, seq := 0, defFlow().seq
	for i, p := range out {
		if len(p)-14 > MaxGROSize {
			t.Errorf("packet %d: %d bytes", i, len(p)-14)
		}
		if seqOf(p, 14) != seq {
			t.Errorf("packet %d: seq %d want %d", i, seqOf(p, 14), seq)
		}
		n := len(payloadOf(t, p, 14))
		total += n
		seq += uint32(n)
		if n > 1448 && meta[i].GSOSize != 1448 {
			t.Errorf("packet %d: gso size %d", i, meta[i].GSOSize)
		}
	}
	if total != 100*1448 || len(out) != 3 {
		t.Errorf("%d packets, %d bytes; want 3 and %d", len(out), total, 100*1448)
	}
}

func TestGROPassesOthersUnchanged(t *testing.T) {
	pool := newPool(t)
	f := defFlow()
	good := segs(t, f, 1448, 1448, 1448, 1448, 1448, 1448, 1448, 1448)
	badCsum := append([]byte(nil), good[2]...)
	badCsum[len(badCsum)-1] ^= 0xff
	// The odd segments continue the run's sequence: only the rule under
	// test keeps them out.
	cont := f
	cont.seq += 2 * 1448
	cont.id += 2
	syn := func(fl header.TCPFlags) []byte {
		x := cont
		x.flags = fl
		return ipPacket(t, x, pattern(100, 0))
	}
	withOpts := func() []byte {
		x := cont
		x.ipOpts = []byte{1, 1, 1, 0}
		return ipPacket(t, x, pattern(100, 0))
	}
	arp := make([]byte, 28)
	udp := append([]byte(nil), good[0]...)
	udp[9] = header.IPProtoUDP
	header.IPv4(udp).FillChecksum()
	noTS := f
	noTS.noTS = true
	others := [][]byte{
		badCsum,
		syn(header.TCPFlagSYN | header.TCPFlagACK),
		syn(header.TCPFlagACK | header.TCPFlagFIN),
		syn(header.TCPFlagACK | header.TCPFlagRST),
		syn(header.TCPFlagACK | header.TCPFlagURG),
		syn(header.TCPFlagACK | header.TCPFlagCWR),
		syn(0),
		withOpts(),
		udp,
		good[0][:40],        // truncated
		segs(t, noTS, 0)[0], // pure ACK
	}
	for i, o := range others {
		// good[0], good[1] merge; o passes as is and ends the run.
		pkts := [][]byte{good[0], good[1], o}
		if i == 0 { // the bad segment sits where good[2] would be
			pkts = append(pkts, good[3])
		}
		in := frames(pool, false, pkts...)
		out, _ := run(&GRO{}, in)
		if len(out) < 2 || !bytes.Equal(out[1], ethFrame(o)) {
			t.Errorf("case %d: %d out, or the odd frame changed", i, len(out))
		}
	}
	// A non-IPv4 frame in the middle.
	in := frames(pool, false, good[0], good[1])
	a := pool.GetData(append(append(append([]byte{}, macB[:]...), macA[:]...), append([]byte{0x08, 0x06}, arp...)...))
	in.Add(a)
	out, _ := run(&GRO{}, in)
	if len(out) != 2 || len(out[1]) != 42 {
		t.Errorf("arp: %d out", len(out))
	}
	// Different timestamps, window, TTL, TOS or ACK: no merge.
	mod := []func(*flow){
		func(x *flow) { x.tsval++ },
		func(x *flow) { x.window++ },
		func(x *flow) { x.ack++ },
		func(x *flow) { x.dst = srcA },
	}
	for i, m := range mod {
		x := f
		x.seq += 1448
		x.id++
		m(&x)
		out, _ := run(&GRO{}, frames(pool, false, good[0], ipPacket(t, x, pattern(1448, 1))))
		if len(out) != 2 {
			t.Errorf("modifier %d: merged", i)
		}
	}
}

func BenchmarkGRO64(b *testing.B) {
	pool := skb.NewPool()
	raw := train64(b)
	in, out := skb.NewBatch(64), skb.NewBatch(64)
	g := &GRO{}
	round := func() {
		for _, r := range raw {
			in.Add(pool.GetData(r))
		}
		g.Receive(in, out)
		out.Free()
	}
	round() // fill the pool's free lists
	b.SetBytes(int64(64 * len(raw[0])))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		round()
	}
}

func TestGROAllocatesNothing(t *testing.T) {
	pool := skb.NewPool()
	raw := train64(t)
	in, out := skb.NewBatch(64), skb.NewBatch(64)
	g := &GRO{}
	if a := testing.AllocsPerRun(100, func() {
		for _, r := range raw {
			in.Add(pool.GetData(r))
		}
		g.Receive(in, out)
		if out.Len() != 2 {
			t.Fatalf("%d out, want 2", out.Len())
		}
		out.Free()
	}); a != 0 {
		t.Errorf("%v allocations per batch of 64", a)
	}
}

// train64 is 64 full-sized Ethernet frames of one flow, in order.
func train64(t testing.TB) [][]byte {
	sizes := make([]int, 64)
	for i := range sizes {
		sizes[i] = 1448
	}
	var raw [][]byte
	for _, s := range segs(t, defFlow(), sizes...) {
		raw = append(raw, ethFrame(s))
	}
	return raw
}
