package rtmsg

import (
	"github.com/usnet/usnet/netlink"
)

// NETCONFA_* (include/uapi/linux/netconf.h), not named by x/sys/unix.
const (
	NetconfIfindex                  = 1
	NetconfForwarding               = 2
	NetconfRPFilter                 = 3
	NetconfMCForwarding             = 4
	NetconfProxyNeigh               = 5
	NetconfIgnoreRoutesWithLinkdown = 6
	NetconfInput                    = 7
	NetconfBCForwarding             = 8

	// NetconfIfindexAll and NetconfIfindexDefault are the ifindex values
	// of the "all" and "default" devconf sets.
	NetconfIfindexAll     = -1
	NetconfIfindexDefault = -2
)

// sizeofNetconfmsg is struct netconfmsg (one byte) padded by NLMSG_ALIGN.
const sizeofNetconfmsg = 4

// Netconf is an RTM_NEWNETCONF / DELNETCONF / GETNETCONF payload: struct
// netconfmsg and the NETCONFA_* attributes, all s32.
type Netconf struct {
	Family                   uint8
	Ifindex                  int32
	Forwarding               int32
	RPFilter                 int32
	MCForwarding             int32
	BCForwarding             int32
	ProxyNeigh               int32
	IgnoreRoutesWithLinkdown int32
	Input                    int32

	Attrs   AttrSet
	Unknown []RawAttr
}

// UnmarshalBinary decodes a netconfmsg payload. A payload of just the one
// family byte (without NLMSG_ALIGN padding) is accepted, as GETNETCONF
// requests may be that short.
func (n *Netconf) UnmarshalBinary(b []byte) error {
	if len(b) < 1 {
		return ErrTruncated
	}
	*n = Netconf{Family: b[0]}
	if len(b) <= sizeofNetconfmsg {
		return nil
	}
	d := netlink.NewAttributeDecoder(b[sizeofNetconfmsg:])
	for d.Next() {
		t := d.Type()
		var p *int32
		switch t {
		case NetconfIfindex:
			p = &n.Ifindex
		case NetconfForwarding:
			p = &n.Forwarding
		case NetconfRPFilter:
			p = &n.RPFilter
		case NetconfMCForwarding:
			p = &n.MCForwarding
		case NetconfBCForwarding:
			p = &n.BCForwarding
		case NetconfProxyNeigh:
			p = &n.ProxyNeigh
		case NetconfIgnoreRoutesWithLinkdown:
			p = &n.IgnoreRoutesWithLinkdown
		case NetconfInput:
			p = &n.Input
		default:
			n.Unknown = append(n.Unknown, raw(&d))
			continue
		}
		v, err := getS32(&d)
		if err != nil {
			return err
		}
		*p = v
		n.Attrs.Set(t)
	}
	return d.Err()
}

// Encode appends the netconfmsg and attributes in
// inet_netconf_fill_devconf order.
func (n *Netconf) Encode(e *netlink.AttributeEncoder) {
	e.Append([]byte{n.Family})
	s := &n.Attrs
	for _, f := range [...]struct {
		t uint16
		v int32
	}{
		{NetconfIfindex, n.Ifindex}, {NetconfForwarding, n.Forwarding}, {NetconfRPFilter, n.RPFilter},
		{NetconfMCForwarding, n.MCForwarding}, {NetconfBCForwarding, n.BCForwarding},
		{NetconfProxyNeigh, n.ProxyNeigh}, {NetconfIgnoreRoutesWithLinkdown, n.IgnoreRoutesWithLinkdown},
		{NetconfInput, n.Input},
	} {
		putU32(e, s, f.t, uint32(f.v))
	}
	encodeUnknown(e, n.Unknown)
}

// MarshalBinary encodes the payload into a new slice.
func (n *Netconf) MarshalBinary() ([]byte, error) { return marshal(n.Encode) }

// AppendBinary appends the payload to b.
func (n *Netconf) AppendBinary(b []byte) ([]byte, error) { return appendTo(b, n.Encode) }
