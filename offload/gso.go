package offload

import (
	"encoding/binary"

	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/skb"
)

// Segmenter splits TCP/IPv4 GSO super-packets into segments allocated
// from Pool (the namespace's pool: ipv4.Layer.Pool).
//
// Wire it as the IPv4 layer's segmentation function:
//
//	layer.Segment = offload.Segmenter{Pool: layer.Pool()}.SegmentTCP4
type Segmenter struct {
	Pool *skb.Pool
}

// SegmentTCP4 has the signature of ipv4.SegmentFunc: b starts at the IPv4
// header of a TCP super-packet (b.GSOSize > 0) and is split into segments
// of GSOSize payload bytes each, handed to out in order. It takes
// ownership of b. As tcp_gso_segment and inet_gso_segment do, every
// segment gets a copy of the IP and TCP headers (options included) with
// its own sequence number, IP total length, an IP ID one above the
// previous segment's and a fresh header checksum; FIN and PSH stay only
// on the last segment and CWR only on the first. The TCP checksum is left
// partial (pseudo-header sum, CsumPartial) when b's was, and computed in
// full otherwise.
//
// Segments never exceed mtu: a GSOSize that does not fit is lowered to
// what does (Linux would IP-fragment each oversized segment instead).
// Malformed input is dropped.
func (sg Segmenter) SegmentTCP4(b *skb.Buf, mtu int, out func(*skb.Buf)) {
	data := b.Bytes()
	s, ok := parseTCP4(data, 0)
	if !ok || b.GSOSize == 0 || sg.Pool == nil {
		b.Free()
		return
	}
	hl := s.ihl + s.thl
	mss := int(b.GSOSize)
	if mtu > hl && hl+mss > mtu {
		mss = mtu - hl
	}
	payload := s.payload()
	if len(payload) <= mss {
		// Already wire-sized: send as is (the checksum state is fine).
		b.Trim(s.tot)
		b.GSOSize, b.GSOType = 0, skb.GSONone
		out(b)
		return
	}
	partial := b.Csum == skb.CsumPartial
	hdr := data[:hl]
	ip := header.IPv4(hdr)
	th := header.TCP(hdr[s.ihl:])
	flags := th.Flags()
	seq := th.Seq()
	id := ip.ID()
	// The header checksum-sum without the fields that vary: every
	// segment's TCP checksum then costs one pass over its payload only.
	hdrSum := tcpHeaderSum(th, s.thl)
	hdrSum = csumAdd(hdrSum, ^binary.BigEndian.Uint16(hdr[s.ihl+4:]))
	hdrSum = csumAdd(hdrSum, ^binary.BigEndian.Uint16(hdr[s.ihl+6:]))
	hdrSum = csumAdd(hdrSum, ^binary.BigEndian.Uint16(hdr[s.ihl+12:]))

	for off, first := 0, true; off < len(payload); off, first = off+mss, false {
		n := min(mss, len(payload)-off)
		last := off+n == len(payload)
		f := sg.Pool.Get(skb.DefaultHeadroom, hl+n)
		if f == nil {
			break
		}
		f.Mark, f.Priority, f.Protocol, f.Hash = b.Mark, b.Priority, b.Protocol, b.Hash
		f.Ifindex, f.Stamp = b.Ifindex, b.Stamp
		p := f.Put(hl + n)
		copy(p, hdr)
		copy(p[hl:], payload[off:off+n])
		f.SetL3()
		f.L4 = f.L3 + int32(s.ihl)

		fip := header.IPv4(p)
		fip.SetTotalLength(uint16(hl + n))
		fip.SetID(id)
		id++
		fip.FillChecksum()

		ft := header.TCP(p[s.ihl:])
		ft.SetSeq(seq)
		seq += uint32(n)
		fl := flags
		if !last {
			fl &^= header.TCPFlagFIN | header.TCPFlagPSH
		}
		if !first {
			fl &^= header.TCPFlagCWR
		}
		ft.SetFlags(fl)
		pseudo := fip.PseudoSum(s.thl + n)
		if partial {
			ft.SetChecksum(pseudo)
			f.Csum = skb.CsumPartial
			f.CsumStart = f.L4
			f.CsumOffset = tcpCsumOff
		} else {
			// Sum of the varying words, then the constant rest.
			sum := csumAdd(hdrSum, pseudo)
			sum = csumAdd(sum, binary.BigEndian.Uint16(p[s.ihl+4:]))
			sum = csumAdd(sum, binary.BigEndian.Uint16(p[s.ihl+6:]))
			sum = csumAdd(sum, binary.BigEndian.Uint16(p[s.ihl+12:]))
			sum = header.Sum(p[hl:], sum)
			ft.SetChecksum(^sum)
			f.Csum = skb.CsumNone
		}
		out(f)
	}
	b.Free()
}
