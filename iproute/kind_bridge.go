package iproute

import (
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

// `ip link ... type bridge` and the bridge_slave options of its ports
// (iproute2's ip/iplink_bridge.c and ip/iplink_bridge_slave.c).
func init() {
	registerKind("bridge", &kindOps{parse: parseBridge, print: printBridge})
	registerKind("bridge_slave", &kindOps{parse: parseBridgeSlave, print: printBridgeSlave})
}

// brMatches is iproute2's matches(): arg is a non-empty prefix of word.
func brMatches(arg, word string) bool {
	return len(arg) > 0 && len(arg) <= len(word) && word[:len(arg)] == arg
}

// brOpt is one `type bridge` option: its word, attribute and width (0 for
// a MAC, 8|16|32|64 for numbers; 'p' the VLAN protocol).
type brOpt struct {
	word string
	attr uint16
	kind int
}

// bridgeOpts in iproute2's order of tests (which decides prefixes).
var bridgeOpts = []brOpt{
	{"forward_delay", unix.IFLA_BR_FORWARD_DELAY, 32},
	{"hello_time", unix.IFLA_BR_HELLO_TIME, 32},
	{"max_age", unix.IFLA_BR_MAX_AGE, 32},
	{"ageing_time", unix.IFLA_BR_AGEING_TIME, 32},
	{"stp_state", unix.IFLA_BR_STP_STATE, 32},
	{"priority", unix.IFLA_BR_PRIORITY, 16},
	{"vlan_filtering", unix.IFLA_BR_VLAN_FILTERING, 8},
	{"vlan_protocol", unix.IFLA_BR_VLAN_PROTOCOL, 'p'},
	{"group_fwd_mask", unix.IFLA_BR_GROUP_FWD_MASK, 16},
	{"group_address", unix.IFLA_BR_GROUP_ADDR, 0},
	{"fdb_flush", unix.IFLA_BR_FDB_FLUSH, -1},
	{"fdb_max_learned", unix.IFLA_BR_FDB_MAX_LEARNED, 32},
	{"vlan_default_pvid", unix.IFLA_BR_VLAN_DEFAULT_PVID, 16},
	{"vlan_stats_enabled", unix.IFLA_BR_VLAN_STATS_ENABLED, 8},
	{"vlan_stats_per_port", unix.IFLA_BR_VLAN_STATS_PER_PORT, 8},
	{"mcast_router", unix.IFLA_BR_MCAST_ROUTER, 8},
	{"mcast_snooping", unix.IFLA_BR_MCAST_SNOOPING, 8},
	{"mcast_query_use_ifaddr", unix.IFLA_BR_MCAST_QUERY_USE_IFADDR, 8},
	{"mcast_querier", unix.IFLA_BR_MCAST_QUERIER, 8},
	{"mcast_hash_elasticity", unix.IFLA_BR_MCAST_HASH_ELASTICITY, 32},
	{"mcast_hash_max", unix.IFLA_BR_MCAST_HASH_MAX, 32},
	{"mcast_last_member_count", unix.IFLA_BR_MCAST_LAST_MEMBER_CNT, 32},
	{"mcast_startup_query_count", unix.IFLA_BR_MCAST_STARTUP_QUERY_CNT, 32},
	{"mcast_last_member_interval", unix.IFLA_BR_MCAST_LAST_MEMBER_INTVL, 64},
	{"mcast_membership_interval", unix.IFLA_BR_MCAST_MEMBERSHIP_INTVL, 64},
	{"mcast_querier_interval", unix.IFLA_BR_MCAST_QUERIER_INTVL, 64},
	{"mcast_query_interval", unix.IFLA_BR_MCAST_QUERY_INTVL, 64},
	{"mcast_query_response_interval", unix.IFLA_BR_MCAST_QUERY_RESPONSE_INTVL, 64},
	{"mcast_startup_query_interval", unix.IFLA_BR_MCAST_STARTUP_QUERY_INTVL, 64},
	{"mcast_stats_enabled", unix.IFLA_BR_MCAST_STATS_ENABLED, 8},
	{"mcast_igmp_version", unix.IFLA_BR_MCAST_IGMP_VERSION, 8},
	{"mcast_mld_version", unix.IFLA_BR_MCAST_MLD_VERSION, 8},
	{"nf_call_iptables", unix.IFLA_BR_NF_CALL_IPTABLES, 8},
	{"nf_call_ip6tables", unix.IFLA_BR_NF_CALL_IP6TABLES, 8},
	{"nf_call_arptables", unix.IFLA_BR_NF_CALL_ARPTABLES, 8},
}

// Multi-boolopt bits (BR_BOOLOPT_*).
const (
	brBoolNoLinkLocalLearn  = 0
	brBoolMcastVlanSnooping = 1
)

func parseBridge(s *session, args []string) ([]byte, error) {
	e := netlink.NewAttributeEncoder(nil)
	var bm [2]uint32 // optval, optmask
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case brMatches(a, "no_linklocal_learn"), brMatches(a, "mcast_vlan_snooping"):
			bit := uint32(1) << brBoolNoLinkLocalLearn
			name := "no_linklocal_learn"
			if !brMatches(a, "no_linklocal_learn") {
				bit, name = 1<<brBoolMcastVlanSnooping, "mcast_vlan_snooping"
			}
			if i++; i >= len(args) {
				return nil, incomplete()
			}
			v, ok := parseU(args[i], 8)
			if !ok {
				return nil, invarg("invalid "+name, args[i])
			}
			bm[1] |= bit
			if v != 0 {
				bm[0] |= bit
			} else {
				bm[0] &^= bit
			}
			continue
		case a == "help":
			return nil, fail(exitUsage, "Usage: ... bridge [ forward_delay FORWARD_DELAY ] ...")
		}
		var opt *brOpt
		for j := range bridgeOpts {
			if brMatches(a, bridgeOpts[j].word) {
				opt = &bridgeOpts[j]
				break
			}
		}
		if opt == nil {
			return nil, fail(exitUsage, "bridge: unknown command \"%s\"?", a)
		}
		if opt.kind == -1 {
			e.Flag(opt.attr)
			continue
		}
		if i++; i >= len(args) {
			return nil, incomplete()
		}
		v := args[i]
		bad := func() error { return invarg("invalid "+opt.word, v) }
		switch opt.kind {
		case 0:
			mac, ok := parseMAC(v)
			if !ok {
				return nil, bad()
			}
			e.PutBytes(opt.attr, mac)
		case 'p':
			p, ok := parseVLANProto(v)
			if !ok {
				return nil, bad()
			}
			e.Uint16BE(opt.attr, p)
		default:
			n, ok := parseU(v, opt.kind)
			if !ok {
				return nil, bad()
			}
			switch opt.kind {
			case 8:
				e.Uint8(opt.attr, uint8(n))
			case 16:
				e.Uint16(opt.attr, uint16(n))
			case 32:
				e.Uint32(opt.attr, uint32(n))
			case 64:
				e.Uint64(opt.attr, n)
			}
		}
	}
	if bm[1] != 0 {
		var b [8]byte
		binary.NativeEndian.PutUint32(b[0:], bm[0])
		binary.NativeEndian.PutUint32(b[4:], bm[1])
		e.PutBytes(unix.IFLA_BR_MULTI_BOOLOPT, b[:])
	}
	return e.Bytes(), e.Err()
}

// brAttrs indexes a flat attribute payload by type.
type brAttrs map[uint16][]byte

func newBrAttrs(data []byte) brAttrs {
	m := brAttrs{}
	attrs, _ := rtmsg.ParseBridgeAttrs(data)
	for _, a := range attrs {
		m[a.Type&^(unix.NLA_F_NESTED|unix.NLA_F_NET_BYTEORDER)] = a.Data
	}
	return m
}

func (m brAttrs) u(t uint16) (uint64, bool) {
	b, ok := m[t]
	if !ok {
		return 0, false
	}
	ne := binary.NativeEndian
	switch len(b) {
	case 1:
		return uint64(b[0]), true
	case 2:
		return uint64(ne.Uint16(b)), true
	case 4:
		return uint64(ne.Uint32(b)), true
	case 8:
		return ne.Uint64(b), true
	}
	return 0, false
}

// printUint prints attribute t as a number if present.
func (m brAttrs) printUint(p *printer, t uint16, key, text string) {
	if v, ok := m.u(t); ok {
		p.uint(anyOut, key, text+" %d ", v)
	}
}

// printTimer prints a clock_t timer as iproute2 does ("%4i.%.2i" after
// the word in text; a number with two decimals in JSON).
func (m brAttrs) printTimer(p *printer, t uint16, key string) {
	v, ok := m.u(t)
	if !ok {
		return
	}
	s := fmt.Sprintf("%d.%02d", v/100, v%100)
	if p.json {
		p.jsonValue(key, s)
		return
	}
	p.text("%s %7s ", key, s)
}

func (m brAttrs) printID(p *printer, t uint16, key, text string) {
	b, ok := m[t]
	if !ok || len(b) < 8 {
		return
	}
	// br_dump_bridge_id: the priority in hex, then ether_ntoa's
	// unpadded hex bytes.
	id := fmt.Sprintf("%02x%02x.%x:%x:%x:%x:%x:%x", b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7])
	p.str(anyOut, key, text+" %s ", id)
}

func (m brAttrs) printOnOff(p *printer, t uint16, key, text string, mode mode) {
	v, ok := m.u(t)
	if !ok {
		return
	}
	if p.json {
		if mode != textOnly {
			p.jsonValue(key, strconv.FormatBool(v != 0))
		}
		return
	}
	if mode != jsonOnly {
		w := "off"
		if v != 0 {
			w = "on"
		}
		p.text("%s %s ", text, w)
	}
}

// printMask prints a 16-bit mask as C's "%#x" does (0 stays "0").
func (m brAttrs) printMask(p *printer, t uint16, key string) {
	v, ok := m.u(t)
	if !ok {
		return
	}
	s := "0"
	if v != 0 {
		s = fmt.Sprintf("%#x", v)
	}
	p.str(anyOut, key, key+" %s ", s)
}

// printBridge is bridge_print_opt of iproute2 6.1.
func printBridge(p *printer, data []byte) {
	m := newBrAttrs(data)
	m.printUint(p, unix.IFLA_BR_FORWARD_DELAY, "forward_delay", "forward_delay")
	m.printUint(p, unix.IFLA_BR_HELLO_TIME, "hello_time", "hello_time")
	m.printUint(p, unix.IFLA_BR_MAX_AGE, "max_age", "max_age")
	m.printUint(p, unix.IFLA_BR_AGEING_TIME, "ageing_time", "ageing_time")
	m.printUint(p, unix.IFLA_BR_STP_STATE, "stp_state", "stp_state")
	m.printUint(p, unix.IFLA_BR_PRIORITY, "priority", "priority")
	m.printUint(p, unix.IFLA_BR_VLAN_FILTERING, "vlan_filtering", "vlan_filtering")
	if b, ok := m[unix.IFLA_BR_VLAN_PROTOCOL]; ok && len(b) == 2 {
		p.str(anyOut, "vlan_protocol", "vlan_protocol %s ", vlanProtoName(binary.BigEndian.Uint16(b)))
	}
	m.printID(p, unix.IFLA_BR_BRIDGE_ID, "bridge_id", "bridge_id")
	// iproute2 6.1 prints IFLA_BR_BRIDGE_ID's value under root_id
	// (bridge_print_opt reads the wrong attribute); usnet ip does the
	// same so that its output matches. The true root is in the ports'
	// designated_root and in sysfs.
	if _, ok := m[unix.IFLA_BR_ROOT_ID]; ok {
		m.printID(p, unix.IFLA_BR_BRIDGE_ID, "root_id", "designated_root")
	}
	m.printUint(p, unix.IFLA_BR_ROOT_PORT, "root_port", "root_port")
	m.printUint(p, unix.IFLA_BR_ROOT_PATH_COST, "root_path_cost", "root_path_cost")
	m.printUint(p, unix.IFLA_BR_TOPOLOGY_CHANGE, "topology_change", "topology_change")
	m.printUint(p, unix.IFLA_BR_TOPOLOGY_CHANGE_DETECTED, "topology_change_detected", "topology_change_detected")
	m.printTimer(p, unix.IFLA_BR_HELLO_TIMER, "hello_timer")
	m.printTimer(p, unix.IFLA_BR_TCN_TIMER, "tcn_timer")
	m.printTimer(p, unix.IFLA_BR_TOPOLOGY_CHANGE_TIMER, "topology_change_timer")
	m.printTimer(p, unix.IFLA_BR_GC_TIMER, "gc_timer")
	m.printUint(p, unix.IFLA_BR_VLAN_DEFAULT_PVID, "vlan_default_pvid", "vlan_default_pvid")
	m.printUint(p, unix.IFLA_BR_VLAN_STATS_ENABLED, "vlan_stats_enabled", "vlan_stats_enabled")
	m.printUint(p, unix.IFLA_BR_VLAN_STATS_PER_PORT, "vlan_stats_per_port", "vlan_stats_per_port")
	m.printMask(p, unix.IFLA_BR_GROUP_FWD_MASK, "group_fwd_mask")
	if b, ok := m[unix.IFLA_BR_GROUP_ADDR]; ok {
		p.str(anyOut, "group_addr", "group_address %s ", formatMAC(b))
	}
	m.printUint(p, unix.IFLA_BR_MCAST_SNOOPING, "mcast_snooping", "mcast_snooping")
	if b, ok := m[unix.IFLA_BR_MULTI_BOOLOPT]; ok && len(b) == 8 {
		val, mask := binary.NativeEndian.Uint32(b[0:]), binary.NativeEndian.Uint32(b[4:])
		for _, o := range []struct {
			bit  uint
			name string
		}{{brBoolNoLinkLocalLearn, "no_linklocal_learn"}, {brBoolMcastVlanSnooping, "mcast_vlan_snooping"}} {
			if mask&(1<<o.bit) != 0 {
				p.uint(anyOut, o.name, o.name+" %d ", uint64(val>>o.bit&1))
			}
		}
	}
	m.printUint(p, unix.IFLA_BR_MCAST_ROUTER, "mcast_router", "mcast_router")
	m.printUint(p, unix.IFLA_BR_MCAST_QUERY_USE_IFADDR, "mcast_query_use_ifaddr", "mcast_query_use_ifaddr")
	m.printUint(p, unix.IFLA_BR_MCAST_QUERIER, "mcast_querier", "mcast_querier")
	m.printUint(p, unix.IFLA_BR_MCAST_HASH_ELASTICITY, "mcast_hash_elasticity", "mcast_hash_elasticity")
	m.printUint(p, unix.IFLA_BR_MCAST_HASH_MAX, "mcast_hash_max", "mcast_hash_max")
	m.printUint(p, unix.IFLA_BR_MCAST_LAST_MEMBER_CNT, "mcast_last_member_cnt", "mcast_last_member_count")
	m.printUint(p, unix.IFLA_BR_MCAST_STARTUP_QUERY_CNT, "mcast_startup_query_cnt", "mcast_startup_query_count")
	m.printUint(p, unix.IFLA_BR_MCAST_LAST_MEMBER_INTVL, "mcast_last_member_intvl", "mcast_last_member_interval")
	m.printUint(p, unix.IFLA_BR_MCAST_MEMBERSHIP_INTVL, "mcast_membership_intvl", "mcast_membership_interval")
	m.printUint(p, unix.IFLA_BR_MCAST_QUERIER_INTVL, "mcast_querier_intvl", "mcast_querier_interval")
	m.printUint(p, unix.IFLA_BR_MCAST_QUERY_INTVL, "mcast_query_intvl", "mcast_query_interval")
	m.printUint(p, unix.IFLA_BR_MCAST_QUERY_RESPONSE_INTVL, "mcast_query_response_intvl", "mcast_query_response_interval")
	m.printUint(p, unix.IFLA_BR_MCAST_STARTUP_QUERY_INTVL, "mcast_startup_query_intvl", "mcast_startup_query_interval")
	m.printUint(p, unix.IFLA_BR_MCAST_STATS_ENABLED, "mcast_stats_enabled", "mcast_stats_enabled")
	m.printUint(p, unix.IFLA_BR_MCAST_IGMP_VERSION, "mcast_igmp_version", "mcast_igmp_version")
	m.printUint(p, unix.IFLA_BR_MCAST_MLD_VERSION, "mcast_mld_version", "mcast_mld_version")
	m.printUint(p, unix.IFLA_BR_NF_CALL_IPTABLES, "nf_call_iptables", "nf_call_iptables")
	m.printUint(p, unix.IFLA_BR_NF_CALL_IP6TABLES, "nf_call_ip6tables", "nf_call_ip6tables")
	m.printUint(p, unix.IFLA_BR_NF_CALL_ARPTABLES, "nf_call_arptables", "nf_call_arptables")
}

// brPortStates are the names of port states (BR_STATE_*).
var brPortStates = []string{"disabled", "listening", "learning", "forwarding", "blocking"}

// brSlaveOnOff are the on/off options of bridge_slave.
var brSlaveOnOff = []struct {
	word string
	attr uint16
}{
	{"guard", unix.IFLA_BRPORT_GUARD},
	{"hairpin", unix.IFLA_BRPORT_MODE},
	{"fastleave", unix.IFLA_BRPORT_FAST_LEAVE},
	{"root_block", unix.IFLA_BRPORT_PROTECT},
	{"learning", unix.IFLA_BRPORT_LEARNING},
	{"flood", unix.IFLA_BRPORT_UNICAST_FLOOD},
	{"mcast_flood", unix.IFLA_BRPORT_MCAST_FLOOD},
	{"bcast_flood", unix.IFLA_BRPORT_BCAST_FLOOD},
	{"mcast_to_unicast", unix.IFLA_BRPORT_MCAST_TO_UCAST},
	{"proxy_arp", unix.IFLA_BRPORT_PROXYARP},
	{"proxy_arp_wifi", unix.IFLA_BRPORT_PROXYARP_WIFI},
	{"neigh_suppress", unix.IFLA_BRPORT_NEIGH_SUPPRESS},
	{"vlan_tunnel", unix.IFLA_BRPORT_VLAN_TUNNEL},
	{"isolated", unix.IFLA_BRPORT_ISOLATED},
	{"locked", unix.IFLA_BRPORT_LOCKED},
	{"mab", unix.IFLA_BRPORT_MAB},
}

func parseBridgeSlave(s *session, args []string) ([]byte, error) {
	e := netlink.NewAttributeEncoder(nil)
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() (string, error) {
			if i++; i >= len(args) {
				return "", incomplete()
			}
			return args[i], nil
		}
		if a == "fdb_flush" {
			e.Flag(unix.IFLA_BRPORT_FLUSH)
			continue
		}
		done := false
		for _, o := range brSlaveOnOff {
			if a != o.word {
				continue
			}
			v, err := next()
			if err != nil {
				return nil, err
			}
			switch v {
			case "on":
				e.Uint8(o.attr, 1)
			case "off":
				e.Uint8(o.attr, 0)
			default:
				return nil, fail(exitUsage, "Error: argument of \"%s\" must be \"on\" or \"off\"", o.word)
			}
			done = true
			break
		}
		if done {
			continue
		}
		switch a {
		case "state":
			v, err := next()
			if err != nil {
				return nil, err
			}
			st, ok := -1, false
			for k, n := range brPortStates {
				if v == n {
					st, ok = k, true
				}
			}
			if !ok {
				n, ok2 := parseU(v, 8)
				if !ok2 {
					return nil, invarg("state is invalid", v)
				}
				st = int(n)
			}
			e.Uint8(unix.IFLA_BRPORT_STATE, uint8(st))
		case "priority", "cost", "mcast_router", "group_fwd_mask":
			v, err := next()
			if err != nil {
				return nil, err
			}
			switch a {
			case "priority":
				n, ok := parseU(v, 16)
				if !ok {
					return nil, invarg("priority is invalid", v)
				}
				e.Uint16(unix.IFLA_BRPORT_PRIORITY, uint16(n))
			case "cost":
				n, ok := parseU(v, 32)
				if !ok {
					return nil, invarg("cost is invalid", v)
				}
				e.Uint32(unix.IFLA_BRPORT_COST, uint32(n))
			case "mcast_router":
				n, ok := parseU(v, 8)
				if !ok {
					return nil, invarg("invalid mcast_router", v)
				}
				e.Uint8(unix.IFLA_BRPORT_MULTICAST_ROUTER, uint8(n))
			default:
				n, ok := parseU(v, 16)
				if !ok {
					return nil, invarg("invalid group_fwd_mask", v)
				}
				e.Uint16(unix.IFLA_BRPORT_GROUP_FWD_MASK, uint16(n))
			}
		default:
			return nil, fail(exitUsage, "bridge_slave: unknown option \"%s\"?", a)
		}
	}
	return e.Bytes(), e.Err()
}

// printBridgeSlave is bridge_slave_print_opt of iproute2 6.1.
func printBridgeSlave(p *printer, data []byte) {
	m := newBrAttrs(data)
	if v, ok := m.u(unix.IFLA_BRPORT_STATE); ok {
		name := strconv.FormatUint(v, 10)
		if int(v) < len(brPortStates) {
			name = brPortStates[v]
		}
		p.str(anyOut, "state", "state %s ", name)
	}
	m.printUint(p, unix.IFLA_BRPORT_PRIORITY, "priority", "priority")
	m.printUint(p, unix.IFLA_BRPORT_COST, "cost", "cost")
	m.printOnOff(p, unix.IFLA_BRPORT_MODE, "hairpin", "hairpin", anyOut)
	m.printOnOff(p, unix.IFLA_BRPORT_GUARD, "guard", "guard", anyOut)
	m.printOnOff(p, unix.IFLA_BRPORT_PROTECT, "root_block", "root_block", anyOut)
	m.printOnOff(p, unix.IFLA_BRPORT_FAST_LEAVE, "fastleave", "fastleave", anyOut)
	m.printOnOff(p, unix.IFLA_BRPORT_LEARNING, "learning", "learning", anyOut)
	m.printOnOff(p, unix.IFLA_BRPORT_UNICAST_FLOOD, "flood", "flood", anyOut)
	if v, ok := m.u(unix.IFLA_BRPORT_ID); ok {
		p.str(anyOut, "id", "port_id %s ", fmt.Sprintf("%#x", v))
	}
	if v, ok := m.u(unix.IFLA_BRPORT_NO); ok {
		p.str(anyOut, "no", "port_no %s ", fmt.Sprintf("%#x", v))
	}
	m.printUint(p, unix.IFLA_BRPORT_DESIGNATED_PORT, "designated_port", "designated_port")
	m.printUint(p, unix.IFLA_BRPORT_DESIGNATED_COST, "designated_cost", "designated_cost")
	m.printID(p, unix.IFLA_BRPORT_BRIDGE_ID, "bridge_id", "designated_bridge")
	m.printID(p, unix.IFLA_BRPORT_ROOT_ID, "root_id", "designated_root")
	m.printTimer(p, unix.IFLA_BRPORT_HOLD_TIMER, "hold_timer")
	m.printTimer(p, unix.IFLA_BRPORT_MESSAGE_AGE_TIMER, "message_age_timer")
	m.printTimer(p, unix.IFLA_BRPORT_FORWARD_DELAY_TIMER, "forward_delay_timer")
	m.printUint(p, unix.IFLA_BRPORT_TOPOLOGY_CHANGE_ACK, "topology_change_ack", "topology_change_ack")
	m.printUint(p, unix.IFLA_BRPORT_CONFIG_PENDING, "config_pending", "config_pending")
	m.printOnOff(p, unix.IFLA_BRPORT_PROXYARP, "proxy_arp", "proxy_arp", anyOut)
	m.printOnOff(p, unix.IFLA_BRPORT_PROXYARP_WIFI, "proxy_arp_wifi", "proxy_arp_wifi", anyOut)
	m.printUint(p, unix.IFLA_BRPORT_MULTICAST_ROUTER, "multicast_router", "mcast_router")
	m.printOnOff(p, unix.IFLA_BRPORT_FAST_LEAVE, "mcast_fast_leave", "mcast_fast_leave", textOnly)
	m.printOnOff(p, unix.IFLA_BRPORT_MCAST_FLOOD, "mcast_flood", "mcast_flood", anyOut)
	m.printOnOff(p, unix.IFLA_BRPORT_BCAST_FLOOD, "bcast_flood", "bcast_flood", anyOut)
	m.printOnOff(p, unix.IFLA_BRPORT_MCAST_TO_UCAST, "mcast_to_unicast", "mcast_to_unicast", anyOut)
	m.printOnOff(p, unix.IFLA_BRPORT_NEIGH_SUPPRESS, "neigh_suppress", "neigh_suppress", anyOut)
	if v, ok := m.u(unix.IFLA_BRPORT_GROUP_FWD_MASK); ok {
		m.printMask(p, unix.IFLA_BRPORT_GROUP_FWD_MASK, "group_fwd_mask")
		p.str(anyOut, "group_fwd_mask_str", "group_fwd_mask_str %s ", fmt.Sprintf("0x%x", v))
	}
	m.printOnOff(p, unix.IFLA_BRPORT_VLAN_TUNNEL, "vlan_tunnel", "vlan_tunnel", anyOut)
	m.printOnOff(p, unix.IFLA_BRPORT_ISOLATED, "isolated", "isolated", anyOut)
	m.printOnOff(p, unix.IFLA_BRPORT_LOCKED, "locked", "locked", anyOut)
}
