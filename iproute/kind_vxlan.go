package iproute

import (
	"fmt"
	"net/netip"
	"strconv"

	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

// `ip link ... type vxlan` (iproute2's ip/iplink_vxlan.c).
func init() {
	registerKind("vxlan", &kindOps{parse: parseVXLAN, print: printVXLAN})
}

const vxlanUsage = `Usage: ... vxlan id VNI
		[ { group | remote } IP_ADDRESS ]
		[ local ADDR ]
		[ ttl TTL ]
		[ tos TOS ]
		[ df DF ]
		[ flowlabel LABEL ]
		[ dev PHYS_DEV ]
		[ dstport PORT ]
		[ srcport MIN MAX ]
		[ [no]learning ]
		[ [no]proxy ]
		[ [no]rsc ]
		[ [no]l2miss ]
		[ [no]l3miss ]
		[ ageing SECONDS ]
		[ maxaddress NUMBER ]
		[ [no]udpcsum ]
		[ [no]udp6zerocsumtx ]
		[ [no]udp6zerocsumrx ]
		[ [no]remcsumtx ] [ [no]remcsumrx ]
		[ [no]external ] [ gbp ] [ gpe ]
		[ [no]vnifilter ]

Where:	VNI	:= 0-16777215
	ADDR	:= { IP_ADDRESS | any }
	TOS	:= { NUMBER | inherit }
	TTL	:= { 1..255 | auto | inherit }
	DF	:= { unset | set | inherit }
	LABEL := 0-1048575`

// parseVXLAN is vxlan_parse_opt. As iproute2 does, it tells `ip link add`
// from `ip link set … type vxlan` (set_op) by the request flags
// (s.linkCreate): a change needs no "id" and gets no default LEARNING and
// no dstport warning.
func parseVXLAN(s *session, args []string) ([]byte, error) {
	e := netlink.NewAttributeEncoder(nil)
	var attrs uint64
	dup := func(typ uint16, key, arg string) error {
		if attrs&(1<<typ) != 0 {
			return fail(exitUsage, "Error: duplicate \"%s\": \"%s\" is the second value.", key, arg)
		}
		attrs |= 1 << typ
		return nil
	}
	var vni uint32
	var local, remote netip.Addr
	learning := uint8(1)
	var dstport uint16
	metadata := false
	u8 := func(typ uint16, word string, v uint8) error {
		if err := dup(typ, word, word); err != nil {
			return err
		}
		e.Uint8(typ, v)
		return nil
	}
	for len(args) > 0 {
		a := args[0]
		next := func() (string, error) {
			if len(args) < 2 {
				return "", incomplete()
			}
			args = args[1:]
			return args[0], nil
		}
		var err error
		switch {
		case matches(a, "id"), matches(a, "vni"):
			var v string
			if v, err = next(); err == nil {
				if err = dup(unix.IFLA_VXLAN_ID, "id", v); err == nil {
					n, ok := parseU(v, 32)
					if !ok || n >= 1<<24 {
						return nil, invarg("invalid id", v)
					}
					vni = uint32(n)
				}
			}
		case matches(a, "group"), matches(a, "remote"):
			group := matches(a, "group")
			if remote.IsValid() && remote.IsMulticast() != group {
				return nil, fail(exitFail, "vxlan: both group and remote cannot be specified")
			}
			var v string
			if v, err = next(); err == nil {
				key := "remote"
				if group {
					key = "group"
				}
				if err = dup(unix.IFLA_VXLAN_GROUP, key, v); err == nil {
					ip, perr := netip.ParseAddr(v)
					if perr != nil {
						return nil, fail(exitFail, "Error: any valid prefix is expected rather than \"%s\".", v)
					}
					if group && !ip.IsMulticast() {
						return nil, invarg("invalid group address", v)
					}
					if !group && ip.IsMulticast() {
						return nil, invarg("invalid remote address", v)
					}
					remote = ip
				}
			}
		case matches(a, "local"):
			var v string
			if v, err = next(); err == nil {
				if err = dup(unix.IFLA_VXLAN_LOCAL, "local", v); err == nil && v != "any" {
					ip, perr := netip.ParseAddr(v)
					if perr != nil {
						return nil, fail(exitFail, "Error: any valid prefix is expected rather than \"%s\".", v)
					}
					if ip.IsMulticast() {
						return nil, invarg("invalid local address", v)
					}
					local = ip
				}
			}
		case matches(a, "dev"):
			var v string
			if v, err = next(); err == nil {
				if err = dup(unix.IFLA_VXLAN_LINK, "dev", v); err == nil {
					idx, ierr := s.ifindex(v)
					if ierr != nil || idx == 0 {
						return nil, fail(exitUsage, "Cannot find device \"%s\"", v)
					}
					e.Uint32(unix.IFLA_VXLAN_LINK, uint32(idx))
				}
			}
		case matches(a, "ttl"), matches(a, "hoplimit"):
			var v string
			if v, err = next(); err == nil {
				if err = dup(unix.IFLA_VXLAN_TTL, "ttl", v); err == nil {
					switch v {
					case "inherit":
						e.Flag(unix.IFLA_VXLAN_TTL_INHERIT)
					case "auto":
						e.Uint8(unix.IFLA_VXLAN_TTL, 0)
					default:
						n, ok := parseU(v, 32)
						if !ok {
							return nil, invarg("invalid TTL", v)
						}
						if n > 255 {
							return nil, invarg("TTL must be <= 255", v)
						}
						e.Uint8(unix.IFLA_VXLAN_TTL, uint8(n))
					}
				}
			}
		case matches(a, "tos"), matches(a, "dsfield"):
			var v string
			if v, err = next(); err == nil {
				if err = dup(unix.IFLA_VXLAN_TOS, "tos", v); err == nil {
					tos := uint8(1)
					if v != "inherit" {
						n, ok := parseDSField(v)
						if !ok {
							return nil, invarg("bad TOS value", v)
						}
						tos = n
					}
					e.Uint8(unix.IFLA_VXLAN_TOS, tos)
				}
			}
		case matches(a, "df"):
			var v string
			if v, err = next(); err == nil {
				if err = dup(unix.IFLA_VXLAN_DF, "df", v); err == nil {
					var df uint8
					switch v {
					case "unset":
					case "set":
						df = 1
					case "inherit":
						df = 2
					default:
						return nil, invarg("DF must be 'unset', 'set' or 'inherit'", v)
					}
					e.Uint8(unix.IFLA_VXLAN_DF, df)
				}
			}
		case matches(a, "label"), matches(a, "flowlabel"):
			var v string
			if v, err = next(); err == nil {
				if err = dup(unix.IFLA_VXLAN_LABEL, "flowlabel", v); err == nil {
					n, ok := parseU(v, 32)
					if !ok || n&^0xfffff != 0 {
						return nil, invarg("invalid flowlabel", v)
					}
					var b [4]byte
					b[0], b[1], b[2], b[3] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
					e.PutBytes(unix.IFLA_VXLAN_LABEL, b[:])
				}
			}
		case matches(a, "ageing"):
			var v string
			if v, err = next(); err == nil {
				if err = dup(unix.IFLA_VXLAN_AGEING, "ageing", v); err == nil {
					var age uint64
					if v != "none" {
						var ok bool
						if age, ok = parseU(v, 32); !ok {
							return nil, invarg("ageing timer", v)
						}
					}
					e.Uint32(unix.IFLA_VXLAN_AGEING, uint32(age))
				}
			}
		case matches(a, "maxaddress"):
			var v string
			if v, err = next(); err == nil {
				if err = dup(unix.IFLA_VXLAN_LIMIT, "maxaddress", v); err == nil {
					var n uint64
					if v != "unlimited" {
						var ok bool
						if n, ok = parseU(v, 32); !ok {
							return nil, invarg("max addresses", v)
						}
					}
					e.Uint32(unix.IFLA_VXLAN_LIMIT, uint32(n))
				}
			}
		case matches(a, "port"), matches(a, "srcport"):
			var lo, hi string
			if lo, err = next(); err == nil {
				if err = dup(unix.IFLA_VXLAN_PORT_RANGE, "srcport", lo); err == nil {
					l, ok := parseU(lo, 16)
					if !ok {
						return nil, invarg("min port", lo)
					}
					if hi, err = next(); err == nil {
						h, ok := parseU(hi, 16)
						if !ok {
							return nil, invarg("max port", hi)
						}
						if l != 0 || h != 0 {
							e.PutBytes(unix.IFLA_VXLAN_PORT_RANGE, []byte{byte(l >> 8), byte(l), byte(h >> 8), byte(h)})
						}
					}
				}
			}
		case matches(a, "dstport"):
			var v string
			if v, err = next(); err == nil {
				if err = dup(unix.IFLA_VXLAN_PORT, "dstport", v); err == nil {
					n, ok := parseU(v, 16)
					if !ok {
						return nil, invarg("dst port", v)
					}
					dstport = uint16(n)
				}
			}
		case matches(a, "nolearning"):
			err = dup(unix.IFLA_VXLAN_LEARNING, a, a)
			learning = 0
		case matches(a, "learning"):
			err = dup(unix.IFLA_VXLAN_LEARNING, a, a)
			learning = 1
		case matches(a, "noproxy"):
			err = u8(unix.IFLA_VXLAN_PROXY, a, 0)
		case matches(a, "proxy"):
			err = u8(unix.IFLA_VXLAN_PROXY, a, 1)
		case matches(a, "norsc"):
			err = u8(unix.IFLA_VXLAN_RSC, a, 0)
		case matches(a, "rsc"):
			err = u8(unix.IFLA_VXLAN_RSC, a, 1)
		case matches(a, "nol2miss"):
			err = u8(unix.IFLA_VXLAN_L2MISS, a, 0)
		case matches(a, "l2miss"):
			err = u8(unix.IFLA_VXLAN_L2MISS, a, 1)
		case matches(a, "nol3miss"):
			err = u8(unix.IFLA_VXLAN_L3MISS, a, 0)
		case matches(a, "l3miss"):
			err = u8(unix.IFLA_VXLAN_L3MISS, a, 1)
		case matches(a, "udpcsum"):
			err = u8(unix.IFLA_VXLAN_UDP_CSUM, a, 1)
		case matches(a, "noudpcsum"):
			err = u8(unix.IFLA_VXLAN_UDP_CSUM, a, 0)
		case matches(a, "udp6zerocsumtx"):
			err = u8(unix.IFLA_VXLAN_UDP_ZERO_CSUM6_TX, a, 1)
		case matches(a, "noudp6zerocsumtx"):
			err = u8(unix.IFLA_VXLAN_UDP_ZERO_CSUM6_TX, a, 0)
		case matches(a, "udp6zerocsumrx"):
			err = u8(unix.IFLA_VXLAN_UDP_ZERO_CSUM6_RX, a, 1)
		case matches(a, "noudp6zerocsumrx"):
			err = u8(unix.IFLA_VXLAN_UDP_ZERO_CSUM6_RX, a, 0)
		case matches(a, "remcsumtx"):
			err = u8(unix.IFLA_VXLAN_REMCSUM_TX, a, 1)
		case matches(a, "noremcsumtx"):
			err = u8(unix.IFLA_VXLAN_REMCSUM_TX, a, 0)
		case matches(a, "remcsumrx"):
			err = u8(unix.IFLA_VXLAN_REMCSUM_RX, a, 1)
		case matches(a, "noremcsumrx"):
			err = u8(unix.IFLA_VXLAN_REMCSUM_RX, a, 0)
		case matches(a, "external"):
			if err = u8(unix.IFLA_VXLAN_COLLECT_METADATA, a, 1); err == nil {
				metadata, learning = true, 0
			}
		case matches(a, "noexternal"):
			err = u8(unix.IFLA_VXLAN_COLLECT_METADATA, a, 0)
			metadata = false
		case matches(a, "vnifilter"):
			err = u8(unix.IFLA_VXLAN_VNIFILTER, a, 1)
		case matches(a, "novnifilter"):
			err = u8(unix.IFLA_VXLAN_VNIFILTER, a, 0)
		case matches(a, "gbp"):
			if err = dup(unix.IFLA_VXLAN_GBP, a, a); err == nil {
				e.Flag(unix.IFLA_VXLAN_GBP)
			}
		case matches(a, "gpe"):
			if err = dup(unix.IFLA_VXLAN_GPE, a, a); err == nil {
				e.Flag(unix.IFLA_VXLAN_GPE)
			}
		case matches(a, "help"):
			return nil, fail(exitUsage, "%s", vxlanUsage)
		default:
			return nil, fail(exitFail, "vxlan: unknown command \"%s\"?\n%s", a, vxlanUsage)
		}
		if err != nil {
			return nil, err
		}
		args = args[1:]
	}
	setOp := !s.linkCreate
	if !setOp && attrs&(1<<unix.IFLA_VXLAN_ID) == 0 && !metadata {
		return nil, fail(exitFail, "vxlan: missing virtual network identifier")
	}
	if metadata && attrs&(1<<unix.IFLA_VXLAN_ID) != 0 {
		return nil, fail(exitFail, "vxlan: both 'external' and vni cannot be specified")
	}
	if remote.IsValid() && remote.IsMulticast() && attrs&(1<<unix.IFLA_VXLAN_LINK) == 0 {
		return nil, fail(exitFail, "vxlan: 'group' requires 'dev' to be specified")
	}
	if attrs&(1<<unix.IFLA_VXLAN_PORT) == 0 && attrs&(1<<unix.IFLA_VXLAN_GPE) != 0 {
		dstport = 4790
	} else if attrs&(1<<unix.IFLA_VXLAN_PORT) == 0 && !setOp {
		fmt.Fprint(s.opt.Stderr, "vxlan: destination port not specified\n"+
			"Will use Linux kernel default (non-standard value)\n"+
			"Use 'dstport 4789' to get the IANA assigned value\n"+
			"Use 'dstport 0' to get default and quiet this message\n")
	}
	if attrs&(1<<unix.IFLA_VXLAN_ID) != 0 {
		e.Uint32(unix.IFLA_VXLAN_ID, vni)
	}
	if local.IsValid() {
		b := local.As4()
		e.PutBytes(unix.IFLA_VXLAN_LOCAL, b[:])
	}
	if remote.IsValid() {
		b := remote.As4()
		e.PutBytes(unix.IFLA_VXLAN_GROUP, b[:])
	}
	if !setOp || attrs&(1<<unix.IFLA_VXLAN_LEARNING) != 0 {
		e.Uint8(unix.IFLA_VXLAN_LEARNING, learning)
	}
	if dstport != 0 {
		e.Uint16BE(unix.IFLA_VXLAN_PORT, dstport)
	}
	return e.Bytes(), e.Err()
}

// parseDSField is rtnl_dsfield_a2n: a number (hex with or without 0x)
// or a name from rt_dsfield.
func parseDSField(s string) (uint8, bool) {
	if n, err := strconv.ParseUint(s, 16, 8); err == nil {
		return uint8(n), true
	}
	if n, ok := parseU(s, 8); ok {
		return uint8(n), true
	}
	return 0, false
}

// printVXLAN is vxlan_print_opt (iproute2 6.1).
func printVXLAN(p *printer, data []byte) {
	v, err := rtmsg.DecodeVXLAN(data)
	if err != nil {
		return
	}
	has := v.Present
	if has(unix.IFLA_VXLAN_COLLECT_METADATA) && v.CollectMeta != 0 {
		p.flag(anyOut, "external", "external ")
		return
	}
	if !has(unix.IFLA_VXLAN_ID) {
		return
	}
	p.uint(anyOut, "id", "id %d ", uint64(v.ID))
	if has(unix.IFLA_VXLAN_GROUP) && v.Group.IsValid() && !v.Group.IsUnspecified() {
		if v.Group.IsMulticast() {
			p.str(anyOut, "group", "group %s ", v.Group.String())
		} else {
			p.str(anyOut, "remote", "remote %s ", v.Group.String())
		}
	} else if has(unix.IFLA_VXLAN_GROUP6) && !v.Group.IsUnspecified() {
		if v.Group.IsMulticast() {
			p.str(anyOut, "group6", "group %s ", v.Group.String())
		} else {
			p.str(anyOut, "remote6", "remote %s ", v.Group.String())
		}
	}
	if has(unix.IFLA_VXLAN_LOCAL) && !v.Local.IsUnspecified() {
		p.str(anyOut, "local", "local %s ", v.Local.String())
	} else if has(unix.IFLA_VXLAN_LOCAL6) && !v.Local.IsUnspecified() {
		p.str(anyOut, "local6", "local %s ", v.Local.String())
	}
	if has(unix.IFLA_VXLAN_LINK) && v.Link != 0 {
		// kindOps.print gets no link cache: the name falls back to
		// what ll_index_to_name prints for an unknown index.
		name := fmt.Sprintf("if%d", v.Link)
		if p.ifname != nil {
			name = p.ifname(int32(v.Link))
		}
		p.str(anyOut, "link", "dev %s ", name)
	}
	if has(unix.IFLA_VXLAN_PORT_RANGE) {
		if p.json {
			p.openObject("port_range")
			p.uint(jsonOnly, "low", "", uint64(v.PortLow))
			p.uint(jsonOnly, "high", "", uint64(v.PortHigh))
			p.closeObject()
		} else {
			p.text("srcport %d %d ", v.PortLow, v.PortHigh)
		}
	}
	if has(unix.IFLA_VXLAN_PORT) {
		p.uint(anyOut, "port", "dstport %d ", uint64(v.Port))
	}
	if has(unix.IFLA_VXLAN_LEARNING) {
		if p.json {
			p.jsonValue("learning", strconv.FormatBool(v.Learning != 0))
		} else if v.Learning == 0 {
			p.text("nolearning ")
		}
	}
	for _, f := range []struct {
		typ       uint16
		val       uint8
		key, text string
	}{
		{unix.IFLA_VXLAN_PROXY, v.Proxy, "proxy", "proxy "},
		{unix.IFLA_VXLAN_RSC, v.RSC, "rsc", "rsc "},
		{unix.IFLA_VXLAN_L2MISS, v.L2Miss, "l2miss", "l2miss "},
		{unix.IFLA_VXLAN_L3MISS, v.L3Miss, "l3miss", "l3miss "},
	} {
		if has(f.typ) && f.val != 0 {
			p.flag(anyOut, f.key, f.text)
		}
	}
	if v.TOS != 0 {
		if p.json || v.TOS != 1 {
			p.str(anyOut, "tos", "tos %s ", fmt.Sprintf("%#x", v.TOS))
		} else {
			p.text("tos inherit ")
		}
	}
	if has(unix.IFLA_VXLAN_TTL_INHERIT) && v.TTLInherit != 0 {
		p.text("ttl inherit ")
	} else if has(unix.IFLA_VXLAN_TTL) {
		if p.json || v.TTL != 0 {
			p.uint(anyOut, "ttl", "ttl %d ", uint64(v.TTL))
		} else {
			p.text("ttl auto ")
		}
	}
	if has(unix.IFLA_VXLAN_DF) {
		switch v.DF {
		case 0:
			p.str(jsonOnly, "df", "df %s ", "unset")
		case 1:
			p.str(anyOut, "df", "df %s ", "set")
		case 2:
			p.str(anyOut, "df", "df %s ", "inherit")
		}
	}
	if has(unix.IFLA_VXLAN_LABEL) && v.Label != 0 {
		p.str(anyOut, "label", "flowlabel %s ", fmt.Sprintf("%#x", v.Label))
	}
	if has(unix.IFLA_VXLAN_AGEING) {
		if v.Ageing == 0 {
			p.uint(anyOut, "ageing", "ageing none ", 0)
		} else {
			p.uint(anyOut, "ageing", "ageing %d ", uint64(v.Ageing))
		}
	}
	if has(unix.IFLA_VXLAN_LIMIT) && v.Limit != 0 {
		p.uint(anyOut, "limit", "maxaddr %d ", uint64(v.Limit))
	}
	for _, f := range []struct {
		typ       uint16
		val       uint8
		key, text string
	}{
		{unix.IFLA_VXLAN_UDP_CSUM, v.UDPCsum, "udp_csum", "udpcsum "},
		{unix.IFLA_VXLAN_UDP_ZERO_CSUM6_TX, v.UDPZeroCsum6Tx, "udp_zero_csum6_tx", "udp6zerocsumtx "},
		{unix.IFLA_VXLAN_UDP_ZERO_CSUM6_RX, v.UDPZeroCsum6Rx, "udp_zero_csum6_rx", "udp6zerocsumrx "},
	} {
		if !has(f.typ) {
			continue
		}
		if p.json {
			p.jsonValue(f.key, strconv.FormatBool(f.val != 0))
		} else {
			if f.val == 0 {
				p.text("no")
			}
			p.text("%s", f.text)
		}
	}
	if has(unix.IFLA_VXLAN_REMCSUM_TX) && v.RemCsumTx != 0 {
		p.flag(anyOut, "remcsum_tx", "remcsumtx ")
	}
	if has(unix.IFLA_VXLAN_REMCSUM_RX) && v.RemCsumRx != 0 {
		p.flag(anyOut, "remcsum_rx", "remcsumrx ")
	}
	if has(unix.IFLA_VXLAN_GBP) {
		p.flag(anyOut, "gbp", "gbp ")
	}
	if has(unix.IFLA_VXLAN_GPE) {
		p.flag(anyOut, "gpe", "gpe ")
	}
}
