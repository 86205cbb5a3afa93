package offload

import (
	"bytes"
	"testing"

	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/skb"
)

// FuzzSegmentTCP4 feeds arbitrary datagrams (their IP header checksum and
// length optionally made right, so the fuzzer gets past ip_rcv-style
// checks) to the segmenter: it must never panic or leak, and whatever it
// emits must be valid TCP/IPv4 carrying the input's payload.
func FuzzSegmentTCP4(f *testing.F) {
	f.Add(ipPacket(f, defFlow(), pattern(3000, 1)), uint16(1448), uint16(1500), false, true)
	f.Add(ipPacket(f, defFlow(), pattern(3000, 1)), uint16(1), uint16(60), false, false)
	f.Add([]byte{0x45, 0, 0, 20}, uint16(1), uint16(0), true, true)
	f.Fuzz(func(t *testing.T, data []byte, gso, mtu uint16, fix, partial bool) {
		if h, err := header.ParseIPv4Quoted(data); fix && err == nil {
			h.SetTotalLength(uint16(min(len(data), 65535)))
			h.FillChecksum()
		}
		pool := skb.NewPool()
		b := pool.GetData(data)
		if b == nil {
			return
		}
		b.SetL3()
		b.GSOSize = gso
		var in []byte
		if s, ok := parseTCP4(data, 0); ok {
			in = append(in, s.payload()...)
			if partial {
				b.Csum = skb.CsumPartial
			}
		}
		var got []byte
		Segmenter{Pool: pool}.SegmentTCP4(b, int(mtu), func(s *skb.Buf) {
			p := wire(s)
			s.Free()
			h, err := header.ParseIPv4(p)
			if err != nil {
				t.Fatalf("segment: %v", err)
			}
			th, err := header.ParseTCP(h.Payload())
			if err != nil {
				t.Fatalf("segment: %v", err)
			}
			if partial || gso == 0 || len(in) > int(gso) {
				// The packet passed as is may carry whatever TCP
				// checksum it came with; segments made here may not.
				if err := th.VerifyChecksum(h.Src(), h.Dst()); err != nil && len(in) > int(gso) {
					t.Fatalf("segment: %v", err)
				}
			}
			got = append(got, th.Payload()...)
		})
		if got != nil && !bytes.Equal(got, in) {
			t.Fatalf("payload changed: %d bytes in, %d out", len(in), len(got))
		}
		if pool.Live() != 0 {
			t.Fatalf("%d buffers leaked", pool.Live())
		}
	})
}

// FuzzGRO segments a fuzzed super-packet, damages one byte of the frames
// and coalesces them: GRO must never panic or leak; merged output must be
// valid; with no damage the payload must come back whole.
func FuzzGRO(f *testing.F) {
	f.Add(pattern(20000, 1), uint16(1448), uint8(0x18), uint32(0), uint8(0), false)
	f.Add(pattern(5000, 2), uint16(536), uint8(0x10), uint32(100), uint8(1), true)
	f.Add(pattern(5000, 2), uint16(536), uint8(0x10), uint32(1500), uint8(0x40), false)
	f.Fuzz(func(t *testing.T, payload []byte, mss uint16, flags uint8, pos uint32, val uint8, eth bool) {
		if len(payload) == 0 || len(payload) > 60000 || mss == 0 {
			return
		}
		pool := skb.NewPool()
		fl := defFlow()
		fl.flags = header.TCPFlags(flags)
		b := superPacket(t, pool, fl, payload, int(mss), false)
		l2 := 0
		framing := IP
		if eth {
			l2, framing = ethHdrLen, Ethernet
		}
		in := skb.NewBatch(64)
		total := 0
		Segmenter{Pool: pool}.SegmentTCP4(b, 65535, func(s *skb.Buf) {
			p := s.Bytes()
			if eth {
				p = ethFrame(p)
			}
			if val != 0 && int(pos) >= total && int(pos) < total+len(p) {
				p[int(pos)-total] ^= val
			}
			total += len(p)
			in.Add(pool.GetData(p))
			s.Free()
		})
		out := skb.NewBatch(64)
		g := &GRO{Framing: framing}
		g.Receive(in, out)
		var got []byte
		for _, o := range out.Bufs() {
			if o.GSOSize > 0 {
				// Merged: must be valid whatever the damage.
				p := o.Bytes()
				checkTCP4(t, p[l2:])
			}
			if s, ok := parseTCP4(o.Bytes(), l2); ok {
				got = append(got, s.payload()...)
			}
		}
		out.Free()
		if val == 0 && !bytes.Equal(got, payload) {
			t.Fatalf("payload changed: %d bytes in, %d out", len(payload), len(got))
		}
		if pool.Live() != 0 {
			t.Fatalf("%d buffers leaked", pool.Live())
		}
	})
}
