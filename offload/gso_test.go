package offload

import (
	"bytes"
	"testing"

	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/skb"
)

func segment(t testing.TB, pool *skb.Pool, b *skb.Buf, mtu int) []*skb.Buf {
	var segs []*skb.Buf
	Segmenter{Pool: pool}.SegmentTCP4(b, mtu, func(s *skb.Buf) { segs = append(segs, s) })
	return segs
}

func TestSegmentTCP4(t *testing.T) {
	for _, partial := range []bool{true, false} {
		pool := newPool(t)
		f := defFlow()
		f.flags = header.TCPFlagACK | header.TCPFlagPSH | header.TCPFlagFIN | header.TCPFlagCWR | header.TCPFlagECE
		payload := pattern(10000, 3)
		const mss = 1448
		b := superPacket(t, pool, f, payload, mss, partial)
		b.Mark = 42
		segs := segment(t, pool, b, 1500)
		if len(segs) != 7 {
			t.Fatalf("%d segments, want 7", len(segs))
		}
		var got []byte
		for i, s := range segs {
			if s.GSOSize != 0 || s.L3 != s.Pos() || s.Mark != 42 || s.Protocol != 0x0800 {
				t.Errorf("seg %d: meta %+v", i, s.Meta)
			}
			if partial != (s.Csum == skb.CsumPartial) {
				t.Errorf("seg %d: csum state %d, partial input %v", i, s.Csum, partial)
			}
			if !partial {
				// A full checksum must already be on the segment.
				h := header.IPv4(s.Bytes())
				if err := header.TCP(h.Payload()).VerifyChecksum(h.Src(), h.Dst()); err != nil {
					t.Errorf("seg %d: %v", i, err)
				}
			}
			h, th := checkTCP4(t, wire(s))
			if int(s.L4-s.L3) != h.HeaderLen() {
				t.Errorf("seg %d: L4 at %d", i, s.L4-s.L3)
			}
			if want := f.seq + uint32(i*mss); th.Seq() != want {
				t.Errorf("seg %d: seq %d want %d", i, th.Seq(), want)
			}
			if want := f.id + uint16(i); h.ID() != want {
				t.Errorf("seg %d: ip id %d want %d", i, h.ID(), want)
			}
			if h.Flags() != header.IPv4FlagDF || h.TTL() != 64 {
				t.Errorf("seg %d: ip flags %d ttl %d", i, h.Flags(), h.TTL())
			}
			want := header.TCPFlagACK | header.TCPFlagECE
			if i == 0 {
				want |= header.TCPFlagCWR
			}
			if i == len(segs)-1 {
				want |= header.TCPFlagPSH | header.TCPFlagFIN
			}
			if th.Flags() != want {
				t.Errorf("seg %d: flags %v want %v", i, th.Flags(), want)
			}
			var o header.TCPOptions
			if err := th.ParseOptions(&o); err != nil || !o.HasTimestamps || o.TSVal != f.tsval {
				t.Errorf("seg %d: options %+v %v", i, o, err)
			}
			if n := len(th.Payload()); n != mss && i != len(segs)-1 {
				t.Errorf("seg %d: payload %d", i, n)
			}
			got = append(got, th.Payload()...)
			s.Free()
		}
		if !bytes.Equal(got, payload) {
			t.Error("payload not preserved")
		}
	}
}

func TestSegmentTCP4ClampsToMTU(t *testing.T) {
	pool := newPool(t)
	b := superPacket(t, pool, defFlow(), pattern(5000, 1), 1448, true)
	segs := segment(t, pool, b, 1000)
	total := 0
	for _, s := range segs {
		if s.Len() > 1000 {
			t.Errorf("segment of %d bytes over mtu 1000", s.Len())
		}
		_, th := checkTCP4(t, wire(s))
		total += len(th.Payload())
		s.Free()
	}
	if total != 5000 {
		t.Errorf("payload %d, want 5000", total)
	}
}

func TestSegmentTCP4Small(t *testing.T) {
	pool := newPool(t)
	b := superPacket(t, pool, defFlow(), pattern(1000, 1), 1448, true)
	segs := segment(t, pool, b, 1500)
	if len(segs) != 1 || segs[0] != b || b.GSOSize != 0 {
		t.Fatalf("a wire-sized packet should pass as is: %d segments", len(segs))
	}
	checkTCP4(t, wire(b))
	b.Free()
}

func TestSegmentTCP4Malformed(t *testing.T) {
	good := ipPacket(t, defFlow(), pattern(3000, 0))
	cases := map[string]func(p []byte) []byte{
		"truncated": func(p []byte) []byte { return p[:30] },
		"empty":     func(p []byte) []byte { return p[:0] },
		"version":   func(p []byte) []byte { p[0] = 0x65; return p },
		"udp":       func(p []byte) []byte { p[9] = 17; header.IPv4(p).FillChecksum(); return p },
		"fragment":  func(p []byte) []byte { p[6] = 0x20; header.IPv4(p).FillChecksum(); return p },
		"ip csum":   func(p []byte) []byte { p[10]++; return p },
		"total len": func(p []byte) []byte { p[2] = 0xff; header.IPv4(p).FillChecksum(); return p },
		"tcp short": func(p []byte) []byte {
			p = p[:50]
			header.IPv4(p).SetTotalLength(50)
			header.IPv4(p).FillChecksum()
			return p
		},
		"tcp doff 4": func(p []byte) []byte { p[20+12] = 0x40; return p },
	}
	for name, mangle := range cases {
		pool := newPool(t)
		p := mangle(append([]byte(nil), good...))
		b := pool.GetData(p)
		b.SetL3()
		b.GSOSize = 1000
		if segs := segment(t, pool, b, 1500); len(segs) != 0 {
			t.Errorf("%s: %d segments from a malformed packet", name, len(segs))
			for _, s := range segs {
				s.Free()
			}
		}
	}
	// GSOSize 0 on a big packet is malformed too.
	pool := newPool(t)
	b := pool.GetData(good)
	if segs := segment(t, pool, b, 1500); len(segs) != 0 {
		t.Errorf("GSOSize 0: %d segments", len(segs))
	}
}

func BenchmarkSegmentTCP4(b *testing.B) {
	pool := skb.NewPool()
	payload := pattern(65000, 1)
	for _, partial := range []bool{true, false} {
		name := "full-csum"
		if partial {
			name = "partial-csum"
		}
		b.Run(name, func(b *testing.B) {
			pkt := superPacket(b, pool, defFlow(), payload, 1448, partial)
			data := append([]byte(nil), pkt.Bytes()...)
			meta := pkt.Meta
			pkt.Free()
			sg := Segmenter{Pool: pool}
			free := func(s *skb.Buf) { s.Free() }
			round := func() {
				x := pool.Get(skb.DefaultHeadroom, len(data))
				x.Append(data)
				x.Meta = meta
				x.SetL3()
				x.L4 = x.L3 + 20
				x.CsumStart = x.L4
				sg.SegmentTCP4(x, 1500, free)
			}
			round()
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				round()
			}
		})
	}
}
