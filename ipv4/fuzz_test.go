package ipv4_test

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/skb"
)

// FuzzReceive feeds arbitrary bytes, as the IPv4 packet of an Ethernet
// frame addressed to the router, through input, forwarding, reassembly,
// ICMP and local delivery. Nothing may panic and no buffer may leak.
func FuzzReceive(f *testing.F) {
	ip := func(proto byte, frag uint16, payload []byte, opts []byte) []byte {
		ihl := 20 + len(opts)
		p := make([]byte, ihl+len(payload))
		p[0] = 0x40 | byte(ihl/4)
		binary.BigEndian.PutUint16(p[2:], uint16(len(p)))
		binary.BigEndian.PutUint16(p[6:], frag)
		p[8], p[9] = 64, proto
		copy(p[12:16], []byte{10, 0, 1, 2})
		copy(p[16:20], []byte{10, 0, 2, 2})
		copy(p[20:], opts)
		copy(p[ihl:], payload)
		binary.BigEndian.PutUint16(p[10:], header.Checksum(p[:ihl]))
		return p
	}
	f.Add(ip(17, 0, []byte{0, 1, 0, 2, 0, 12, 0, 0, 'a', 'b', 'c', 'd'}, nil))
	f.Add(ip(1, 0, []byte{8, 0, 0, 0, 0, 1, 0, 1}, nil))
	f.Add(ip(17, 0x2000, make([]byte, 64), nil))
	f.Add(ip(17, 8, make([]byte, 64), nil))
	f.Add(ip(17, 0, make([]byte, 16), []byte{0x94, 4, 0, 0}))
	f.Add(ip(17, 0, make([]byte, 16), []byte{0x07, 7, 4, 0, 0, 0, 0, 0}))
	f.Add(ip(6, 0, make([]byte, 20), nil))
	f.Add([]byte{0x45})
	f.Fuzz(func(t *testing.T, pkt []byte) {
		s, h1, r, _ := chain(t, 1000)
		pool := s.Pool()
		base := pool.Live()
		rdev := r.ns.Dev.ByName("eth0")
		for _, fix := range []bool{false, true} {
			p := append([]byte(nil), pkt...)
			if fix && len(p) >= 20 && p[0]>>4 == 4 {
				ihl := int(p[0]&15) * 4
				if ihl >= 20 && ihl <= len(p) {
					p[10], p[11] = 0, 0
					binary.BigEndian.PutUint16(p[10:], header.Checksum(p[:ihl]))
				}
			}
			b := pool.Get(skb.DefaultHeadroom, 14+len(p))
			fr := b.Put(14 + len(p))
			mac, src := rdev.Addr(), h1.ns.Dev.ByName("eth0").Addr()
			copy(fr[0:6], mac[:])
			copy(fr[6:12], src[:])
			fr[12], fr[13] = 0x08, 0x00
			copy(fr[14:], p)
			bt := skb.NewBatch(1)
			bt.Add(b)
			r.ns.Exec().Do(func() { rdev.Receive(bt) })
			s.Sim.RunFor(time.Millisecond)
		}
		// Reassembly queues time out after 30 s and release their buffers.
		s.Sim.RunFor(31 * time.Second)
		if live := pool.Live(); live != base {
			t.Fatalf("%d buffers leaked", live-base)
		}
	})
}
