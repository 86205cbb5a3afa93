package rtmsg

import (
	"encoding/binary"
	"net/netip"

	"github.com/usnet/usnet/netlink"
	"golang.org/x/sys/unix"
)

// NeighCacheinfo is struct nda_cacheinfo (NDA_CACHEINFO); times are in
// clock ticks (USER_HZ) since the event.
type NeighCacheinfo struct {
	Confirmed, Used, Updated, RefCnt uint32
}

// Neigh is an RTM_NEWNEIGH / DELNEIGH / GETNEIGH payload: struct ndmsg and
// the NDA_* attributes.
type Neigh struct {
	Family uint8  // ndm_family
	Index  int32  // ndm_ifindex
	State  uint16 // ndm_state (NUD_*)
	Flags  uint8  // ndm_flags (NTF_*)
	Type   uint8  // ndm_type (RTN_*)

	Dst       netip.Addr // NDA_DST
	LLAddr    []byte     // NDA_LLADDR
	Cacheinfo *NeighCacheinfo
	Probes    uint32 // NDA_PROBES
	VLAN      uint16 // NDA_VLAN (bridge FDB)
	Master    uint32 // NDA_MASTER
	// Protocol is NDA_PROTOCOL: who installed the entry (RTPROT_*).
	Protocol uint8
	// IfIndex is NDA_IFINDEX, the device filter of a dump request.
	IfIndex uint32

	Attrs   AttrSet
	Unknown []RawAttr
}

// UnmarshalBinary decodes an ndmsg payload.
func (n *Neigh) UnmarshalBinary(b []byte) error {
	if len(b) < unix.SizeofNdMsg {
		return ErrTruncated
	}
	ne := binary.NativeEndian
	*n = Neigh{Family: b[0], Index: int32(ne.Uint32(b[4:])), State: ne.Uint16(b[8:]), Flags: b[10], Type: b[11]}
	d := netlink.NewAttributeDecoder(b[unix.SizeofNdMsg:])
	for d.Next() {
		var err error
		t := d.Type()
		switch t {
		case unix.NDA_DST:
			n.Dst, err = getAddr(&d, n.Family)
		case unix.NDA_LLADDR:
			n.LLAddr = clone(d.Bytes())
		case unix.NDA_CACHEINFO:
			var p []byte
			if p, err = getFixed(&d, 16); err == nil {
				n.Cacheinfo = &NeighCacheinfo{ne.Uint32(p), ne.Uint32(p[4:]), ne.Uint32(p[8:]), ne.Uint32(p[12:])}
			}
		case unix.NDA_PROBES:
			n.Probes, err = getU32(&d)
		case unix.NDA_VLAN:
			n.VLAN, err = getU16(&d)
		case unix.NDA_MASTER:
			n.Master, err = getU32(&d)
		case NDAProtocol:
			n.Protocol, err = getU8(&d)
		case unix.NDA_IFINDEX:
			n.IfIndex, err = getU32(&d)
		default:
			n.Unknown = append(n.Unknown, raw(&d))
			continue
		}
		if err != nil {
			return err
		}
		n.Attrs.Set(t)
	}
	return d.Err()
}

// NDAProtocol is NDA_PROTOCOL (include/uapi/linux/neighbour.h), which
// golang.org/x/sys/unix does not define.
const NDAProtocol = 12

// Encode appends the ndmsg and attributes in neigh_fill_info order
// (probes before cacheinfo, then the protocol); a proxy entry
// (pneigh_fill_info) has only the destination and the protocol.
func (n *Neigh) Encode(e *netlink.AttributeEncoder) {
	var h [unix.SizeofNdMsg]byte
	ne := binary.NativeEndian
	h[0] = n.Family
	ne.PutUint32(h[4:], uint32(n.Index))
	ne.PutUint16(h[8:], n.State)
	h[10], h[11] = n.Flags, n.Type
	e.Append(h[:])
	s := &n.Attrs
	putAddr(e, unix.NDA_DST, n.Dst)
	putBytes(e, s, unix.NDA_LLADDR, n.LLAddr)
	putU32(e, s, unix.NDA_PROBES, n.Probes)
	if c := n.Cacheinfo; c != nil {
		var p [16]byte
		ne.PutUint32(p[0:], c.Confirmed)
		ne.PutUint32(p[4:], c.Used)
		ne.PutUint32(p[8:], c.Updated)
		ne.PutUint32(p[12:], c.RefCnt)
		e.PutBytes(unix.NDA_CACHEINFO, p[:])
	}
	putU8(e, s, NDAProtocol, n.Protocol)
	putU16(e, s, unix.NDA_VLAN, n.VLAN)
	putU32(e, s, unix.NDA_MASTER, n.Master)
	putU32(e, s, unix.NDA_IFINDEX, n.IfIndex)
	encodeUnknown(e, n.Unknown)
}

// MarshalBinary encodes the payload into a new slice.
func (n *Neigh) MarshalBinary() ([]byte, error) { return marshal(n.Encode) }

// AppendBinary appends the payload to b.
func (n *Neigh) AppendBinary(b []byte) ([]byte, error) { return appendTo(b, n.Encode) }
