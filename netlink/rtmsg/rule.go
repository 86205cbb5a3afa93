package rtmsg

import (
	"encoding/binary"
	"net/netip"

	"github.com/usnet/usnet/netlink"
	"golang.org/x/sys/unix"
)

// sizeofFibRuleHdr is struct fib_rule_hdr.
const sizeofFibRuleHdr = 12

// Range is a fib_rule_port_range (u16 start, end) or fib_rule_uid_range
// (u32 start, end), both in host order.
type Range struct{ Start, End uint32 }

// Rule is an RTM_NEWRULE / DELRULE / GETRULE payload: struct fib_rule_hdr
// and the FRA_* attributes.
type Rule struct {
	Family uint8
	DstLen uint8
	SrcLen uint8
	TOS    uint8
	Table8 uint8  // table (RT_TABLE_COMPAT when the id is > 255)
	Action uint8  // FR_ACT_*
	Flags  uint32 // FIB_RULE_*

	Table             uint32 // FRA_TABLE
	SuppressPrefixLen uint32 // FRA_SUPPRESS_PREFIXLEN (0xffffffff: none)
	Protocol          uint8  // FRA_PROTOCOL
	IIFName           string // FRA_IIFNAME
	OIFName           string // FRA_OIFNAME
	Priority          uint32 // FRA_PRIORITY
	FwMark            uint32 // FRA_FWMARK
	FwMask            uint32 // FRA_FWMASK
	Goto              uint32 // FRA_GOTO
	L3MDev            uint8  // FRA_L3MDEV
	UIDRange          *Range // FRA_UID_RANGE
	SPortRange        *Range // FRA_SPORT_RANGE (16-bit ports)
	DPortRange        *Range // FRA_DPORT_RANGE
	IPProto           uint8  // FRA_IP_PROTO
	SuppressIfGroup   uint32 // FRA_SUPPRESS_IFGROUP
	Dst               netip.Addr
	Src               netip.Addr

	Attrs   AttrSet
	Unknown []RawAttr
}

// UnmarshalBinary decodes a fib_rule_hdr payload.
func (r *Rule) UnmarshalBinary(b []byte) error {
	if len(b) < sizeofFibRuleHdr {
		return ErrTruncated
	}
	*r = Rule{Family: b[0], DstLen: b[1], SrcLen: b[2], TOS: b[3], Table8: b[4], Action: b[7],
		Flags: binary.NativeEndian.Uint32(b[8:])}
	d := netlink.NewAttributeDecoder(b[sizeofFibRuleHdr:])
	for d.Next() {
		var err error
		t := d.Type()
		switch t {
		case unix.FRA_TABLE:
			r.Table, err = getU32(&d)
		case unix.FRA_SUPPRESS_PREFIXLEN:
			r.SuppressPrefixLen, err = getU32(&d)
		case unix.FRA_PROTOCOL:
			r.Protocol, err = getU8(&d)
		case unix.FRA_IIFNAME:
			r.IIFName = d.String()
		case unix.FRA_OIFNAME:
			r.OIFName = d.String()
		case unix.FRA_PRIORITY:
			r.Priority, err = getU32(&d)
		case unix.FRA_FWMARK:
			r.FwMark, err = getU32(&d)
		case unix.FRA_FWMASK:
			r.FwMask, err = getU32(&d)
		case unix.FRA_GOTO:
			r.Goto, err = getU32(&d)
		case unix.FRA_L3MDEV:
			r.L3MDev, err = getU8(&d)
		case unix.FRA_UID_RANGE:
			r.UIDRange, err = getRange(&d, 4)
		case unix.FRA_SPORT_RANGE:
			r.SPortRange, err = getRange(&d, 2)
		case unix.FRA_DPORT_RANGE:
			r.DPortRange, err = getRange(&d, 2)
		case unix.FRA_IP_PROTO:
			r.IPProto, err = getU8(&d)
		case unix.FRA_SUPPRESS_IFGROUP:
			r.SuppressIfGroup, err = getU32(&d)
		case unix.FRA_DST:
			r.Dst, err = getAddr(&d, r.Family)
		case unix.FRA_SRC:
			r.Src, err = getAddr(&d, r.Family)
		default:
			r.Unknown = append(r.Unknown, raw(&d))
			continue
		}
		if err != nil {
			return err
		}
		r.Attrs.Set(t)
	}
	return d.Err()
}

// getRange reads two host-order integers of w bytes each.
func getRange(d *netlink.AttributeDecoder, w int) (*Range, error) {
	p, err := getFixed(d, 2*w)
	if err != nil {
		return nil, err
	}
	ne := binary.NativeEndian
	if w == 2 {
		return &Range{uint32(ne.Uint16(p)), uint32(ne.Uint16(p[2:]))}, nil
	}
	return &Range{ne.Uint32(p), ne.Uint32(p[4:])}, nil
}

func putRange(e *netlink.AttributeEncoder, t uint16, r *Range, w int) {
	if r == nil {
		return
	}
	var p [8]byte
	ne := binary.NativeEndian
	if w == 2 {
		ne.PutUint16(p[:], uint16(r.Start))
		ne.PutUint16(p[2:], uint16(r.End))
	} else {
		ne.PutUint32(p[:], r.Start)
		ne.PutUint32(p[4:], r.End)
	}
	e.PutBytes(t, p[:2*w])
}

// Encode appends the fib_rule_hdr and attributes in fib_nl_fill_rule order.
func (r *Rule) Encode(e *netlink.AttributeEncoder) {
	h := [sizeofFibRuleHdr]byte{r.Family, r.DstLen, r.SrcLen, r.TOS, r.Table8, 0, 0, r.Action}
	binary.NativeEndian.PutUint32(h[8:], r.Flags)
	e.Append(h[:])
	s := &r.Attrs
	putU32(e, s, unix.FRA_TABLE, r.Table)
	putU32(e, s, unix.FRA_SUPPRESS_PREFIXLEN, r.SuppressPrefixLen)
	putU8(e, s, unix.FRA_PROTOCOL, r.Protocol)
	putString(e, s, unix.FRA_IIFNAME, r.IIFName)
	putString(e, s, unix.FRA_OIFNAME, r.OIFName)
	putU32(e, s, unix.FRA_PRIORITY, r.Priority)
	putU32(e, s, unix.FRA_FWMARK, r.FwMark)
	putU32(e, s, unix.FRA_FWMASK, r.FwMask)
	putU32(e, s, unix.FRA_GOTO, r.Goto)
	putU8(e, s, unix.FRA_L3MDEV, r.L3MDev)
	putRange(e, unix.FRA_UID_RANGE, r.UIDRange, 4)
	putRange(e, unix.FRA_SPORT_RANGE, r.SPortRange, 2)
	putRange(e, unix.FRA_DPORT_RANGE, r.DPortRange, 2)
	putU8(e, s, unix.FRA_IP_PROTO, r.IPProto)
	putU32(e, s, unix.FRA_SUPPRESS_IFGROUP, r.SuppressIfGroup)
	putAddr(e, unix.FRA_DST, r.Dst)
	putAddr(e, unix.FRA_SRC, r.Src)
	encodeUnknown(e, r.Unknown)
}

// MarshalBinary encodes the payload into a new slice.
func (r *Rule) MarshalBinary() ([]byte, error) { return marshal(r.Encode) }

// AppendBinary appends the payload to b.
func (r *Rule) AppendBinary(b []byte) ([]byte, error) { return appendTo(b, r.Encode) }
