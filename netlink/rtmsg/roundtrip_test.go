package rtmsg

import (
	"errors"
	"net/netip"
	"reflect"
	"testing"

	"github.com/usnet/usnet/netlink"
	"golang.org/x/sys/unix"
)

var (
	v4  = netip.MustParseAddr
	mac = []byte{2, 0, 0, 0, 0, 1}
)

// roundTrip encodes m, decodes into a fresh value and compares.
func roundTrip(t *testing.T, typ uint16, m Message) Message {
	t.Helper()
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	got := New(typ)
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatalf("decode: %v", err)
	}
	// Presence sets differ only where the builder left them empty.
	clearAttrs(got)
	if !reflect.DeepEqual(got, m) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, m)
	}
	// AppendBinary gives the same bytes after a prefix.
	ab, _ := m.AppendBinary([]byte{0xaa})
	if string(ab[1:]) != string(b) {
		t.Fatal("AppendBinary differs from MarshalBinary")
	}
	return got
}

func clearAttrs(m Message) {
	switch v := m.(type) {
	case *Link:
		v.Attrs = AttrSet{}
	case *Addr:
		v.Attrs = AttrSet{}
	case *Route:
		v.Attrs = AttrSet{}
	case *Neigh:
		v.Attrs = AttrSet{}
	case *Rule:
		v.Attrs = AttrSet{}
	case *Netconf:
		v.Attrs = AttrSet{}
	}
}

func TestLinkRoundTrip(t *testing.T) {
	peer := &Link{Name: "veth1", MTU: 9000, Address: mac}
	data, err := EncodeVethPeer(peer)
	if err != nil {
		t.Fatal(err)
	}
	s64 := &LinkStats64{RxPackets: 1, TxBytes: 2, RxOtherhostDropped: 25}
	s32 := &LinkStats{RxPackets: 3, RxNoHandler: 24}
	l := &Link{Family: unix.AF_UNSPEC, Type: unix.ARPHRD_ETHER, Index: 3, Flags: unix.IFF_UP, Change: 0xffffffff,
		Name: "veth0", TxQLen: 1000, OperState: 6, LinkMode: 1, MTU: 1500, MinMTU: 68, MaxMTU: 65535, Group: 2,
		Promiscuity: 1, AllMulti: 1, NumTxQueues: 2, GSOMaxSegs: 65535, GSOMaxSize: 65536, GROMaxSize: 65536,
		NumRxQueues: 2, Carrier: 1, CarrierChanges: 3, Address: mac, Broadcast: []byte{255, 255, 255, 255, 255, 255},
		Stats64: s64, Stats: s32, Info: &LinkInfo{Kind: "veth", Data: data, SlaveKind: "bridge", SlaveData: []byte{4, 0, 1, 0}},
		Master: 7, Link: 4, LinkNetNSID: -1, NetNSPid: 1234, NetNSFD: 5, Qdisc: "noqueue", Alias: "uplink",
		AFSpec: []byte{8, 0, 2, 0, 1, 0, 0, 0}, Unknown: []RawAttr{{Type: 200, Data: []byte{1, 2, 3, 4}}}}
	got := roundTrip(t, unix.RTM_NEWLINK, l).(*Link)
	p, ok, err := DecodeVethPeer(got.Info.Data)
	if err != nil || !ok || p.Name != "veth1" || p.MTU != 9000 || string(p.Address) != string(mac) {
		t.Fatalf("veth peer %+v %v %v", p, ok, err)
	}
	if _, ok, err := DecodeVethPeer([]byte{4, 0, 2, 0}); ok || err != nil {
		t.Fatal("no peer should be ok=false")
	}
	if _, _, err := DecodeVethPeer([]byte{8, 0, 1, 0, 0, 0, 0, 0}); !errors.Is(err, ErrTruncated) {
		t.Fatal("short peer ifinfomsg:", err)
	}
}

func TestLinkExplicitZero(t *testing.T) {
	l := &Link{Index: 1}
	l.Attrs.Set(unix.IFLA_CARRIER) // carrier down must still be sent
	b, _ := l.MarshalBinary()
	var got Link
	if err := got.UnmarshalBinary(b); err != nil || !got.Attrs.Has(unix.IFLA_CARRIER) || got.Attrs.Has(unix.IFLA_MTU) {
		t.Fatalf("%v %v", err, got.Attrs)
	}
}

func TestAddrRoundTrip(t *testing.T) {
	roundTrip(t, unix.RTM_NEWADDR, &Addr{Family: unix.AF_INET, PrefixLen: 24, Flags8: unix.IFA_F_PERMANENT, Index: 3,
		Address: v4("192.0.2.1"), Local: v4("192.0.2.1"), Broadcast: v4("192.0.2.255"), Label: "veth0:1", Proto: 3,
		Flags: unix.IFA_F_PERMANENT | unix.IFA_F_NOPREFIXROUTE, RtPriority: 10,
		Cacheinfo: &AddrCacheinfo{0xffffffff, 0xffffffff, 100, 200}})
	roundTrip(t, unix.RTM_NEWADDR, &Addr{Family: unix.AF_INET6, PrefixLen: 64, Index: 2,
		Address: v4("2001:db8::1"), Flags: unix.IFA_F_NODAD, Proto: 1})
}

func TestRouteRoundTrip(t *testing.T) {
	r := &Route{Family: unix.AF_INET, DstLen: 24, SrcLen: 8, TOS: 0x10, Table8: unix.RT_TABLE_COMPAT, Protocol: unix.RTPROT_STATIC,
		Scope: unix.RT_SCOPE_UNIVERSE, Type: unix.RTN_UNICAST, Flags: unix.RTNH_F_ONLINK, Table: 1000,
		Dst: v4("198.51.100.0"), Src: v4("10.0.0.0"), IIF: 2, Priority: 100,
		Metrics: &Metrics{Values: []Metric{{unix.RTAX_MTU, 1400}, {unix.RTAX_ADVMSS, 1360}}, CCAlgo: "cubic"},
		PrefSrc: v4("192.0.2.1"), Gateway: v4("192.0.2.254"), Via: v4("fe80::1"), OIF: 3, EncapType: 1, Encap: []byte{8, 0, 1, 0, 1, 0, 0, 0},
		Multipath: []NextHop{{Flags: 0, Hops: 1, Index: 3, Gateway: v4("192.0.2.253")},
			{Hops: 0, Index: 4, Via: v4("fe80::2"), Unknown: []RawAttr{{Type: unix.RTA_FLOW, Data: []byte{1, 0, 0, 0}}}}},
		Mark: 7, UID: 1000, Cacheinfo: &RouteCacheinfo{Expires: -1, Used: 5}, Pref: 1, IPProto: unix.IPPROTO_TCP,
		SPort: 80, DPort: 443}
	got := roundTrip(t, unix.RTM_NEWROUTE, r).(*Route)
	if v, ok := got.Metrics.Get(unix.RTAX_MTU); !ok || v != 1400 {
		t.Fatal("metric", v, ok)
	}
	// Ports travel in network order.
	b, _ := r.MarshalBinary()
	var fresh Route
	if err := fresh.UnmarshalBinary(b); err != nil || fresh.TableID() != 1000 {
		t.Fatal("TableID", fresh.TableID(), err)
	}
	d := netlink.NewAttributeDecoder(b[unix.SizeofRtMsg:])
	for d.Next() {
		if d.Type() == unix.RTA_DPORT && (d.Bytes()[0] != 1 || d.Bytes()[1] != 0xbb) {
			t.Fatalf("RTA_DPORT bytes %x", d.Bytes())
		}
	}
	if (&Route{Table8: 5}).TableID() != 5 {
		t.Fatal("TableID without RTA_TABLE")
	}
}

func TestNeighRoundTrip(t *testing.T) {
	roundTrip(t, unix.RTM_NEWNEIGH, &Neigh{Family: unix.AF_INET, Index: 3, State: unix.NUD_PERMANENT, Flags: unix.NTF_ROUTER,
		Type: unix.RTN_UNICAST, Dst: v4("192.0.2.254"), LLAddr: mac, Cacheinfo: &NeighCacheinfo{1, 2, 3, 4},
		Probes: 2, VLAN: 10, Master: 9})
}

func TestRuleRoundTrip(t *testing.T) {
	roundTrip(t, unix.RTM_NEWRULE, &Rule{Family: unix.AF_INET, DstLen: 32, SrcLen: 24, TOS: 0, Table8: 100, Action: unix.FR_ACT_TO_TBL,
		Flags: unix.FIB_RULE_INVERT, Table: 100, SuppressPrefixLen: 0xffffffff, Protocol: unix.RTPROT_BOOT,
		IIFName: "veth0", OIFName: "veth1", Priority: 1000, FwMark: 0x10, FwMask: 0xff, Goto: 2000, L3MDev: 1,
		UIDRange: &Range{1000, 2000}, SPortRange: &Range{1024, 65535}, DPortRange: &Range{80, 80}, IPProto: unix.IPPROTO_UDP,
		SuppressIfGroup: 4, Dst: v4("198.51.100.1"), Src: v4("192.0.2.0")})
}

func TestNetconfRoundTrip(t *testing.T) {
	n := &Netconf{Family: unix.AF_INET, Ifindex: NetconfIfindexAll, Forwarding: 1, RPFilter: 2, MCForwarding: 0,
		BCForwarding: 1, ProxyNeigh: 1, IgnoreRoutesWithLinkdown: 1, Input: 1}
	b, _ := n.MarshalBinary()
	var got Netconf
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	got.Attrs = AttrSet{}
	if !reflect.DeepEqual(&got, n) {
		t.Fatalf("%+v", got)
	}
	// A GETNETCONF request may carry just the family byte.
	if err := got.UnmarshalBinary([]byte{unix.AF_INET}); err != nil || got.Family != unix.AF_INET {
		t.Fatal(err)
	}
}

func TestSizeErrors(t *testing.T) {
	hdr := make([]byte, unix.SizeofIfInfomsg)
	for _, c := range []struct {
		name  string
		typ   uint16
		body  []byte
		errno unix.Errno
	}{
		{"short IFLA_MTU", unix.RTM_NEWLINK, attr(unix.IFLA_MTU, 2), unix.ERANGE},
		{"long IFLA_MTU", unix.RTM_NEWLINK, attr(unix.IFLA_MTU, 8), unix.EINVAL},
		{"short IFLA_OPERSTATE", unix.RTM_NEWLINK, attr(unix.IFLA_OPERSTATE, 0), unix.ERANGE},
		{"short STATS64", unix.RTM_NEWLINK, attr(unix.IFLA_STATS64, 16), unix.ERANGE},
		{"IPv4 IFA_LOCAL of 16 bytes", unix.RTM_NEWADDR, attr(unix.IFA_LOCAL, 16), unix.EINVAL},
		{"short RTA_GATEWAY", unix.RTM_NEWROUTE, attr(unix.RTA_GATEWAY, 3), unix.ERANGE},
		{"short RTA_CACHEINFO", unix.RTM_NEWROUTE, attr(unix.RTA_CACHEINFO, 8), unix.ERANGE},
		{"short NDA_VLAN", unix.RTM_NEWNEIGH, attr(unix.NDA_VLAN, 1), unix.ERANGE},
		{"long FRA_UID_RANGE", unix.RTM_NEWRULE, attr(unix.FRA_UID_RANGE, 12), unix.EINVAL},
		{"short NETCONFA_FORWARDING", unix.RTM_NEWNETCONF, attr(NetconfForwarding, 1), unix.ERANGE},
	} {
		var fixed []byte
		switch c.typ {
		case unix.RTM_NEWLINK:
			fixed = hdr
		case unix.RTM_NEWADDR:
			fixed = []byte{unix.AF_INET, 0, 0, 0, 0, 0, 0, 0}
		case unix.RTM_NEWNETCONF:
			fixed = []byte{unix.AF_INET, 0, 0, 0}
		default:
			fixed = []byte{unix.AF_INET, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
		}
		_, err := Decode(c.typ, append(append([]byte(nil), fixed...), c.body...))
		var se *SizeError
		if !errors.As(err, &se) || se.Errno() != c.errno || se.Error() == "" {
			t.Errorf("%s: err %v", c.name, err)
		}
	}
	for _, typ := range []uint16{unix.RTM_NEWLINK, unix.RTM_NEWADDR, unix.RTM_NEWROUTE, unix.RTM_NEWNEIGH, unix.RTM_NEWRULE, unix.RTM_NEWNETCONF} {
		if _, err := Decode(typ, nil); !errors.Is(err, ErrTruncated) {
			t.Errorf("type %d empty: %v", typ, err)
		}
	}
	if _, err := Decode(unix.NLMSG_DONE, nil); !errors.Is(err, ErrUnknownType) {
		t.Error(err)
	}
	// A bad rtnexthop length.
	mp := append(make([]byte, 12), attrBytes(unix.RTA_MULTIPATH, []byte{4, 0, 0, 0, 0, 0, 0, 0})...)
	if _, err := Decode(unix.RTM_NEWROUTE, mp); !errors.Is(err, ErrBadNexthop) {
		t.Error("multipath:", err)
	}
}

func attr(typ uint16, n int) []byte { return attrBytes(typ, make([]byte, n)) }

func attrBytes(typ uint16, p []byte) []byte {
	e := netlink.NewAttributeEncoder(nil)
	e.PutBytes(typ, p)
	return e.Bytes()
}

func TestUnknownKept(t *testing.T) {
	b := append(make([]byte, 8), attrBytes(99|unix.NLA_F_NESTED, []byte{1, 2, 3})...)
	b[0] = unix.AF_INET
	var a Addr
	if err := a.UnmarshalBinary(b); err != nil || len(a.Unknown) != 1 || a.Unknown[0].Type != 99|unix.NLA_F_NESTED {
		t.Fatalf("%v %+v", err, a.Unknown)
	}
	out, _ := a.MarshalBinary()
	if string(out) != string(b) {
		t.Fatalf("unknown not written back: %x", out)
	}
}
