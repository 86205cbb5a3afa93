package ipv4_test

import (
	"encoding/binary"
	"testing"

	"github.com/usnet/usnet/ipv4"
)

// rawUDP builds an IPv4/UDP packet from src to dst (last octets of
// 10.0.x.y given as 4-byte arrays).
func rawUDP(src, dst [4]byte) []byte {
	p := make([]byte, 20+8+4)
	p[0] = 0x45
	binary.BigEndian.PutUint16(p[2:], uint16(len(p)))
	p[8], p[9] = 64, 17
	copy(p[12:], src[:])
	copy(p[16:], dst[:])
	binary.BigEndian.PutUint16(p[10:], ipv4.Checksum(p[:20]))
	binary.BigEndian.PutUint16(p[24:], 12)
	return p
}

// TestBatchRouteReuse: within one received batch the router reuses the
// previous packet's input route only while the flow key repeats, and a
// locally delivered packet (which may change routing state, as an ICMP
// frag-needed does) ends the reuse.
func TestBatchRouteReuse(t *testing.T) {
	s, _, r, h2 := chain(t, 1500)
	sink := &udpSink{}
	h2.ip.Register(17, sink)
	h1a, h2a, rA := [4]byte{10, 0, 1, 2}, [4]byte{10, 0, 2, 2}, [4]byte{10, 0, 1, 1}
	other := [4]byte{10, 0, 1, 3}
	r.rt.inputs = 0
	before := r.ip.Stats.ForwDatagrams
	inject(s, r,
		rawUDP(h1a, h2a), rawUDP(h1a, h2a), // same flow: one lookup
		rawUDP(other, h2a), // new source: a lookup
		rawUDP(h1a, h2a),   // back to the first flow: a lookup
		rawUDP(h1a, rA),    // local delivery: a lookup
		rawUDP(h1a, h2a),   // after local delivery: a lookup
	)
	if got := r.ip.Stats.ForwDatagrams - before; got != 5 {
		t.Fatalf("forwarded %d, want 5", got)
	}
	if r.rt.inputs != 5 {
		t.Fatalf("%d route lookups for the batch, want 5", r.rt.inputs)
	}
	if len(sink.got) != 5 {
		t.Fatalf("h2 received %d datagrams, want 5", len(sink.got))
	}
}
