package rtmsg

import (
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
)

// TestBondRoundTrip: every attribute survives Encode/DecodeBond, the
// ARP target nest holds be32 addresses under types 0..n-1 and the
// NS_IP6_TARGET nest carries NLA_F_NESTED, as bond_fill_info writes them.
func TestBondRoundTrip(t *testing.T) {
	m := Bond{
		Mode: 4, ActiveSlave: 3, Miimon: 100, UpDelay: 200, DownDelay: 300, PeerNotifDelay: 100,
		UseCarrier: 1, ARPInterval: 0, ARPIPTargets: []netip.Addr{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.9")},
		ARPValidate: 3, ARPAllTargets: 1, NSIP6Targets: []netip.Addr{netip.MustParseAddr("fe80::1")},
		Primary: 4, PrimaryReselect: 2, FailOverMAC: 1, XmitHashPolicy: 2, ResendIGMP: 5, NumPeerNotif: 3,
		AllSlavesActive: 1, MinLinks: 2, LPInterval: 7, PacketsPerSlave: 9, LACPActive: 1, LACPRate: 1, ADSelect: 2,
		TLBDynamicLB: 1, MissedMax: 4, CoupledControl: 1, ADActorSysPrio: 100, ADUserPortKey: 5,
		ADActorSystem: [6]byte{2, 0, 0, 0, 0, 1},
		ADInfo:        BondADInfo{Aggregator: 1, NumPorts: 2, ActorKey: 15, PartnerKey: 15, PartnerMAC: [6]byte{2, 0, 0, 0, 0, 2}},
	}
	for t := uint16(unix.IFLA_BOND_MODE); t <= unix.IFLA_BOND_COUPLED_CONTROL; t++ {
		m.Set(t)
	}
	b, err := EncodeBond(&m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeBond(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Has != m.Has || got.ADInfo != m.ADInfo || got.ADActorSystem != m.ADActorSystem || len(got.ARPIPTargets) != 2 ||
		got.ARPIPTargets[1] != m.ARPIPTargets[1] || len(got.NSIP6Targets) != 1 || got.Mode != 4 || got.PacketsPerSlave != 9 ||
		got.MissedMax != 4 || got.CoupledControl != 1 || got.UpDelay != 200 || got.ADUserPortKey != 5 {
		t.Fatalf("round trip\n got %+v\nwant %+v", got, m)
	}
	// The ARP target nest: len 8+8+4, type 8, then {8, 0, 10.0.0.1}.
	want := []byte{20, 0, unix.IFLA_BOND_ARP_IP_TARGET, 0, 8, 0, 0, 0, 10, 0, 0, 1, 8, 0, 1, 0, 10, 0, 0, 9}
	if !contains(b, want) {
		t.Fatalf("no kernel-shaped ARP target nest in %x", b)
	}
	if !contains(b, []byte{24, 0, unix.IFLA_BOND_NS_IP6_TARGET, 0x80}) {
		t.Fatalf("NS_IP6_TARGET nest without NLA_F_NESTED in %x", b)
	}
	s := BondSlave{State: 1, MIIStatus: 2, LinkFailureCount: 3, PermHWAddr: []byte{2, 0, 0, 0, 0, 3}, QueueID: 4, Prio: -5,
		ADAggregatorID: 6, ADActorOperPortState: 0x3d, ADPartnerOperPortState: 0x3f}
	for t := uint16(unix.IFLA_BOND_SLAVE_STATE); t <= unix.IFLA_BOND_SLAVE_PRIO; t++ {
		s.Has.Set(t)
	}
	sb, _ := EncodeBondSlave(&s)
	gs, err := DecodeBondSlave(sb)
	if err != nil || gs.Prio != -5 || gs.ADPartnerOperPortState != 0x3f || string(gs.PermHWAddr) != string(s.PermHWAddr) || gs.Has != s.Has {
		t.Fatalf("slave round trip %+v %v", gs, err)
	}
}

func contains(b, sub []byte) bool {
	for i := 0; i+len(sub) <= len(b); i++ {
		if string(b[i:i+len(sub)]) == string(sub) {
			return true
		}
	}
	return false
}

// TestBondDecodeBad: wrong sizes are refused, truncation never panics.
func TestBondDecodeBad(t *testing.T) {
	var m Bond
	m.Mode = 1
	m.Set(unix.IFLA_BOND_MODE)
	m.Set(unix.IFLA_BOND_MIIMON)
	m.Set(unix.IFLA_BOND_AD_INFO)
	m.Set(unix.IFLA_BOND_ARP_IP_TARGET)
	m.ARPIPTargets = []netip.Addr{netip.MustParseAddr("1.2.3.4")}
	b, _ := EncodeBond(&m)
	for i := range b {
		DecodeBond(b[:i])
		DecodeBondSlave(b[:i])
	}
	bad := []byte{5, 0, unix.IFLA_BOND_MIIMON, 0, 1, 0, 0, 0} // u32 given 1 byte
	if _, err := DecodeBond(bad); err == nil {
		t.Fatal("1-byte miimon accepted")
	}
	if _, err := DecodeBond([]byte{8, 0, unix.IFLA_BOND_AD_ACTOR_SYSTEM, 0, 1, 2, 3, 4}); err == nil {
		t.Fatal("4-byte actor system accepted")
	}
}
