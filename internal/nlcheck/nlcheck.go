// Package nlcheck validates the framing of rtnetlink datagrams for tests:
// that a reader can walk every message and every attribute of what usnet
// sends without running past a length. It exists because a framing bug
// shows up far from its cause, as "nlmsg_len exceeds remaining buffer" in
// a client, and only under some topology or timing; tests that stress the
// control plane run every datagram they receive through Datagram.
//
// The checks are stricter than a parser's, which tolerates what the kernel
// tolerates:
//
//   - a datagram is a whole number of messages: each nlmsg_len is at
//     least 16 and ends inside the datagram, messages start 4-aligned, and
//     nothing but the last message's padding follows the last message;
//   - a message's payload is its fixed header (ifinfomsg, ifaddrmsg, …)
//     followed by attributes that fill it exactly, each nla_len at least 4
//     and inside its parent;
//   - the nests usnet emits (IFLA_LINKINFO and the kind data inside it,
//     IFLA_AF_SPEC, IFLA_XDP, IFLA_PROTINFO, RTA_MULTIPATH, RTA_METRICS,
//     the bond and vlan and macvlan nests) are walked the same way;
//   - NLMSG_ERROR echoes a request whose own length fits, NLMSG_DONE
//     carries its errno.
//
// Message types it does not know are checked at the nlmsghdr level only.
package nlcheck

import (
	"encoding/binary"
	"fmt"

	"github.com/usnet/usnet/netlink"
	"golang.org/x/sys/unix"
)

// Datagram checks one received datagram. max, when positive, is the
// largest datagram the reader accepts (its receive buffer).
func Datagram(b []byte, max int) error {
	if max > 0 && len(b) > max {
		return fmt.Errorf("datagram of %d bytes exceeds %d", len(b), max)
	}
	if len(b) < netlink.HeaderLen {
		return fmt.Errorf("datagram of %d bytes holds no message", len(b))
	}
	off := 0
	for i := 0; off < len(b); i++ {
		rest := b[off:]
		if len(rest) < netlink.HeaderLen {
			return fmt.Errorf("message %d at %d: %d trailing bytes", i, off, len(rest))
		}
		h, _ := netlink.DecodeHeader(rest)
		if h.Len < netlink.HeaderLen {
			return fmt.Errorf("message %d at %d: nlmsg_len %d < 16", i, off, h.Len)
		}
		if int64(h.Len) > int64(len(rest)) {
			return fmt.Errorf("message %d at %d (type %d): nlmsg_len %d exceeds the %d bytes left",
				i, off, h.Type, h.Len, len(rest))
		}
		if err := Message(rest[:h.Len]); err != nil {
			return fmt.Errorf("message %d at %d (type %d, len %d): %w", i, off, h.Type, h.Len, err)
		}
		off += min(netlink.Align(int(h.Len)), len(rest))
	}
	return nil
}

// Message checks one message, header included, whose nlmsg_len is
// len(m).
func Message(m []byte) error {
	h, err := netlink.DecodeHeader(m)
	if err != nil {
		return err
	}
	if int(h.Len) != len(m) {
		return fmt.Errorf("nlmsg_len %d, message of %d bytes", h.Len, len(m))
	}
	p := m[netlink.HeaderLen:]
	switch h.Type {
	case unix.NLMSG_ERROR:
		return checkError(h, p)
	case unix.NLMSG_DONE:
		if len(p) < 4 {
			return fmt.Errorf("NLMSG_DONE without errno (%d bytes)", len(p))
		}
		if h.Flags&unix.NLM_F_ACK_TLVS != 0 {
			return attrs(p[4:], nil, 0)
		}
		return nil
	}
	s, ok := schemas[h.Type]
	if !ok {
		return nil
	}
	if len(p) < s.hdr {
		return fmt.Errorf("payload of %d bytes, fixed header needs %d", len(p), s.hdr)
	}
	return attrs(p[netlink.Align(s.hdr):], s.nests, 0)
}

func checkError(h netlink.Header, p []byte) error {
	r, err := netlink.ParseError(h.Flags, p)
	if err != nil {
		return fmt.Errorf("NLMSG_ERROR: %w", err)
	}
	if h.Flags&unix.NLM_F_ACK_TLVS != 0 {
		return attrs(r.TLVs, nil, 0)
	}
	return nil
}

// nests maps an attribute type to how its payload is laid out: a nil
// *nest means "opaque", a nest with a nil field map means "attributes,
// not walked further".
type nest struct {
	attrs map[uint16]*nest
	// byKind selects the nest of IFLA_INFO_DATA and IFLA_INFO_SLAVE_DATA
	// by the sibling IFLA_INFO_KIND / IFLA_INFO_SLAVE_KIND.
	byKind bool
	// each: every attribute of this nest is itself a nest laid out as
	// *each (IFLA_AF_SPEC: one nest per address family).
	each *nest
	// multipath: RTA_MULTIPATH, a run of struct rtnexthop each followed
	// by attributes.
	multipath bool
}

type schema struct {
	hdr   int // fixed header size
	nests map[uint16]*nest
}

var (
	plain = &nest{}

	// Kind data with nests of their own (IFLA_INFO_DATA).
	kindData = map[string]*nest{
		"bond": {attrs: map[uint16]*nest{
			unix.IFLA_BOND_ARP_IP_TARGET: plain,
			unix.IFLA_BOND_NS_IP6_TARGET: plain,
			unix.IFLA_BOND_AD_INFO:       plain,
		}},
		"vlan": {attrs: map[uint16]*nest{
			unix.IFLA_VLAN_EGRESS_QOS:  plain,
			unix.IFLA_VLAN_INGRESS_QOS: plain,
		}},
		"macvlan": {attrs: map[uint16]*nest{unix.IFLA_MACVLAN_MACADDR_DATA: plain}},
		"macvtap": {attrs: map[uint16]*nest{unix.IFLA_MACVLAN_MACADDR_DATA: plain}},
	}

	linkNests = map[uint16]*nest{
		unix.IFLA_LINKINFO: {attrs: map[uint16]*nest{
			unix.IFLA_INFO_DATA:       {byKind: true},
			unix.IFLA_INFO_SLAVE_DATA: {byKind: true},
			unix.IFLA_INFO_XSTATS:     plain,
		}},
		unix.IFLA_AF_SPEC:   {each: plain},
		unix.IFLA_XDP:       plain,
		unix.IFLA_PROTINFO:  plain,
		unix.IFLA_PROP_LIST: plain,
	}

	routeNests = map[uint16]*nest{
		unix.RTA_METRICS:   plain,
		unix.RTA_MULTIPATH: {multipath: true},
	}

	schemas = map[uint16]schema{
		unix.RTM_NEWLINK:    {unix.SizeofIfInfomsg, linkNests},
		unix.RTM_DELLINK:    {unix.SizeofIfInfomsg, linkNests},
		unix.RTM_NEWADDR:    {unix.SizeofIfAddrmsg, nil},
		unix.RTM_DELADDR:    {unix.SizeofIfAddrmsg, nil},
		unix.RTM_NEWROUTE:   {unix.SizeofRtMsg, routeNests},
		unix.RTM_DELROUTE:   {unix.SizeofRtMsg, routeNests},
		unix.RTM_NEWNEIGH:   {unix.SizeofNdMsg, nil},
		unix.RTM_DELNEIGH:   {unix.SizeofNdMsg, nil},
		unix.RTM_NEWRULE:    {12, nil}, // struct fib_rule_hdr
		unix.RTM_DELRULE:    {12, nil},
		unix.RTM_NEWNETCONF: {1, nil}, // struct netconfmsg
		unix.RTM_DELNETCONF: {1, nil},
		unix.RTM_NEWNSID:    {1, nil}, // struct rtgenmsg
	}
)

// maxDepth bounds the recursion as the kernel's policy depth does.
const maxDepth = netlink.MaxNestDepth

// attrs checks that b is exactly a run of attributes, walking the nests
// that n describes.
func attrs(b []byte, n map[uint16]*nest, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("nested deeper than %d", maxDepth)
	}
	var kind, slaveKind string
	for off := 0; off < len(b); {
		rest := b[off:]
		if len(rest) < netlink.AttrHeaderLen {
			return fmt.Errorf("at %d: %d bytes left, no room for an attribute", off, len(rest))
		}
		l := int(binary.NativeEndian.Uint16(rest))
		typ := binary.NativeEndian.Uint16(rest[2:]) &^ (unix.NLA_F_NESTED | unix.NLA_F_NET_BYTEORDER)
		if l < netlink.AttrHeaderLen || l > len(rest) {
			return fmt.Errorf("at %d: attribute type %d has nla_len %d, %d bytes left", off, typ, l, len(rest))
		}
		data := rest[netlink.AttrHeaderLen:l]
		switch typ {
		case unix.IFLA_INFO_KIND:
			kind = cstring(data)
		case unix.IFLA_INFO_SLAVE_KIND:
			slaveKind = cstring(data)
		}
		if sub := n[typ]; sub != nil {
			var err error
			switch {
			case sub.multipath:
				err = multipath(data, depth+1)
			case sub.byKind:
				k := kind
				if typ == unix.IFLA_INFO_SLAVE_DATA {
					k = slaveKind
				}
				var inner map[uint16]*nest
				if kd := kindData[k]; kd != nil && typ == unix.IFLA_INFO_DATA {
					inner = kd.attrs
				}
				err = attrs(data, inner, depth+1)
			case sub.each != nil:
				err = eachNest(data, sub.each, depth+1)
			default:
				err = attrs(data, sub.attrs, depth+1)
			}
			if err != nil {
				return fmt.Errorf("in attribute type %d: %w", typ, err)
			}
		}
		next := netlink.Align(l)
		if next > len(rest) {
			// Only the last attribute of a run may lack its padding.
			if off+l != len(b) {
				return fmt.Errorf("at %d: attribute type %d unpadded", off, typ)
			}
			next = l
		}
		off += next
	}
	return nil
}

// eachNest checks a nest whose every attribute is a nest laid out as n.
func eachNest(b []byte, n *nest, depth int) error {
	m := map[uint16]*nest{}
	for off := 0; off+netlink.AttrHeaderLen <= len(b); {
		l := int(binary.NativeEndian.Uint16(b[off:]))
		m[binary.NativeEndian.Uint16(b[off+2:])&^(unix.NLA_F_NESTED|unix.NLA_F_NET_BYTEORDER)] = n
		if l < netlink.AttrHeaderLen {
			break // attrs reports it
		}
		off += netlink.Align(l)
	}
	return attrs(b, m, depth)
}

// multipath checks RTA_MULTIPATH: struct rtnexthop (8 bytes, rtnh_len
// first) then its attributes, repeated.
func multipath(b []byte, depth int) error {
	for off := 0; off < len(b); {
		rest := b[off:]
		if len(rest) < 8 {
			return fmt.Errorf("rtnexthop at %d: %d bytes left", off, len(rest))
		}
		l := int(binary.NativeEndian.Uint16(rest))
		if l < 8 || l > len(rest) {
			return fmt.Errorf("rtnexthop at %d: rtnh_len %d, %d bytes left", off, l, len(rest))
		}
		if err := attrs(rest[8:l], nil, depth); err != nil {
			return fmt.Errorf("rtnexthop at %d: %w", off, err)
		}
		off += min(netlink.Align(l), len(rest))
	}
	return nil
}

func cstring(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
