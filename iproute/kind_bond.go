package iproute

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

// `ip link ... type bond` and `type bond_slave`, as iproute2's
// ip/iplink_bond.c and ip/iplink_bond_slave.c parse and print them.
func init() {
	registerKind("bond", &kindOps{parse: parseBond, print: printBond})
	registerKind("bond_slave", &kindOps{parse: parseBondSlave, print: printBondSlave})
}

var (
	bondModeTbl            = []string{"balance-rr", "active-backup", "balance-xor", "broadcast", "802.3ad", "balance-tlb", "balance-alb"}
	bondARPValidateTbl     = []string{"none", "active", "backup", "all", "filter", "filter_active", "filter_backup"}
	bondARPAllTargetsTbl   = []string{"any", "all"}
	bondPrimaryReselectTbl = []string{"always", "better", "failure"}
	bondFailOverMACTbl     = []string{"none", "active", "follow"}
	bondXmitHashTbl        = []string{"layer2", "layer3+4", "layer2+3", "encap2+3", "encap3+4", "vlan+srcmac"}
	bondLACPActiveTbl      = []string{"off", "on"}
	bondLACPRateTbl        = []string{"slow", "fast"}
	bondADSelectTbl        = []string{"stable", "bandwidth", "count"}
)

// bondName is get_name: the table entry or "UNKNOWN".
func bondName(tbl []string, i uint32) string {
	if int(i) < len(tbl) {
		return tbl[i]
	}
	return "UNKNOWN"
}

// bondIndex is get_index: a number within the table, or a name.
func bondIndex(tbl []string, s string) int {
	if n, err := strconv.ParseInt(s, 10, 32); err == nil {
		if n >= 0 && int(n) < len(tbl) {
			return int(n)
		}
	}
	for i, w := range tbl {
		if w == s {
			return i
		}
	}
	return -1
}

const bondUsage = `Usage: ... bond [ mode BONDMODE ] [ active_slave SLAVE_DEV ]
                [ clear_active_slave ] [ miimon MIIMON ]
                [ updelay UPDELAY ] [ downdelay DOWNDELAY ]
                [ peer_notify_delay DELAY ]
                [ use_carrier USE_CARRIER ]
                [ arp_interval ARP_INTERVAL ]
                [ arp_validate ARP_VALIDATE ]
                [ arp_all_targets ARP_ALL_TARGETS ]
                [ arp_ip_target [ ARP_IP_TARGET, ... ] ]
                [ ns_ip6_target [ NS_IP6_TARGET, ... ] ]
                [ primary SLAVE_DEV ]
                [ primary_reselect PRIMARY_RESELECT ]
                [ fail_over_mac FAIL_OVER_MAC ]
                [ xmit_hash_policy XMIT_HASH_POLICY ]
                [ resend_igmp RESEND_IGMP ]
                [ num_grat_arp|num_unsol_na NUM_GRAT_ARP|NUM_UNSOL_NA ]
                [ all_slaves_active ALL_SLAVES_ACTIVE ]
                [ min_links MIN_LINKS ]
                [ lp_interval LP_INTERVAL ]
                [ packets_per_slave PACKETS_PER_SLAVE ]
                [ tlb_dynamic_lb TLB_DYNAMIC_LB ]
                [ lacp_rate LACP_RATE ]
                [ lacp_active LACP_ACTIVE]
                [ ad_select AD_SELECT ]
                [ ad_user_port_key PORTKEY ]
                [ ad_actor_sys_prio SYSPRIO ]
                [ ad_actor_system LLADDR ]
                [ arp_missed_max MISSED_MAX ]

BONDMODE := balance-rr|active-backup|balance-xor|broadcast|802.3ad|balance-tlb|balance-alb
ARP_VALIDATE := none|active|backup|all|filter|filter_active|filter_backup
ARP_ALL_TARGETS := any|all
PRIMARY_RESELECT := always|better|failure
FAIL_OVER_MAC := none|active|follow
XMIT_HASH_POLICY := layer2|layer2+3|layer3+4|encap2+3|encap3+4|vlan+srcmac
LACP_ACTIVE := off|on
LACP_RATE := slow|fast
AD_SELECT := stable|bandwidth|count`

// parseBond is bond_parse_opt.
func parseBond(s *session, args []string) ([]byte, error) {
	var m rtmsg.Bond
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() (string, error) {
			if i+1 >= len(args) {
				return "", incomplete()
			}
			i++
			return args[i], nil
		}
		num := func(name string, bits int, set func(uint64)) error {
			v, err := next()
			if err != nil {
				return err
			}
			n, ok := parseU(v, bits)
			if !ok {
				return invarg("invalid "+name, v)
			}
			set(n)
			return nil
		}
		tbl := func(name string, t []string, set func(int)) error {
			v, err := next()
			if err != nil {
				return err
			}
			k := bondIndex(t, v)
			if k < 0 {
				return invarg("invalid "+name, v)
			}
			set(k)
			return nil
		}
		dev := func(set func(uint32)) error {
			v, err := next()
			if err != nil {
				return err
			}
			idx, err := s.ifindex(v)
			if err != nil {
				return err
			}
			if idx == 0 {
				return fail(exitUsage, "Cannot find device \"%s\"", v)
			}
			set(uint32(idx))
			return nil
		}
		var err error
		switch {
		case matches(a, "mode"):
			err = tbl("mode", bondModeTbl, func(k int) { m.Mode = uint8(k); m.Set(unix.IFLA_BOND_MODE) })
		case matches(a, "active_slave"):
			err = dev(func(x uint32) { m.ActiveSlave = x; m.Set(unix.IFLA_BOND_ACTIVE_SLAVE) })
		case matches(a, "clear_active_slave"):
			m.ActiveSlave = 0
			m.Set(unix.IFLA_BOND_ACTIVE_SLAVE)
		case matches(a, "miimon"):
			err = num("miimon", 32, func(v uint64) { m.Miimon = uint32(v); m.Set(unix.IFLA_BOND_MIIMON) })
		case matches(a, "updelay"):
			err = num("updelay", 32, func(v uint64) { m.UpDelay = uint32(v); m.Set(unix.IFLA_BOND_UPDELAY) })
		case matches(a, "downdelay"):
			err = num("downdelay", 32, func(v uint64) { m.DownDelay = uint32(v); m.Set(unix.IFLA_BOND_DOWNDELAY) })
		case matches(a, "peer_notify_delay"):
			err = num("peer_notify_delay", 32, func(v uint64) { m.PeerNotifDelay = uint32(v); m.Set(unix.IFLA_BOND_PEER_NOTIF_DELAY) })
		case matches(a, "use_carrier"):
			err = num("use_carrier", 8, func(v uint64) { m.UseCarrier = uint8(v); m.Set(unix.IFLA_BOND_USE_CARRIER) })
		case matches(a, "arp_interval"):
			err = num("arp_interval", 32, func(v uint64) { m.ARPInterval = uint32(v); m.Set(unix.IFLA_BOND_ARP_INTERVAL) })
		case matches(a, "arp_ip_target"):
			m.Set(unix.IFLA_BOND_ARP_IP_TARGET)
			if i+1 < len(args) {
				i++
				for k, t := range strings.Split(args[i], ",") {
					if t == "" || k >= rtmsg.BondMaxTargets {
						continue
					}
					ip, perr := netip.ParseAddr(t)
					if perr != nil || !ip.Is4() {
						return nil, fail(exitUsage, "Error: an IP address is expected rather than \"%s\".", t)
					}
					m.ARPIPTargets = append(m.ARPIPTargets, ip)
				}
			}
		case a == "ns_ip6_target":
			m.Set(unix.IFLA_BOND_NS_IP6_TARGET)
			if i+1 < len(args) {
				i++
				for k, t := range strings.Split(args[i], ",") {
					if t == "" || k >= rtmsg.BondMaxTargets {
						continue
					}
					ip, perr := netip.ParseAddr(t)
					if perr != nil || !ip.Is6() {
						return nil, fail(exitUsage, "Error: inet6 address is expected rather than \"%s\".", t)
					}
					m.NSIP6Targets = append(m.NSIP6Targets, ip)
				}
			}
		case matches(a, "arp_validate"):
			err = tbl("arp_validate", bondARPValidateTbl, func(k int) { m.ARPValidate = uint32(k); m.Set(unix.IFLA_BOND_ARP_VALIDATE) })
		case matches(a, "arp_all_targets"):
			err = tbl("arp_all_targets", bondARPAllTargetsTbl, func(k int) { m.ARPAllTargets = uint32(k); m.Set(unix.IFLA_BOND_ARP_ALL_TARGETS) })
		case a == "arp_missed_max":
			err = num("arp_missed_max", 8, func(v uint64) { m.MissedMax = uint8(v); m.Set(unix.IFLA_BOND_MISSED_MAX) })
		case matches(a, "primary"):
			err = dev(func(x uint32) { m.Primary = x; m.Set(unix.IFLA_BOND_PRIMARY) })
		case matches(a, "primary_reselect"):
			err = tbl("primary_reselect", bondPrimaryReselectTbl, func(k int) { m.PrimaryReselect = uint8(k); m.Set(unix.IFLA_BOND_PRIMARY_RESELECT) })
		case matches(a, "fail_over_mac"):
			err = tbl("fail_over_mac", bondFailOverMACTbl, func(k int) { m.FailOverMAC = uint8(k); m.Set(unix.IFLA_BOND_FAIL_OVER_MAC) })
		case matches(a, "xmit_hash_policy"):
			err = tbl("xmit_hash_policy", bondXmitHashTbl, func(k int) { m.XmitHashPolicy = uint8(k); m.Set(unix.IFLA_BOND_XMIT_HASH_POLICY) })
		case matches(a, "resend_igmp"):
			err = num("resend_igmp", 32, func(v uint64) { m.ResendIGMP = uint32(v); m.Set(unix.IFLA_BOND_RESEND_IGMP) })
		case matches(a, "num_grat_arp"), matches(a, "num_unsol_na"):
			err = num("num_grat_arp|num_unsol_na", 8, func(v uint64) { m.NumPeerNotif = uint8(v); m.Set(unix.IFLA_BOND_NUM_PEER_NOTIF) })
		case matches(a, "all_slaves_active"):
			err = num("all_slaves_active", 8, func(v uint64) { m.AllSlavesActive = uint8(v); m.Set(unix.IFLA_BOND_ALL_SLAVES_ACTIVE) })
		case matches(a, "min_links"):
			err = num("min_links", 32, func(v uint64) { m.MinLinks = uint32(v); m.Set(unix.IFLA_BOND_MIN_LINKS) })
		case matches(a, "lp_interval"):
			err = num("lp_interval", 32, func(v uint64) { m.LPInterval = uint32(v); m.Set(unix.IFLA_BOND_LP_INTERVAL) })
		case matches(a, "packets_per_slave"):
			err = num("packets_per_slave", 32, func(v uint64) { m.PacketsPerSlave = uint32(v); m.Set(unix.IFLA_BOND_PACKETS_PER_SLAVE) })
		case matches(a, "lacp_rate"):
			err = tbl("lacp_rate", bondLACPRateTbl, func(k int) { m.LACPRate = uint8(k); m.Set(unix.IFLA_BOND_AD_LACP_RATE) })
		case a == "lacp_active":
			err = tbl("lacp_active", bondLACPActiveTbl, func(k int) { m.LACPActive = uint8(k); m.Set(unix.IFLA_BOND_AD_LACP_ACTIVE) })
		case matches(a, "ad_select"):
			err = tbl("ad_select", bondADSelectTbl, func(k int) { m.ADSelect = uint8(k); m.Set(unix.IFLA_BOND_AD_SELECT) })
		case matches(a, "ad_user_port_key"):
			err = num("ad_user_port_key", 16, func(v uint64) { m.ADUserPortKey = uint16(v); m.Set(unix.IFLA_BOND_AD_USER_PORT_KEY) })
		case matches(a, "ad_actor_sys_prio"):
			err = num("ad_actor_sys_prio", 16, func(v uint64) { m.ADActorSysPrio = uint16(v); m.Set(unix.IFLA_BOND_AD_ACTOR_SYS_PRIO) })
		case matches(a, "ad_actor_system"):
			v, nerr := next()
			if nerr != nil {
				return nil, nerr
			}
			mac, ok := parseMAC(v)
			if !ok || len(mac) != 6 {
				return nil, fail(exitUsage, "\"%s\" is invalid lladdr.", v)
			}
			copy(m.ADActorSystem[:], mac)
			m.Set(unix.IFLA_BOND_AD_ACTOR_SYSTEM)
		case matches(a, "tlb_dynamic_lb"):
			err = num("tlb_dynamic_lb", 8, func(v uint64) { m.TLBDynamicLB = uint8(v); m.Set(unix.IFLA_BOND_TLB_DYNAMIC_LB) })
		case matches(a, "help"):
			return nil, fail(exitUsage, "%s", bondUsage)
		default:
			return nil, fail(exitUsage, "bond: unknown command \"%s\"?\n%s", a, bondUsage)
		}
		if err != nil {
			return nil, err
		}
	}
	return rtmsg.EncodeBond(&m)
}

// printBond is bond_print_opt.
func printBond(p *printer, data []byte) {
	m, err := rtmsg.DecodeBond(data)
	if err != nil {
		return
	}
	h := &m.Has
	str := func(t uint16, key, format, v string) {
		if h.Has(t) {
			p.str(anyOut, key, format, v)
		}
	}
	u := func(t uint16, key, format string, v uint64) {
		if h.Has(t) {
			p.uint(anyOut, key, format, v)
		}
	}
	str(unix.IFLA_BOND_MODE, "mode", "mode %s ", bondName(bondModeTbl, uint32(m.Mode)))
	if h.Has(unix.IFLA_BOND_ACTIVE_SLAVE) && m.ActiveSlave != 0 {
		p.str(anyOut, "active_slave", "active_slave %s ", bondIfname(p, m.ActiveSlave))
	}
	u(unix.IFLA_BOND_MIIMON, "miimon", "miimon %d ", uint64(m.Miimon))
	u(unix.IFLA_BOND_UPDELAY, "updelay", "updelay %d ", uint64(m.UpDelay))
	u(unix.IFLA_BOND_DOWNDELAY, "downdelay", "downdelay %d ", uint64(m.DownDelay))
	u(unix.IFLA_BOND_PEER_NOTIF_DELAY, "peer_notify_delay", "peer_notify_delay %d ", uint64(m.PeerNotifDelay))
	u(unix.IFLA_BOND_USE_CARRIER, "use_carrier", "use_carrier %d ", uint64(m.UseCarrier))
	u(unix.IFLA_BOND_ARP_INTERVAL, "arp_interval", "arp_interval %d ", uint64(m.ARPInterval))
	u(unix.IFLA_BOND_MISSED_MAX, "arp_missed_max", "arp_missed_max %d ", uint64(m.MissedMax))
	bondTargets(p, "arp_ip_target", m.ARPIPTargets)
	bondTargets(p, "ns_ip6_target", m.NSIP6Targets)
	if h.Has(unix.IFLA_BOND_ARP_VALIDATE) {
		if m.ARPValidate == 0 && p.json {
			p.null(jsonOnly, "arp_validate", "")
		} else {
			p.str(anyOut, "arp_validate", "arp_validate %s ", bondName(bondARPValidateTbl, m.ARPValidate))
		}
	}
	str(unix.IFLA_BOND_ARP_ALL_TARGETS, "arp_all_targets", "arp_all_targets %s ", bondName(bondARPAllTargetsTbl, m.ARPAllTargets))
	if h.Has(unix.IFLA_BOND_PRIMARY) && m.Primary != 0 {
		p.str(anyOut, "primary", "primary %s ", bondIfname(p, m.Primary))
	}
	str(unix.IFLA_BOND_PRIMARY_RESELECT, "primary_reselect", "primary_reselect %s ", bondName(bondPrimaryReselectTbl, uint32(m.PrimaryReselect)))
	str(unix.IFLA_BOND_FAIL_OVER_MAC, "fail_over_mac", "fail_over_mac %s ", bondName(bondFailOverMACTbl, uint32(m.FailOverMAC)))
	str(unix.IFLA_BOND_XMIT_HASH_POLICY, "xmit_hash_policy", "xmit_hash_policy %s ", bondName(bondXmitHashTbl, uint32(m.XmitHashPolicy)))
	u(unix.IFLA_BOND_RESEND_IGMP, "resend_igmp", "resend_igmp %d ", uint64(m.ResendIGMP))
	u(unix.IFLA_BOND_NUM_PEER_NOTIF, "num_peer_notif", "num_grat_arp %d ", uint64(m.NumPeerNotif))
	u(unix.IFLA_BOND_ALL_SLAVES_ACTIVE, "all_slaves_active", "all_slaves_active %d ", uint64(m.AllSlavesActive))
	u(unix.IFLA_BOND_MIN_LINKS, "min_links", "min_links %d ", uint64(m.MinLinks))
	u(unix.IFLA_BOND_LP_INTERVAL, "lp_interval", "lp_interval %d ", uint64(m.LPInterval))
	u(unix.IFLA_BOND_PACKETS_PER_SLAVE, "packets_per_slave", "packets_per_slave %d ", uint64(m.PacketsPerSlave))
	str(unix.IFLA_BOND_AD_LACP_ACTIVE, "ad_lacp_active", "lacp_active %s ", bondName(bondLACPActiveTbl, uint32(m.LACPActive)))
	str(unix.IFLA_BOND_AD_LACP_RATE, "ad_lacp_rate", "lacp_rate %s ", bondName(bondLACPRateTbl, uint32(m.LACPRate)))
	str(unix.IFLA_BOND_AD_SELECT, "ad_select", "ad_select %s ", bondName(bondADSelectTbl, uint32(m.ADSelect)))
	if h.Has(unix.IFLA_BOND_AD_INFO) {
		p.openObject("ad_info")
		ai := m.ADInfo
		p.int(anyOut, "aggregator", "ad_aggregator %d ", int64(ai.Aggregator))
		p.int(anyOut, "num_ports", "ad_num_ports %d ", int64(ai.NumPorts))
		p.int(anyOut, "actor_key", "ad_actor_key %d ", int64(ai.ActorKey))
		p.int(anyOut, "partner_key", "ad_partner_key %d ", int64(ai.PartnerKey))
		p.str(anyOut, "partner_mac", "ad_partner_mac %s ", formatMAC(ai.PartnerMAC[:]))
		p.closeObject()
	}
	u(unix.IFLA_BOND_AD_ACTOR_SYS_PRIO, "ad_actor_sys_prio", "ad_actor_sys_prio %d ", uint64(m.ADActorSysPrio))
	u(unix.IFLA_BOND_AD_USER_PORT_KEY, "ad_user_port_key", "ad_user_port_key %d ", uint64(m.ADUserPortKey))
	str(unix.IFLA_BOND_AD_ACTOR_SYSTEM, "ad_actor_system", "ad_actor_system %s ", formatMAC(m.ADActorSystem[:]))
	u(unix.IFLA_BOND_TLB_DYNAMIC_LB, "tlb_dynamic_lb", "tlb_dynamic_lb %d ", uint64(m.TLBDynamicLB))
}

// bondTargets prints an arp_ip_target / ns_ip6_target list: a JSON
// array, or the word and the addresses joined by commas.
func bondTargets(p *printer, key string, l []netip.Addr) {
	if len(l) == 0 {
		return
	}
	p.openArray(key)
	p.textRaw(key + " ")
	for i, a := range l {
		p.str(anyOut, "", "%s", a.String())
		if i < len(l)-1 {
			p.textRaw(",")
		}
	}
	p.textRaw(" ")
	p.closeArray()
}

// bondIfname names a slave ifindex as ll_index_to_name does ("if%d" when
// the printer has no link names).
func bondIfname(p *printer, idx uint32) string {
	if p.ifname != nil {
		return p.ifname(int32(idx))
	}
	return fmt.Sprintf("if%d", idx)
}

var bondSlaveStates = []string{"ACTIVE", "BACKUP"}
var bondSlaveMII = []string{"UP", "GOING_DOWN", "DOWN", "GOING_BACK"}

// bondPortStateNames are the LACP port state bits, lowest first, as
// print_slave_oper_state names them.
var bondPortStateNames = []string{"active", "short_timeout", "aggregating", "in_sync", "collecting", "distributing", "defaulted", "expired"}

// printBondSlave is bond_slave_print_opt.
func printBondSlave(p *printer, data []byte) {
	s, err := rtmsg.DecodeBondSlave(data)
	if err != nil {
		return
	}
	h := &s.Has
	if h.Has(unix.IFLA_BOND_SLAVE_STATE) {
		if int(s.State) < len(bondSlaveStates) {
			p.str(anyOut, "state", "state %s ", bondSlaveStates[s.State])
		} else {
			p.int(anyOut, "state_index", "state %d ", int64(s.State))
		}
	}
	if h.Has(unix.IFLA_BOND_SLAVE_MII_STATUS) {
		if int(s.MIIStatus) < len(bondSlaveMII) {
			p.str(anyOut, "mii_status", "mii_status %s ", bondSlaveMII[s.MIIStatus])
		} else {
			p.int(anyOut, "mii_status_index", "mii_status %d ", int64(s.MIIStatus))
		}
	}
	if h.Has(unix.IFLA_BOND_SLAVE_LINK_FAILURE_COUNT) {
		p.int(anyOut, "link_failure_count", "link_failure_count %d ", int64(int32(s.LinkFailureCount)))
	}
	if h.Has(unix.IFLA_BOND_SLAVE_PERM_HWADDR) {
		p.str(anyOut, "perm_hwaddr", "perm_hwaddr %s ", formatMAC(s.PermHWAddr))
	}
	if h.Has(unix.IFLA_BOND_SLAVE_QUEUE_ID) {
		p.int(anyOut, "queue_id", "queue_id %d ", int64(s.QueueID))
	}
	if h.Has(unix.IFLA_BOND_SLAVE_PRIO) {
		p.int(anyOut, "prio", "prio %d ", int64(s.Prio))
	}
	if h.Has(unix.IFLA_BOND_SLAVE_AD_AGGREGATOR_ID) {
		p.int(anyOut, "ad_aggregator_id", "ad_aggregator_id %d ", int64(s.ADAggregatorID))
	}
	if h.Has(unix.IFLA_BOND_SLAVE_AD_ACTOR_OPER_PORT_STATE) {
		p.int(anyOut, "ad_actor_oper_port_state", "ad_actor_oper_port_state %d ", int64(s.ADActorOperPortState))
		bondPortState(p, "ad_actor_oper_port_state_str", uint16(s.ADActorOperPortState))
	}
	if h.Has(unix.IFLA_BOND_SLAVE_AD_PARTNER_OPER_PORT_STATE) {
		// iproute2 reads this u16 attribute with rta_getattr_u8.
		st := s.ADPartnerOperPortState & 0xff
		p.int(anyOut, "ad_partner_oper_port_state", "ad_partner_oper_port_state %d ", int64(st))
		bondPortState(p, "ad_partner_oper_port_state_str", st)
	}
}

// bondPortState is print_slave_oper_state: "NAME <a,b,c> " in text, a
// JSON array of the names.
func bondPortState(p *printer, key string, st uint16) {
	p.openArray(key)
	p.textRaw(key + " <")
	for bit, name := range bondPortStateNames {
		if st&(1<<bit) == 0 {
			continue
		}
		st &^= 1 << bit
		if st != 0 {
			p.str(anyOut, "", "%s,", name)
		} else {
			p.str(anyOut, "", "%s", name)
		}
	}
	p.textRaw("> ")
	p.closeArray()
}

// parseBondSlave is bond_slave_parse_opt.
func parseBondSlave(s *session, args []string) ([]byte, error) {
	var m rtmsg.BondSlave
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case matches(a, "queue_id"):
			if i+1 >= len(args) {
				return nil, incomplete()
			}
			i++
			v, ok := parseU(args[i], 16)
			if !ok {
				return nil, invarg("queue_id is invalid", args[i])
			}
			m.QueueID = uint16(v)
			m.Has.Set(unix.IFLA_BOND_SLAVE_QUEUE_ID)
		case matches(a, "prio"):
			if i+1 >= len(args) {
				return nil, incomplete()
			}
			i++
			v, err := strconv.ParseInt(args[i], 0, 32)
			if err != nil {
				return nil, invarg("prio is invalid", args[i])
			}
			m.Prio = int32(v)
			m.Has.Set(unix.IFLA_BOND_SLAVE_PRIO)
		default:
			if !matches(a, "help") {
				return nil, fail(exitUsage, "bond_slave: unknown option \"%s\"?\nUsage: ... bond_slave [ queue_id ID ] [ prio PRIORITY ]", a)
			}
			return nil, fail(exitUsage, "Usage: ... bond_slave [ queue_id ID ] [ prio PRIORITY ]")
		}
	}
	return rtmsg.EncodeBondSlave(&m)
}
