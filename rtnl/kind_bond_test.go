package rtnl

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

func bondReq(name string, m *rtmsg.Bond) []byte {
	data, err := rtmsg.EncodeBond(m)
	if err != nil {
		panic(err)
	}
	l := rtmsg.Link{Name: name, Info: &rtmsg.LinkInfo{Kind: "bond", Data: data}}
	return enc(&l)
}

// linkByName dumps the links and returns the one named name.
func (e *env) linkByName(name string) rtmsg.Link {
	e.t.Helper()
	for _, m := range e.dump(unix.RTM_GETLINK, enc(&rtmsg.Link{})) {
		if m.Header.Type != unix.RTM_NEWLINK {
			continue
		}
		var l rtmsg.Link
		if err := l.UnmarshalBinary(m.Data); err != nil {
			e.t.Fatal(err)
		}
		if l.Name == name {
			return l
		}
	}
	e.t.Fatalf("no link %s", name)
	return rtmsg.Link{}
}

// TestBondNetlink creates a bond, enslaves a veth, and checks the
// IFLA_INFO_DATA and IFLA_INFO_SLAVE_DATA attributes byte for byte
// against the layout of bond_fill_info/bond_fill_slave_info (Linux 6.18),
// then the changelink rules for the mode.
func TestBondNetlink(t *testing.T) {
	e := newEnv(t)
	e.mustDo(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, vethReq("veth0", "veth1"))
	var m rtmsg.Bond
	m.Mode, m.Miimon = 1, 100
	m.Set(unix.IFLA_BOND_MODE)
	m.Set(unix.IFLA_BOND_MIIMON)
	e.mustDo(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, bondReq("bond0", &m))
	b := e.linkByName("bond0")
	v := e.linkByName("veth0")
	if b.Info == nil || b.Info.Kind != "bond" {
		t.Fatalf("bond linkinfo %+v", b.Info)
	}
	if b.Flags&unix.IFF_MASTER == 0 {
		t.Fatalf("bond flags %#x: no MASTER", b.Flags)
	}
	// Enslave veth0 (it is down, as bonding requires).
	sl := rtmsg.Link{Index: v.Index, Master: uint32(b.Index)}
	sl.Attrs.Set(unix.IFLA_MASTER)
	e.mustDo(unix.RTM_NEWLINK, 0, enc(&sl))
	e.mustDo(unix.RTM_NEWLINK, 0, upReq(b.Index, true))
	e.mustDo(unix.RTM_NEWLINK, 0, upReq(e.linkByName("veth1").Index, true))
	e.st.Sim.RunFor(300 * time.Millisecond) // carrier, then a miimon tick
	b = e.linkByName("bond0")
	v = e.linkByName("veth0")
	if v.Master != uint32(b.Index) || v.Flags&unix.IFF_SLAVE == 0 || v.Flags&unix.IFF_UP == 0 {
		t.Fatalf("slave master %d flags %#x", v.Master, v.Flags)
	}
	if string(b.Address) != string(v.Address) {
		t.Fatalf("bond address %x, slave %x: the bond takes its first slave's", b.Address, v.Address)
	}
	// The kernel's layout: u8 mode, u32 active_slave (only when there is
	// one), u32 miimon, updelay, downdelay, peer_notif_delay, u8
	// use_carrier, u32 arp_interval, arp_validate, arp_all_targets, u8
	// primary_reselect, fail_over_mac, xmit_hash_policy, u32 resend_igmp,
	// u8 num_peer_notif, all_slaves_active, u32 min_links, lp_interval,
	// packets_per_slave, u8 ad_lacp_active, ad_lacp_rate, ad_select,
	// tlb_dynamic_lb, missed_max, coupled_control.
	want := netlink.NewAttributeEncoder(nil)
	want.Uint8(unix.IFLA_BOND_MODE, 1)
	want.Uint32(unix.IFLA_BOND_ACTIVE_SLAVE, uint32(v.Index))
	want.Uint32(unix.IFLA_BOND_MIIMON, 100)
	want.Uint32(unix.IFLA_BOND_UPDELAY, 0)
	want.Uint32(unix.IFLA_BOND_DOWNDELAY, 0)
	want.Uint32(unix.IFLA_BOND_PEER_NOTIF_DELAY, 0)
	want.Uint8(unix.IFLA_BOND_USE_CARRIER, 1)
	want.Uint32(unix.IFLA_BOND_ARP_INTERVAL, 0)
	want.Uint32(unix.IFLA_BOND_ARP_VALIDATE, 0)
	want.Uint32(unix.IFLA_BOND_ARP_ALL_TARGETS, 0)
	want.Uint8(unix.IFLA_BOND_PRIMARY_RESELECT, 0)
	want.Uint8(unix.IFLA_BOND_FAIL_OVER_MAC, 0)
	want.Uint8(unix.IFLA_BOND_XMIT_HASH_POLICY, 0)
	want.Uint32(unix.IFLA_BOND_RESEND_IGMP, 1)
	want.Uint8(unix.IFLA_BOND_NUM_PEER_NOTIF, 1)
	want.Uint8(unix.IFLA_BOND_ALL_SLAVES_ACTIVE, 0)
	want.Uint32(unix.IFLA_BOND_MIN_LINKS, 0)
	want.Uint32(unix.IFLA_BOND_LP_INTERVAL, 1)
	want.Uint32(unix.IFLA_BOND_PACKETS_PER_SLAVE, 1)
	want.Uint8(unix.IFLA_BOND_AD_LACP_ACTIVE, 1)
	want.Uint8(unix.IFLA_BOND_AD_LACP_RATE, 0)
	want.Uint8(unix.IFLA_BOND_AD_SELECT, 0)
	want.Uint8(unix.IFLA_BOND_TLB_DYNAMIC_LB, 1)
	want.Uint8(unix.IFLA_BOND_MISSED_MAX, 2)
	want.Uint8(unix.IFLA_BOND_COUPLED_CONTROL, 1)
	if string(b.Info.Data) != string(want.Bytes()) {
		t.Fatalf("IFLA_INFO_DATA\n got %x\nwant %x", b.Info.Data, want.Bytes())
	}
	if v.Info == nil || v.Info.SlaveKind != "bond" {
		t.Fatalf("slave linkinfo %+v", v.Info)
	}
	ws := netlink.NewAttributeEncoder(nil)
	ws.Uint8(unix.IFLA_BOND_SLAVE_STATE, 0)
	ws.Uint8(unix.IFLA_BOND_SLAVE_MII_STATUS, 0)
	ws.Uint32(unix.IFLA_BOND_SLAVE_LINK_FAILURE_COUNT, 0)
	ws.PutBytes(unix.IFLA_BOND_SLAVE_PERM_HWADDR, v.Address)
	ws.Uint16(unix.IFLA_BOND_SLAVE_QUEUE_ID, 0)
	ws.Int32(unix.IFLA_BOND_SLAVE_PRIO, 0)
	if string(v.Info.SlaveData) != string(ws.Bytes()) {
		t.Fatalf("IFLA_INFO_SLAVE_DATA\n got %x\nwant %x", v.Info.SlaveData, ws.Bytes())
	}
	// changelink: mode with slaves is ENOTEMPTY (bond_opt_check_deps
	// checks slaves before the up state), with an extended ACK.
	var ch rtmsg.Bond
	ch.Mode = 0
	ch.Set(unix.IFLA_BOND_MODE)
	data, _ := rtmsg.EncodeBond(&ch)
	req := rtmsg.Link{Index: b.Index, Info: &rtmsg.LinkInfo{Kind: "bond", Data: data}}
	if errno, _ := e.do(unix.RTM_NEWLINK, 0, enc(&req)); errno != -int32(unix.ENOTEMPTY) {
		t.Fatalf("mode change with slaves: errno %d, want ENOTEMPTY", -errno)
	}
	// Release the slave: the bond is still up, so EBUSY now.
	sl.Master = 0
	e.mustDo(unix.RTM_NEWLINK, 0, enc(&sl))
	if errno, _ := e.do(unix.RTM_NEWLINK, 0, enc(&req)); errno != -int32(unix.EBUSY) {
		t.Fatalf("mode change while up: errno %d, want EBUSY", -errno)
	}
	e.mustDo(unix.RTM_NEWLINK, 0, upReq(b.Index, false))
	e.mustDo(unix.RTM_NEWLINK, 0, enc(&req))
	// lacp_rate is an 802.3ad option: EACCES in balance-rr.
	var lr rtmsg.Bond
	lr.LACPRate = 1
	lr.Set(unix.IFLA_BOND_AD_LACP_RATE)
	data, _ = rtmsg.EncodeBond(&lr)
	req.Info.Data = data
	if errno, _ := e.do(unix.RTM_NEWLINK, 0, enc(&req)); errno != -int32(unix.EACCES) {
		t.Fatalf("lacp_rate in balance-rr: errno %d, want EACCES", -errno)
	}
	v = e.linkByName("veth0")
	if v.Master != 0 || v.Flags&unix.IFF_SLAVE != 0 || (v.Info != nil && v.Info.SlaveKind != "") {
		t.Fatalf("released slave master %d flags %#x info %+v", v.Master, v.Flags, v.Info)
	}
	// Deleting the bond.
	e.mustDo(unix.RTM_DELLINK, 0, enc(linkReq(b.Index, "")))
	_ = binary.NativeEndian
}

// TestBondNetlink8023ADInfo: an 802.3ad bond reports the actor system
// attributes (a u16, a u16 and 6 bytes) after coupled_control, and
// miimon defaults to 100 in that mode.
func TestBondNetlink8023ADInfo(t *testing.T) {
	e := newEnv(t)
	var m rtmsg.Bond
	m.Mode = 4
	m.Set(unix.IFLA_BOND_MODE)
	e.mustDo(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, bondReq("bond0", &m))
	b := e.linkByName("bond0")
	got, err := rtmsg.DecodeBond(b.Info.Data)
	if err != nil {
		t.Fatal(err)
	}
	if got.Mode != 4 || got.Miimon != 100 || got.ADActorSysPrio != 65535 || !got.Has.Has(unix.IFLA_BOND_AD_ACTOR_SYSTEM) {
		t.Fatalf("802.3ad bond data %+v", got)
	}
	// The last three attributes are sys_prio, user_port_key, actor_system.
	d := netlink.NewAttributeDecoder(b.Info.Data)
	var types []uint16
	for d.Next() {
		types = append(types, d.Type())
	}
	n := len(types)
	if n < 4 || types[n-4] != unix.IFLA_BOND_COUPLED_CONTROL || types[n-3] != unix.IFLA_BOND_AD_ACTOR_SYS_PRIO || types[n-2] != unix.IFLA_BOND_AD_USER_PORT_KEY || types[n-1] != unix.IFLA_BOND_AD_ACTOR_SYSTEM {
		t.Fatalf("attribute order %v", types)
	}
}
