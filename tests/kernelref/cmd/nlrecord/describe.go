package main

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"syscall"

	"golang.org/x/sys/unix"
)

var typeNames = map[uint16]string{
	unix.NLMSG_ERROR: "NLMSG_ERROR", unix.NLMSG_DONE: "NLMSG_DONE",
	unix.RTM_NEWLINK: "RTM_NEWLINK", unix.RTM_DELLINK: "RTM_DELLINK",
	unix.RTM_NEWADDR: "RTM_NEWADDR", unix.RTM_DELADDR: "RTM_DELADDR",
	unix.RTM_NEWROUTE: "RTM_NEWROUTE", unix.RTM_DELROUTE: "RTM_DELROUTE",
	unix.RTM_NEWNEIGH: "RTM_NEWNEIGH", unix.RTM_DELNEIGH: "RTM_DELNEIGH",
	unix.RTM_NEWRULE: "RTM_NEWRULE", unix.RTM_DELRULE: "RTM_DELRULE",
	unix.RTM_NEWNETCONF: "RTM_NEWNETCONF", unix.RTM_DELNETCONF: "RTM_DELNETCONF",
}

// describe labels a message with its type, family and key fields.
func describe(m syscall.NetlinkMessage) string {
	h := m.Header
	name, ok := typeNames[h.Type]
	if !ok {
		name = fmt.Sprintf("type=%d", h.Type)
	}
	s := fmt.Sprintf("%s len=%d flags=%#x seq=%d pid=%d", name, h.Len, h.Flags, h.Seq, h.Pid)
	d := m.Data
	ne := binary.NativeEndian
	var attrs []byte
	switch h.Type {
	case unix.NLMSG_ERROR, unix.NLMSG_DONE:
		if len(d) >= 4 {
			s += fmt.Sprintf(" error=%d", int32(ne.Uint32(d)))
		}
		return s
	case unix.RTM_NEWLINK, unix.RTM_DELLINK:
		if len(d) < 16 {
			return s
		}
		s += fmt.Sprintf(" family=%d ifindex=%d ifflags=%#x change=%#x", d[0], int32(ne.Uint32(d[4:])), ne.Uint32(d[8:]), ne.Uint32(d[12:]))
		attrs = d[16:]
	case unix.RTM_NEWADDR, unix.RTM_DELADDR:
		if len(d) < 8 {
			return s
		}
		s += fmt.Sprintf(" family=%d prefixlen=%d ifaflags=%#x scope=%d ifindex=%d", d[0], d[1], d[2], d[3], ne.Uint32(d[4:]))
		attrs = d[8:]
	case unix.RTM_NEWROUTE, unix.RTM_DELROUTE, unix.RTM_NEWRULE, unix.RTM_DELRULE:
		if len(d) < 12 {
			return s
		}
		s += fmt.Sprintf(" family=%d dst_len=%d src_len=%d tos=%d table=%d proto=%d scope=%d type=%d rtflags=%#x", d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], ne.Uint32(d[8:]))
		attrs = d[12:]
	case unix.RTM_NEWNEIGH, unix.RTM_DELNEIGH:
		if len(d) < 12 {
			return s
		}
		s += fmt.Sprintf(" family=%d ifindex=%d state=%#x ntflags=%#x type=%d", d[0], int32(ne.Uint32(d[4:])), ne.Uint16(d[8:]), d[10], d[11])
		attrs = d[12:]
	case unix.RTM_NEWNETCONF, unix.RTM_DELNETCONF:
		if len(d) < 4 {
			return s
		}
		s += fmt.Sprintf(" family=%d", d[0])
		attrs = d[4:]
	}
	return s + keyAttrs(h.Type, attrs)
}

// keyAttrs prints a few identifying attributes (names, addresses, tables).
func keyAttrs(typ uint16, b []byte) string {
	s := ""
	for len(b) >= 4 {
		n := int(binary.NativeEndian.Uint16(b))
		t := binary.NativeEndian.Uint16(b[2:]) &^ (unix.NLA_F_NESTED | unix.NLA_F_NET_BYTEORDER)
		if n < 4 || n > len(b) {
			return s + " <bad attr>"
		}
		p := b[4:n]
		switch {
		case (typ == unix.RTM_NEWLINK || typ == unix.RTM_DELLINK) && t == unix.IFLA_IFNAME:
			s += fmt.Sprintf(" ifname=%s", cstr(p))
		case (typ == unix.RTM_NEWADDR || typ == unix.RTM_DELADDR) && (t == unix.IFA_ADDRESS || t == unix.IFA_LOCAL):
			s += fmt.Sprintf(" ifa%d=%s", t, ip(p))
		case (typ == unix.RTM_NEWROUTE || typ == unix.RTM_DELROUTE) && (t == unix.RTA_DST || t == unix.RTA_GATEWAY):
			s += fmt.Sprintf(" rta%d=%s", t, ip(p))
		case (typ == unix.RTM_NEWROUTE || typ == unix.RTM_DELROUTE) && t == unix.RTA_TABLE && len(p) == 4:
			s += fmt.Sprintf(" rta_table=%d", binary.NativeEndian.Uint32(p))
		case (typ == unix.RTM_NEWNEIGH || typ == unix.RTM_DELNEIGH) && t == unix.NDA_DST:
			s += fmt.Sprintf(" dst=%s", ip(p))
		}
		b = b[min((n+3)&^3, len(b)):]
	}
	return s
}

func cstr(p []byte) string {
	for i, c := range p {
		if c == 0 {
			return string(p[:i])
		}
	}
	return string(p)
}

func ip(p []byte) string {
	if a, ok := netip.AddrFromSlice(p); ok {
		return a.String()
	}
	return fmt.Sprintf("%x", p)
}
