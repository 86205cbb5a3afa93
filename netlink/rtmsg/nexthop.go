package rtmsg

import (
	"encoding/binary"
	"errors"
	"net/netip"

	"github.com/usnet/usnet/netlink"
	"golang.org/x/sys/unix"
)

// ErrBadNexthop: an RTA_MULTIPATH entry's rtnh_len is shorter than struct
// rtnexthop or runs past the attribute. The kernel answers EINVAL.
var ErrBadNexthop = errors.New("rtmsg: bad rtnexthop length in RTA_MULTIPATH")

// NextHop is one struct rtnexthop of RTA_MULTIPATH with its attributes.
type NextHop struct {
	Flags   uint8 // rtnh_flags (RTNH_F_*)
	Hops    uint8 // rtnh_hops: weight - 1
	Index   int32 // rtnh_ifindex
	Gateway netip.Addr
	Via     netip.Addr
	Unknown []RawAttr // other per-hop attributes (RTA_ENCAP, RTA_FLOW...)
}

func decodeMultipath(d *netlink.AttributeDecoder, family uint8) ([]NextHop, error) {
	b := d.Bytes()
	var hops []NextHop
	for len(b) >= unix.SizeofRtNexthop {
		n := int(binary.NativeEndian.Uint16(b))
		if n < unix.SizeofRtNexthop || n > len(b) {
			return nil, ErrBadNexthop
		}
		h := NextHop{Flags: b[2], Hops: b[3], Index: int32(binary.NativeEndian.Uint32(b[4:]))}
		ad := netlink.NewAttributeDecoder(b[unix.SizeofRtNexthop:n])
		for ad.Next() {
			var err error
			switch ad.Type() {
			case unix.RTA_GATEWAY:
				h.Gateway, err = getAddr(&ad, family)
			case unix.RTA_VIA:
				h.Via, err = getVia(&ad)
			default:
				h.Unknown = append(h.Unknown, raw(&ad))
			}
			if err != nil {
				return nil, err
			}
		}
		if err := ad.Err(); err != nil {
			return nil, err
		}
		hops = append(hops, h)
		b = b[min(netlink.Align(n), len(b)):]
	}
	if len(b) != 0 {
		return nil, ErrBadNexthop
	}
	return hops, nil
}

func encodeMultipath(e *netlink.AttributeEncoder, hops []NextHop) {
	nest := e.BeginNest(unix.RTA_MULTIPATH)
	for i := range hops {
		h := &hops[i]
		start := e.Len()
		var hdr [unix.SizeofRtNexthop]byte
		hdr[2], hdr[3] = h.Flags, h.Hops
		binary.NativeEndian.PutUint32(hdr[4:], uint32(h.Index))
		e.Append(hdr[:])
		putAddr(e, unix.RTA_GATEWAY, h.Gateway)
		putVia(e, h.Via)
		encodeUnknown(e, h.Unknown)
		binary.NativeEndian.PutUint16(e.Bytes()[start:], uint16(e.Len()-start))
	}
	e.EndNest(nest)
}
