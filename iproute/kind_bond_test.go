package iproute

import (
	"testing"

	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

// bondDefaultData is IFLA_INFO_DATA as Linux 6.18's bond_fill_info
// encodes a fresh `type bond mode active-backup miimon 100`.
func bondDefaultData() []byte {
	e := netlink.NewAttributeEncoder(nil)
	e.Uint8(unix.IFLA_BOND_MODE, 1)
	e.Uint32(unix.IFLA_BOND_MIIMON, 100)
	e.Uint32(unix.IFLA_BOND_UPDELAY, 0)
	e.Uint32(unix.IFLA_BOND_DOWNDELAY, 0)
	e.Uint32(unix.IFLA_BOND_PEER_NOTIF_DELAY, 0)
	e.Uint8(unix.IFLA_BOND_USE_CARRIER, 1)
	e.Uint32(unix.IFLA_BOND_ARP_INTERVAL, 0)
	e.Uint32(unix.IFLA_BOND_ARP_VALIDATE, 0)
	e.Uint32(unix.IFLA_BOND_ARP_ALL_TARGETS, 0)
	e.Uint8(unix.IFLA_BOND_PRIMARY_RESELECT, 0)
	e.Uint8(unix.IFLA_BOND_FAIL_OVER_MAC, 0)
	e.Uint8(unix.IFLA_BOND_XMIT_HASH_POLICY, 0)
	e.Uint32(unix.IFLA_BOND_RESEND_IGMP, 1)
	e.Uint8(unix.IFLA_BOND_NUM_PEER_NOTIF, 1)
	e.Uint8(unix.IFLA_BOND_ALL_SLAVES_ACTIVE, 0)
	e.Uint32(unix.IFLA_BOND_MIN_LINKS, 0)
	e.Uint32(unix.IFLA_BOND_LP_INTERVAL, 1)
	e.Uint32(unix.IFLA_BOND_PACKETS_PER_SLAVE, 1)
	e.Uint8(unix.IFLA_BOND_AD_LACP_ACTIVE, 1)
	e.Uint8(unix.IFLA_BOND_AD_LACP_RATE, 0)
	e.Uint8(unix.IFLA_BOND_AD_SELECT, 0)
	e.Uint8(unix.IFLA_BOND_TLB_DYNAMIC_LB, 1)
	e.Uint8(unix.IFLA_BOND_MISSED_MAX, 2)
	e.Uint8(unix.IFLA_BOND_COUPLED_CONTROL, 1)
	return e.Bytes()
}

// TestBondPrint checks -d output against iproute2 6.1's bond_print_opt
// format strings (text and JSON); coupled_control, which 6.1 does not
// know, is not printed.
func TestBondPrint(t *testing.T) {
	data := bondDefaultData()
	p := &printer{}
	printBond(p, data)
	want := "mode active-backup miimon 100 updelay 0 downdelay 0 peer_notify_delay 0 use_carrier 1 arp_interval 0 arp_missed_max 2 arp_validate none arp_all_targets any primary_reselect always fail_over_mac none xmit_hash_policy layer2 resend_igmp 1 num_grat_arp 1 all_slaves_active 0 min_links 0 lp_interval 1 packets_per_slave 1 lacp_active on lacp_rate slow ad_select stable tlb_dynamic_lb 1 "
	if got := p.b.String(); got != want {
		t.Fatalf("text\n got %q\nwant %q", got, want)
	}
	p = &printer{json: true}
	p.openObject("")
	printBond(p, data)
	p.closeObject()
	wantJ := `{"mode":"active-backup","miimon":100,"updelay":0,"downdelay":0,"peer_notify_delay":0,"use_carrier":1,"arp_interval":0,"arp_missed_max":2,"arp_validate":null,"arp_all_targets":"any","primary_reselect":"always","fail_over_mac":"none","xmit_hash_policy":"layer2","resend_igmp":1,"num_peer_notif":1,"all_slaves_active":0,"min_links":0,"lp_interval":1,"packets_per_slave":1,"ad_lacp_active":"on","ad_lacp_rate":"slow","ad_select":"stable","tlb_dynamic_lb":1}`
	if got := p.b.String(); got != wantJ {
		t.Fatalf("json\n got %s\nwant %s", got, wantJ)
	}
}

// TestBond8023ADPrint: ad_info, the actor attributes and an
// arp_ip_target list.
func TestBond8023ADPrint(t *testing.T) {
	var m rtmsg.Bond
	m.Mode, m.ADActorSysPrio, m.ADUserPortKey = 4, 65535, 0
	m.ADActorSystem = [6]byte{}
	m.ADInfo = rtmsg.BondADInfo{Aggregator: 1, NumPorts: 2, ActorKey: 9, PartnerKey: 9, PartnerMAC: [6]byte{2, 0, 0, 0, 0, 2}}
	for _, a := range []uint16{unix.IFLA_BOND_MODE, unix.IFLA_BOND_AD_ACTOR_SYS_PRIO, unix.IFLA_BOND_AD_USER_PORT_KEY, unix.IFLA_BOND_AD_ACTOR_SYSTEM, unix.IFLA_BOND_AD_INFO} {
		m.Set(a)
	}
	data, err := rtmsg.EncodeBond(&m)
	if err != nil {
		t.Fatal(err)
	}
	p := &printer{}
	printBond(p, data)
	want := "mode 802.3ad ad_aggregator 1 ad_num_ports 2 ad_actor_key 9 ad_partner_key 9 ad_partner_mac 02:00:00:00:00:02 ad_actor_sys_prio 65535 ad_user_port_key 0 ad_actor_system 00:00:00:00:00:00 "
	if got := p.b.String(); got != want {
		t.Fatalf("text\n got %q\nwant %q", got, want)
	}
	p = &printer{json: true}
	p.openObject("")
	printBond(p, data)
	p.closeObject()
	wantJ := `{"mode":"802.3ad","ad_info":{"aggregator":1,"num_ports":2,"actor_key":9,"partner_key":9,"partner_mac":"02:00:00:00:00:02"},"ad_actor_sys_prio":65535,"ad_user_port_key":0,"ad_actor_system":"00:00:00:00:00:00"}`
	if got := p.b.String(); got != wantJ {
		t.Fatalf("json\n got %s\nwant %s", got, wantJ)
	}
}

func TestBondSlavePrint(t *testing.T) {
	s := rtmsg.BondSlave{State: 0, MIIStatus: 0, LinkFailureCount: 1, PermHWAddr: []byte{2, 0, 0, 0, 0, 1}, ADAggregatorID: 1, ADActorOperPortState: 0x3d, ADPartnerOperPortState: 0x3d}
	for _, a := range []uint16{unix.IFLA_BOND_SLAVE_STATE, unix.IFLA_BOND_SLAVE_MII_STATUS, unix.IFLA_BOND_SLAVE_LINK_FAILURE_COUNT, unix.IFLA_BOND_SLAVE_PERM_HWADDR, unix.IFLA_BOND_SLAVE_QUEUE_ID, unix.IFLA_BOND_SLAVE_PRIO, unix.IFLA_BOND_SLAVE_AD_AGGREGATOR_ID, unix.IFLA_BOND_SLAVE_AD_ACTOR_OPER_PORT_STATE, unix.IFLA_BOND_SLAVE_AD_PARTNER_OPER_PORT_STATE} {
		s.Has.Set(a)
	}
	data, _ := rtmsg.EncodeBondSlave(&s)
	p := &printer{}
	printBondSlave(p, data)
	want := "state ACTIVE mii_status UP link_failure_count 1 perm_hwaddr 02:00:00:00:00:01 queue_id 0 prio 0 ad_aggregator_id 1 ad_actor_oper_port_state 61 ad_actor_oper_port_state_str <active,aggregating,in_sync,collecting,distributing> ad_partner_oper_port_state 61 ad_partner_oper_port_state_str <active,aggregating,in_sync,collecting,distributing> "
	if got := p.b.String(); got != want {
		t.Fatalf("text\n got %q\nwant %q", got, want)
	}
	p = &printer{json: true}
	p.openObject("")
	printBondSlave(p, data)
	p.closeObject()
	wantJ := `{"state":"ACTIVE","mii_status":"UP","link_failure_count":1,"perm_hwaddr":"02:00:00:00:00:01","queue_id":0,"prio":0,"ad_aggregator_id":1,"ad_actor_oper_port_state":61,"ad_actor_oper_port_state_str":["active","aggregating","in_sync","collecting","distributing"],"ad_partner_oper_port_state":61,"ad_partner_oper_port_state_str":["active","aggregating","in_sync","collecting","distributing"]}`
	if got := p.b.String(); got != wantJ {
		t.Fatalf("json\n got %s\nwant %s", got, wantJ)
	}
}

// TestBondParse: the words after `type bond` become the attributes
// bond_parse_opt adds.
func TestBondParse(t *testing.T) {
	s := &session{}
	data, err := parseBond(s, []string{"mode", "802.3ad", "miimon", "100", "lacp_rate", "fast", "xmit_hash_policy", "layer3+4", "ad_actor_system", "02:00:00:00:00:09", "arp_ip_target", "10.0.0.1,10.0.0.2", "num_grat_arp", "3", "lacp_active", "on"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := rtmsg.DecodeBond(data)
	if err != nil {
		t.Fatal(err)
	}
	if m.Mode != 4 || m.Miimon != 100 || m.LACPRate != 1 || m.XmitHashPolicy != 1 || m.ADActorSystem != [6]byte{2, 0, 0, 0, 0, 9} || len(m.ARPIPTargets) != 2 || m.NumPeerNotif != 3 || m.LACPActive != 1 {
		t.Fatalf("parsed %+v", m)
	}
	for _, bad := range [][]string{{"mode", "nosuch"}, {"miimon", "x"}, {"frobnicate"}, {"mode"}} {
		if _, err := parseBond(s, bad); err == nil {
			t.Errorf("%v: accepted", bad)
		}
	}
	// get_index accepts the number of a mode.
	data, _ = parseBond(s, []string{"mode", "1"})
	if m, _ := rtmsg.DecodeBond(data); m.Mode != 1 {
		t.Fatalf("mode 1 parsed as %d", m.Mode)
	}
}
