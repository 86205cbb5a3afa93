package iproute

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

// `ip link ... type vlan` (iproute2's ip/iplink_vlan.c).
func init() {
	registerKind("vlan", &kindOps{parse: parseVLAN, print: printVLAN})
}

// VLAN_FLAG_* bits, in the order iproute2 names them.
var vlanFlagNames = []struct {
	bit  uint32
	name string
}{{0x1, "REORDER_HDR"}, {0x2, "GVRP"}, {0x8, "MVRP"}, {0x4, "LOOSE_BINDING"}, {0x10, "BRIDGE_BINDING"}}

const vlanUsage = `Usage: ... vlan id VLANID
		[ protocol VLANPROTO ]
		[ reorder_hdr { on | off } ]
		[ gvrp { on | off } ]
		[ mvrp { on | off } ]
		[ loose_binding { on | off } ]
		[ bridge_binding { on | off } ]
		[ ingress-qos-map QOS-MAP ]
		[ egress-qos-map QOS-MAP ]

VLANID := 0-4095
VLANPROTO: [ 802.1Q | 802.1ad ]
QOS-MAP := [ QOS-MAP ] QOS-MAPPING
QOS-MAPPING := FROM:TO`

// parseVLANProto is ll_proto_a2n for the two VLAN protocols (names match
// case-insensitively; numbers are taken as they are).
func parseVLANProto(s string) (uint16, bool) {
	switch strings.ToLower(s) {
	case "802.1q":
		return unix.ETH_P_8021Q, true
	case "802.1ad":
		return unix.ETH_P_8021AD, true
	}
	v, ok := parseU(s, 16)
	return uint16(v), ok
}

// vlanProtoName is ll_proto_n2a.
func vlanProtoName(p uint16) string {
	switch p {
	case unix.ETH_P_8021Q:
		return "802.1Q"
	case unix.ETH_P_8021AD:
		return "802.1ad"
	}
	return fmt.Sprintf("[%d]", p)
}

// parseQoSMap is parse_mapping: FROM:TO words until one has no colon.
func parseQoSMap(args []string) ([]rtmsg.VLANQoSMapping, int, bool) {
	var l []rtmsg.VLANQoSMapping
	i := 0
	for ; i < len(args); i++ {
		from, to, ok := strings.Cut(args[i], ":")
		if !ok {
			break
		}
		f, ok1 := parseU(from, 32)
		t, ok2 := parseU(to, 32)
		if !ok1 || !ok2 {
			return nil, i, false
		}
		l = append(l, rtmsg.VLANQoSMapping{From: uint32(f), To: uint32(t)})
	}
	return l, i, true
}

func parseVLAN(_ *session, args []string) ([]byte, error) {
	e := netlink.NewAttributeEncoder(nil)
	var flags, mask uint32
	onOff := func(word, v string, bit uint32) error {
		mask |= bit
		switch v {
		case "on":
			flags |= bit
		case "off":
			flags &^= bit
		default:
			return fail(exitFail, "Error: argument of \"%s\" must be \"on\" or \"off\", not \"%s\"", word, v)
		}
		return nil
	}
	for len(args) > 0 {
		a := args[0]
		if len(args) < 2 && !matches(a, "help") {
			return nil, incomplete()
		}
		var err error
		switch {
		case matches(a, "protocol"):
			p, ok := parseVLANProto(args[1])
			if !ok {
				return nil, invarg("protocol is invalid", args[1])
			}
			e.Uint16BE(unix.IFLA_VLAN_PROTOCOL, p)
		case matches(a, "id"):
			v, ok := parseU(args[1], 16)
			if !ok {
				return nil, invarg("id is invalid", args[1])
			}
			e.Uint16(unix.IFLA_VLAN_ID, uint16(v))
		case matches(a, "reorder_hdr"):
			err = onOff("reorder_hdr", args[1], 0x1)
		case matches(a, "gvrp"):
			err = onOff("gvrp", args[1], 0x2)
		case matches(a, "mvrp"):
			err = onOff("mvrp", args[1], 0x8)
		case matches(a, "loose_binding"):
			err = onOff("loose_binding", args[1], 0x4)
		case matches(a, "bridge_binding"):
			err = onOff("bridge_binding", args[1], 0x10)
		case matches(a, "ingress-qos-map"), matches(a, "egress-qos-map"):
			typ := uint16(unix.IFLA_VLAN_INGRESS_QOS)
			what := "invalid ingress-qos-map"
			if matches(a, "egress-qos-map") {
				typ, what = unix.IFLA_VLAN_EGRESS_QOS, "invalid egress-qos-map"
			}
			l, n, ok := parseQoSMap(args[1:])
			if !ok {
				return nil, invarg(what, args[1+n])
			}
			info := rtmsg.VLANInfo{Ingress: l, Egress: l, HasIngress: typ == unix.IFLA_VLAN_INGRESS_QOS, HasEgress: typ == unix.IFLA_VLAN_EGRESS_QOS}
			info.Encode(e)
			args = args[1+n:]
			continue
		case matches(a, "help"):
			return nil, fail(exitFail, "%s", vlanUsage)
		default:
			return nil, fail(exitFail, "vlan: unknown command \"%s\"?\n%s", a, vlanUsage)
		}
		if err != nil {
			return nil, err
		}
		args = args[2:]
	}
	if mask != 0 {
		var f [8]byte
		binary.NativeEndian.PutUint32(f[:], flags)
		binary.NativeEndian.PutUint32(f[4:], mask)
		e.PutBytes(unix.IFLA_VLAN_FLAGS, f[:])
	}
	return e.Bytes(), e.Err()
}

// printVLAN is vlan_print_opt.
func printVLAN(p *printer, data []byte) {
	v, err := rtmsg.DecodeVLAN(data)
	if err != nil || !v.HasID {
		return
	}
	proto := "802.1q"
	if v.HasProtocol {
		proto = vlanProtoName(v.Protocol)
	}
	p.str(anyOut, "protocol", "protocol %s ", proto)
	p.uint(anyOut, "id", "id %d ", uint64(v.ID))
	if v.HasFlags {
		p.openArray("flags")
		p.text("<")
		f := v.Flags
		for _, n := range vlanFlagNames {
			if f&n.bit == 0 {
				continue
			}
			f &^= n.bit
			format := "%s"
			if f != 0 {
				format = "%s,"
			}
			p.str(anyOut, "", format, n.name)
		}
		if f != 0 {
			p.str(anyOut, "", "%s", strconv.FormatUint(uint64(f), 16))
		}
		p.closeArray()
		p.text("> ")
	}
	printMap := func(key, name string, l []rtmsg.VLANQoSMapping) {
		p.openArray(key)
		p.text("\n      %s { ", name)
		for _, m := range l {
			p.openObject("")
			p.uint(jsonOnly, "from", "", uint64(m.From))
			p.uint(jsonOnly, "to", "", uint64(m.To))
			p.closeObject()
			p.text("%d:%d ", m.From, m.To)
		}
		p.closeArray()
		p.text("} ")
	}
	if v.HasIngress {
		printMap("ingress_qos", "ingress-qos-map", v.Ingress)
	}
	if v.HasEgress {
		printMap("egress_qos", "egress-qos-map", v.Egress)
	}
}
