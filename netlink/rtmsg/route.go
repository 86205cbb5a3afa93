package rtmsg

import (
	"encoding/binary"
	"net/netip"

	"github.com/usnet/usnet/netlink"
	"golang.org/x/sys/unix"
)

// RTA_ENCAP_TYPE (rtnetlink.h), not named by x/sys/unix.
const rtaEncapType = 21

// Route is an RTM_NEWROUTE / DELROUTE / GETROUTE payload: struct rtmsg and
// the RTA_* attributes.
type Route struct {
	Family   uint8  // rtm_family
	DstLen   uint8  // rtm_dst_len
	SrcLen   uint8  // rtm_src_len
	TOS      uint8  // rtm_tos
	Table8   uint8  // rtm_table (RT_TABLE_COMPAT when the id is > 255)
	Protocol uint8  // rtm_protocol (RTPROT_*)
	Scope    uint8  // rtm_scope (RT_SCOPE_*)
	Type     uint8  // rtm_type (RTN_*)
	Flags    uint32 // rtm_flags (RTM_F_*, RTNH_F_*)

	Table     uint32 // RTA_TABLE
	Dst       netip.Addr
	Src       netip.Addr
	IIF       uint32 // RTA_IIF
	Priority  uint32 // RTA_PRIORITY (metric)
	Metrics   *Metrics
	PrefSrc   netip.Addr
	Gateway   netip.Addr
	Via       netip.Addr // RTA_VIA (struct rtvia), e.g. an IPv6 next hop of an IPv4 route
	OIF       uint32     // RTA_OIF
	EncapType uint16     // RTA_ENCAP_TYPE
	Encap     []byte     // RTA_ENCAP, raw nested payload
	Multipath []NextHop  // RTA_MULTIPATH
	Mark      uint32     // RTA_MARK
	UID       uint32     // RTA_UID
	Cacheinfo *RouteCacheinfo
	Pref      uint8  // RTA_PREF (ICMPV6_ROUTER_PREF_*)
	IPProto   uint8  // RTA_IP_PROTO
	SPort     uint16 // RTA_SPORT (carried in network order)
	DPort     uint16 // RTA_DPORT (carried in network order)

	Attrs   AttrSet
	Unknown []RawAttr
}

// TableID returns RTA_TABLE when present, else rtm_table, as the kernel's
// rtm_to_fib_config does.
func (r *Route) TableID() uint32 {
	if r.Attrs.Has(unix.RTA_TABLE) {
		return r.Table
	}
	return uint32(r.Table8)
}

// RouteCacheinfo is struct rta_cacheinfo (RTA_CACHEINFO).
type RouteCacheinfo struct {
	ClntRef, LastUse uint32
	Expires          int32
	Error, Used, ID  uint32
	TS, TSAge        uint32
}

// UnmarshalBinary decodes an rtmsg payload.
func (r *Route) UnmarshalBinary(b []byte) error {
	if len(b) < unix.SizeofRtMsg {
		return ErrTruncated
	}
	*r = Route{Family: b[0], DstLen: b[1], SrcLen: b[2], TOS: b[3], Table8: b[4],
		Protocol: b[5], Scope: b[6], Type: b[7], Flags: binary.NativeEndian.Uint32(b[8:])}
	d := netlink.NewAttributeDecoder(b[unix.SizeofRtMsg:])
	for d.Next() {
		var err error
		t := d.Type()
		switch t {
		case unix.RTA_TABLE:
			r.Table, err = getU32(&d)
		case unix.RTA_DST:
			r.Dst, err = getAddr(&d, r.Family)
		case unix.RTA_SRC:
			r.Src, err = getAddr(&d, r.Family)
		case unix.RTA_IIF:
			r.IIF, err = getU32(&d)
		case unix.RTA_PRIORITY:
			r.Priority, err = getU32(&d)
		case unix.RTA_METRICS:
			r.Metrics = new(Metrics)
			err = r.Metrics.decode(&d)
		case unix.RTA_PREFSRC:
			r.PrefSrc, err = getAddr(&d, r.Family)
		case unix.RTA_GATEWAY:
			r.Gateway, err = getAddr(&d, r.Family)
		case unix.RTA_VIA:
			r.Via, err = getVia(&d)
		case unix.RTA_OIF:
			r.OIF, err = getU32(&d)
		case rtaEncapType:
			r.EncapType, err = getU16(&d)
		case unix.RTA_ENCAP:
			r.Encap = clone(d.Bytes())
		case unix.RTA_MULTIPATH:
			r.Multipath, err = decodeMultipath(&d, r.Family)
		case unix.RTA_MARK:
			r.Mark, err = getU32(&d)
		case unix.RTA_UID:
			r.UID, err = getU32(&d)
		case unix.RTA_CACHEINFO:
			r.Cacheinfo, err = decodeRouteCacheinfo(&d)
		case unix.RTA_PREF:
			r.Pref, err = getU8(&d)
		case unix.RTA_IP_PROTO:
			r.IPProto, err = getU8(&d)
		case unix.RTA_SPORT:
			r.SPort, err = getBE16(&d)
		case unix.RTA_DPORT:
			r.DPort, err = getBE16(&d)
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

func decodeRouteCacheinfo(d *netlink.AttributeDecoder) (*RouteCacheinfo, error) {
	p, err := getFixed(d, 32)
	if err != nil {
		return nil, err
	}
	ne := binary.NativeEndian
	return &RouteCacheinfo{ne.Uint32(p), ne.Uint32(p[4:]), int32(ne.Uint32(p[8:])), ne.Uint32(p[12:]),
		ne.Uint32(p[16:]), ne.Uint32(p[20:]), ne.Uint32(p[24:]), ne.Uint32(p[28:])}, nil
}

// getVia reads struct rtvia: a host-order u16 family and the address.
func getVia(d *netlink.AttributeDecoder) (netip.Addr, error) {
	p := d.Bytes()
	if len(p) < 2 {
		return netip.Addr{}, &SizeError{Type: d.Type(), Got: len(p), Want: 2, Min: true}
	}
	fam, a := binary.NativeEndian.Uint16(p), p[2:]
	switch {
	case fam == unix.AF_INET && len(a) == 4:
		return netip.AddrFrom4([4]byte(a)), nil
	case fam == unix.AF_INET6 && len(a) == 16:
		return netip.AddrFrom16([16]byte(a)), nil
	}
	// The kernel rejects other families and sizes with EINVAL.
	return netip.Addr{}, &SizeError{Type: d.Type(), Got: len(p), Want: 6, Min: true}
}

func putVia(e *netlink.AttributeEncoder, a netip.Addr) {
	if !a.IsValid() {
		return
	}
	var p [18]byte
	if a.Is4() {
		binary.NativeEndian.PutUint16(p[:], unix.AF_INET)
		b := a.As4()
		copy(p[2:], b[:])
		e.PutBytes(unix.RTA_VIA, p[:6])
		return
	}
	binary.NativeEndian.PutUint16(p[:], unix.AF_INET6)
	b := a.As16()
	copy(p[2:], b[:])
	e.PutBytes(unix.RTA_VIA, p[:])
}

// Encode appends the rtmsg and attributes in fib_dump_info order.
func (r *Route) Encode(e *netlink.AttributeEncoder) {
	h := [unix.SizeofRtMsg]byte{r.Family, r.DstLen, r.SrcLen, r.TOS, r.Table8, r.Protocol, r.Scope, r.Type}
	binary.NativeEndian.PutUint32(h[8:], r.Flags)
	e.Append(h[:])
	s := &r.Attrs
	putU32(e, s, unix.RTA_TABLE, r.Table)
	putAddr(e, unix.RTA_DST, r.Dst)
	putAddr(e, unix.RTA_SRC, r.Src)
	putU32(e, s, unix.RTA_IIF, r.IIF)
	putU32(e, s, unix.RTA_PRIORITY, r.Priority)
	if r.Metrics != nil {
		r.Metrics.encode(e)
	}
	putAddr(e, unix.RTA_PREFSRC, r.PrefSrc)
	putAddr(e, unix.RTA_GATEWAY, r.Gateway)
	putVia(e, r.Via)
	putU32(e, s, unix.RTA_OIF, r.OIF)
	putU16(e, s, rtaEncapType, r.EncapType)
	putBytes(e, s, unix.RTA_ENCAP, r.Encap)
	if len(r.Multipath) > 0 || s.Has(unix.RTA_MULTIPATH) {
		encodeMultipath(e, r.Multipath)
	}
	putU32(e, s, unix.RTA_MARK, r.Mark)
	putU32(e, s, unix.RTA_UID, r.UID)
	if c := r.Cacheinfo; c != nil {
		var p [32]byte
		for i, v := range [8]uint32{c.ClntRef, c.LastUse, uint32(c.Expires), c.Error, c.Used, c.ID, c.TS, c.TSAge} {
			binary.NativeEndian.PutUint32(p[4*i:], v)
		}
		e.PutBytes(unix.RTA_CACHEINFO, p[:])
	}
	putU8(e, s, unix.RTA_PREF, r.Pref)
	putU8(e, s, unix.RTA_IP_PROTO, r.IPProto)
	if r.SPort != 0 || s.Has(unix.RTA_SPORT) {
		e.Uint16BE(unix.RTA_SPORT, r.SPort)
	}
	if r.DPort != 0 || s.Has(unix.RTA_DPORT) {
		e.Uint16BE(unix.RTA_DPORT, r.DPort)
	}
	encodeUnknown(e, r.Unknown)
}

// MarshalBinary encodes the payload into a new slice.
func (r *Route) MarshalBinary() ([]byte, error) { return marshal(r.Encode) }

// AppendBinary appends the payload to b.
func (r *Route) AppendBinary(b []byte) ([]byte, error) { return appendTo(b, r.Encode) }
