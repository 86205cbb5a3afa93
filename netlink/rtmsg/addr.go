package rtmsg

import (
	"encoding/binary"
	"net/netip"

	"github.com/usnet/usnet/netlink"
	"golang.org/x/sys/unix"
)

// IFA_PROTO (if_addr.h), not named by x/sys/unix.
const ifaProto = 11

// AddrCacheinfo is struct ifa_cacheinfo (IFA_CACHEINFO). Times are in
// seconds, stamps in hundredths of a second since boot.
type AddrCacheinfo struct {
	Preferred, Valid uint32 // lifetimes; 0xffffffff is forever
	Created, Updated uint32 // cstamp, tstamp
}

// Addr is an RTM_NEWADDR / DELADDR / GETADDR payload: struct ifaddrmsg
// and the IFA_* attributes.
type Addr struct {
	Family    uint8  // ifa_family
	PrefixLen uint8  // ifa_prefixlen
	Flags8    uint8  // ifa_flags (low 8 bits of the flags)
	Scope     uint8  // ifa_scope (RT_SCOPE_*)
	Index     uint32 // ifa_index

	Address    netip.Addr // IFA_ADDRESS (peer on point-to-point links)
	Local      netip.Addr // IFA_LOCAL
	Broadcast  netip.Addr // IFA_BROADCAST
	Label      string     // IFA_LABEL
	Proto      uint8      // IFA_PROTO
	Flags      uint32     // IFA_FLAGS: all 32 flag bits (IFA_F_*)
	RtPriority uint32     // IFA_RT_PRIORITY
	Cacheinfo  *AddrCacheinfo

	Attrs   AttrSet
	Unknown []RawAttr
}

// AllFlags returns IFA_FLAGS when present, else the 8-bit ifa_flags, as
// iproute2 reads them.
func (a *Addr) AllFlags() uint32 {
	if a.Attrs.Has(unix.IFA_FLAGS) {
		return a.Flags
	}
	return uint32(a.Flags8)
}

// UnmarshalBinary decodes an ifaddrmsg payload.
func (a *Addr) UnmarshalBinary(b []byte) error {
	if len(b) < unix.SizeofIfAddrmsg {
		return ErrTruncated
	}
	*a = Addr{Family: b[0], PrefixLen: b[1], Flags8: b[2], Scope: b[3], Index: binary.NativeEndian.Uint32(b[4:])}
	d := netlink.NewAttributeDecoder(b[unix.SizeofIfAddrmsg:])
	for d.Next() {
		var err error
		t := d.Type()
		switch t {
		case unix.IFA_ADDRESS:
			a.Address, err = getAddr(&d, a.Family)
		case unix.IFA_LOCAL:
			a.Local, err = getAddr(&d, a.Family)
		case unix.IFA_BROADCAST:
			a.Broadcast, err = getAddr(&d, a.Family)
		case unix.IFA_LABEL:
			a.Label = d.String()
		case ifaProto:
			a.Proto, err = getU8(&d)
		case unix.IFA_FLAGS:
			a.Flags, err = getU32(&d)
		case unix.IFA_RT_PRIORITY:
			a.RtPriority, err = getU32(&d)
		case unix.IFA_CACHEINFO:
			var p []byte
			if p, err = getFixed(&d, 16); err == nil {
				ne := binary.NativeEndian
				a.Cacheinfo = &AddrCacheinfo{ne.Uint32(p), ne.Uint32(p[4:]), ne.Uint32(p[8:]), ne.Uint32(p[12:])}
			}
		default:
			a.Unknown = append(a.Unknown, raw(&d))
			continue
		}
		if err != nil {
			return err
		}
		a.Attrs.Set(t)
	}
	return d.Err()
}

// Encode appends the ifaddrmsg and attributes in the kernel's order:
// inet_fill_ifaddr for IPv4, inet6_fill_ifaddr (cacheinfo before flags,
// local before a peer address) for IPv6.
func (a *Addr) Encode(e *netlink.AttributeEncoder) {
	var h [unix.SizeofIfAddrmsg]byte
	h[0], h[1], h[2], h[3] = a.Family, a.PrefixLen, a.Flags8, a.Scope
	binary.NativeEndian.PutUint32(h[4:], a.Index)
	e.Append(h[:])
	s := &a.Attrs
	if a.Family == unix.AF_INET6 {
		putAddr(e, unix.IFA_LOCAL, a.Local)
		putAddr(e, unix.IFA_ADDRESS, a.Address)
		putAddr(e, unix.IFA_BROADCAST, a.Broadcast)
		putString(e, s, unix.IFA_LABEL, a.Label)
		putU32(e, s, unix.IFA_RT_PRIORITY, a.RtPriority)
		a.encodeCacheinfo(e)
		putU32(e, s, unix.IFA_FLAGS, a.Flags)
		putU8(e, s, ifaProto, a.Proto)
	} else {
		putAddr(e, unix.IFA_ADDRESS, a.Address)
		putAddr(e, unix.IFA_LOCAL, a.Local)
		putAddr(e, unix.IFA_BROADCAST, a.Broadcast)
		putString(e, s, unix.IFA_LABEL, a.Label)
		putU8(e, s, ifaProto, a.Proto)
		putU32(e, s, unix.IFA_FLAGS, a.Flags)
		putU32(e, s, unix.IFA_RT_PRIORITY, a.RtPriority)
		a.encodeCacheinfo(e)
	}
	encodeUnknown(e, a.Unknown)
}

func (a *Addr) encodeCacheinfo(e *netlink.AttributeEncoder) {
	c := a.Cacheinfo
	if c == nil {
		return
	}
	var p [16]byte
	ne := binary.NativeEndian
	ne.PutUint32(p[0:], c.Preferred)
	ne.PutUint32(p[4:], c.Valid)
	ne.PutUint32(p[8:], c.Created)
	ne.PutUint32(p[12:], c.Updated)
	e.PutBytes(unix.IFA_CACHEINFO, p[:])
}

// MarshalBinary encodes the payload into a new slice.
func (a *Addr) MarshalBinary() ([]byte, error) { return marshal(a.Encode) }

// AppendBinary appends the payload to b.
func (a *Addr) AppendBinary(b []byte) ([]byte, error) { return appendTo(b, a.Encode) }
