package offload

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
)

var (
	srcA = netip.MustParseAddr("10.0.0.1")
	dstA = netip.MustParseAddr("10.0.0.2")
	macA = [6]byte{2, 0, 0, 0, 0, 1}
	macB = [6]byte{2, 0, 0, 0, 0, 2}
)

// flow describes the packets a test builds.
type flow struct {
	src, dst netip.Addr
	sport    uint16
	seq, ack uint32
	id       uint16
	flags    header.TCPFlags
	tsval    uint32
	ipOpts   []byte
	noTS     bool
	window   uint16
}

func defFlow() flow {
	return flow{src: srcA, dst: dstA, sport: 40000, seq: 1000, ack: 5000, id: 100,
		flags: header.TCPFlagACK, tsval: 77, window: 512}
}

func pattern(n, salt int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i*7 + salt + i>>8)
	}
	return p
}

// ipPacket builds an IPv4+TCP datagram with a full, valid checksum.
func ipPacket(t testing.TB, f flow, payload []byte) []byte {
	t.Helper()
	tf := header.TCPFields{SrcPort: f.sport, DstPort: 80, Seq: f.seq, Ack: f.ack, Flags: f.flags, Window: f.window}
	if !f.noTS {
		tf.Options.HasTimestamps = true
		tf.Options.TSVal, tf.Options.TSEcr = f.tsval, 9
	}
	ihl := header.IPv4MinLen + len(f.ipOpts)
	thl := tf.HeaderLen()
	pkt := make([]byte, ihl+thl+len(payload))
	if _, err := header.BuildIPv4(pkt, &header.IPv4Fields{ID: f.id, Flags: header.IPv4FlagDF, TTL: 64,
		Protocol: header.IPProtoTCP, Src: f.src, Dst: f.dst, Options: f.ipOpts}); err != nil {
		t.Fatal(err)
	}
	th, err := header.BuildTCP(pkt[ihl:], &tf)
	if err != nil {
		t.Fatal(err)
	}
	copy(pkt[ihl+thl:], payload)
	th.FillChecksum(f.src, f.dst)
	return pkt
}

func ethFrame(ip []byte) []byte {
	fr := make([]byte, 0, 14+len(ip))
	fr = append(fr, macB[:]...)
	fr = append(fr, macA[:]...)
	fr = append(fr, 0x08, 0x00)
	return append(fr, ip...)
}

// superPacket makes a GSO Buf as TCP hands it to IPv4 output: b at the IP
// header, L3/L4 marked, checksum partial (pseudo-header sum) if asked.
func superPacket(t testing.TB, pool *skb.Pool, f flow, payload []byte, mss int, partial bool) *skb.Buf {
	t.Helper()
	pkt := ipPacket(t, f, payload)
	b := pool.Get(skb.DefaultHeadroom, len(pkt))
	if b == nil {
		t.Fatal("pool.Get")
	}
	b.Append(pkt)
	b.SetL3()
	b.L4 = b.L3 + header.IPv4MinLen + int32(len(f.ipOpts))
	b.GSOSize, b.GSOType = uint16(mss), skb.GSOTCPv4
	b.Protocol = 0x0800
	if partial {
		h := header.IPv4(b.Bytes())
		th := header.TCP(h.Payload())
		th.SetChecksum(h.PseudoSum(len(th)))
		b.Csum, b.CsumStart, b.CsumOffset = skb.CsumPartial, b.L4, 16
	}
	return b
}

// wire returns a segment's bytes as they would be on a wire: a copy with
// a partial checksum completed.
func wire(b *skb.Buf) []byte {
	p := append([]byte(nil), b.Bytes()...)
	if b.Csum == skb.CsumPartial {
		netdev.CompleteChecksum(p, int(b.CsumStart-b.Pos()), int(b.CsumOffset))
	}
	return p
}

// checkTCP4 parses an IP-framed packet fully, checksums included.
func checkTCP4(t testing.TB, p []byte) (header.IPv4, header.TCP) {
	t.Helper()
	h, err := header.ParseIPv4(p)
	if err != nil {
		t.Fatalf("ip: %v", err)
	}
	if len(h) != len(p) {
		t.Fatalf("ip total length %d, packet %d", len(h), len(p))
	}
	th, err := header.ParseTCP(h.Payload())
	if err != nil {
		t.Fatalf("tcp: %v", err)
	}
	if err := th.VerifyChecksum(h.Src(), h.Dst()); err != nil {
		t.Fatalf("tcp checksum: %v", err)
	}
	return h, th
}

func seqOf(p []byte, l2 int) uint32 {
	ihl := int(p[l2]&0xf) * 4
	return binary.BigEndian.Uint32(p[l2+ihl+4:])
}

func newPool(t testing.TB) *skb.Pool {
	p := skb.NewPool()
	p.Debug = true
	t.Cleanup(func() {
		if n := p.Live(); n != 0 {
			t.Errorf("%d buffers leaked", n)
		}
	})
	return p
}
