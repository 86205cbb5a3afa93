package client

import (
	"errors"
	"net"
	"net/netip"
	"slices"
	"syscall"
	"testing"

	"github.com/usnet/usnet/daemon"
	"github.com/usnet/usnet/rtnl"
	"golang.org/x/sys/unix"
)

func findLink(ls []Link, name string) *Link {
	for i := range ls {
		if ls[i].Name == name {
			return &ls[i]
		}
	}
	return nil
}

func TestLinks(t *testing.T) {
	eachMode(t, func(t *testing.T, c *Client) {
		ns := newNS(t, c, "a")
		must(t, ns.AddLink(LinkSpec{Name: "v0", Kind: "veth", Peer: "v1"}))
		err := ns.AddLink(LinkSpec{Name: "v0", Kind: "dummy"})
		if !errors.Is(err, syscall.EEXIST) {
			t.Fatalf("second add: %v, want EEXIST", err)
		}
		var ce *Error
		if !errors.As(err, &ce) || ce.Op != "link add" {
			t.Fatalf("error %#v is not a *client.Error", err)
		}
		must(t, ns.AddLink(LinkSpec{Name: "d0", Kind: "dummy", MTU: 9000, Up: true}))
		must(t, ns.SetLinkUp("v0"))
		must(t, ns.SetLinkUp("v1"))
		must(t, ns.SetMTU("v0", 1400))
		l, err := ns.Link("v0")
		must(t, err)
		if l.MTU != 1400 || !l.Up() || l.Kind != "veth" || len(l.HardwareAddr) != 6 {
			t.Fatalf("v0: %+v", l)
		}
		ls, err := ns.Links()
		must(t, err)
		var names []string
		for _, l := range ls {
			names = append(names, l.Name)
		}
		if !slices.Equal(names, []string{"lo", "v1", "v0", "d0"}) && !slices.Equal(names, []string{"lo", "v0", "v1", "d0"}) {
			t.Fatalf("links %v", names)
		}
		if d := findLink(ls, "d0"); d.MTU != 9000 || !d.Up() || d.OperState.String() != "UNKNOWN" {
			t.Fatalf("d0: %+v (%v)", d, d.OperState)
		}
		if _, err := ns.Link("nope"); !errors.Is(err, syscall.ENODEV) {
			t.Fatalf("missing link: %v", err)
		}
		if err := ns.SetMTU("v0", 10); !errors.Is(err, syscall.EINVAL) { // below veth's min_mtu 68
			t.Fatalf("mtu 10: %v", err)
		}
		must(t, ns.SetLinkDown("d0"))
		must(t, ns.DelLink("v0"))
		if _, err := ns.Link("v1"); !errors.Is(err, syscall.ENODEV) {
			t.Fatalf("peer survived: %v", err)
		}
		must(t, ns.DelLink("d0"))
		if err := ns.DelLink("d0"); !errors.Is(err, syscall.ENODEV) {
			t.Fatalf("second del: %v", err)
		}
	})
}

func TestVethAcrossNamespaces(t *testing.T) {
	eachMode(t, func(t *testing.T, c *Client) {
		a, b := newNS(t, c, "a"), newNS(t, c, "b")
		must(t, a.AddLink(LinkSpec{Name: "va", Kind: "veth", Peer: "vb", PeerNamespace: "b"}))
		if _, err := b.Link("vb"); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Link("vb"); !errors.Is(err, syscall.ENODEV) {
			t.Fatalf("vb in a: %v", err)
		}
		must(t, a.AddLink(LinkSpec{Name: "dm", Kind: "dummy"}))
		must(t, a.SetLinkNamespace("dm", "b"))
		if _, err := b.Link("dm"); err != nil {
			t.Fatal(err)
		}
		list, err := c.Namespaces()
		must(t, err)
		if !slices.Equal(list, []string{"a", "b"}) {
			t.Fatalf("namespaces %v", list)
		}
		must(t, c.DelNamespace("b"))
		if _, err := a.Link("va"); !errors.Is(err, syscall.ENODEV) {
			t.Fatalf("va survived its peer's namespace: %v", err)
		}
		if _, err := c.Namespace("b").Links(); !errors.Is(err, syscall.ENOENT) {
			t.Fatalf("links of a deleted namespace: %v", err)
		}
	})
}

func TestAddrsRoutesNeighRules(t *testing.T) {
	eachMode(t, func(t *testing.T, c *Client) {
		ns := newNS(t, c, "a")
		must(t, ns.AddLink(LinkSpec{Name: "d0", Kind: "dummy", Up: true}))
		must(t, ns.AddLink(LinkSpec{Name: "d1", Kind: "dummy", Up: true}))
		p := netip.MustParsePrefix("10.1.0.1/24")
		must(t, ns.AddAddr("d0", p))
		must(t, ns.AddAddr("d1", netip.MustParsePrefix("10.4.0.1/24")))
		if err := ns.AddAddr("d0", p); !errors.Is(err, syscall.EEXIST) {
			t.Fatalf("second address add: %v", err)
		}
		if err := ns.AddAddr("nope", p); !errors.Is(err, syscall.ENODEV) {
			t.Fatalf("address on a missing device: %v", err)
		}
		brd := netip.MustParseAddr("10.5.0.255")
		must(t, ns.AddAddrBroadcast("d1", netip.MustParsePrefix("10.5.0.1/24"), brd))
		if as, err := ns.Addrs(); err != nil {
			t.Fatal(err)
		} else if i := slices.IndexFunc(as, func(a Addr) bool { return a.Prefix.Addr() == netip.MustParseAddr("10.5.0.1") }); i < 0 || as[i].Broadcast != brd {
			t.Fatalf("address with broadcast: %+v", as)
		}
		must(t, ns.DelAddr("d1", netip.MustParsePrefix("10.5.0.1/24")))
		as, err := ns.Addrs()
		must(t, err)
		if !slices.ContainsFunc(as, func(a Addr) bool { return a.Prefix == p && a.Label == "d0" && a.Scope == unix.RT_SCOPE_UNIVERSE }) {
			t.Fatalf("addresses %+v", as)
		}

		gw := netip.MustParseAddr("10.1.0.2")
		r := Route{Dst: netip.MustParsePrefix("10.2.0.0/16"), Gateway: gw, Dev: "d0"}
		must(t, ns.AddRoute(r))
		if err := ns.AddRoute(r); !errors.Is(err, syscall.EEXIST) {
			t.Fatalf("second route add: %v", err)
		}
		if err := ns.AddRoute(Route{Dst: netip.MustParsePrefix("10.9.0.0/16"), Gateway: netip.MustParseAddr("192.0.2.1")}); !errors.Is(err, syscall.ENETUNREACH) {
			t.Fatalf("unreachable gateway: %v", err)
		}
		mp := Route{Dst: netip.MustParsePrefix("10.3.0.0/16"), Multipath: []NextHop{
			{Gateway: gw, Dev: "d0"},
			{Gateway: netip.MustParseAddr("10.4.0.2"), Dev: "d1", Weight: 3},
		}}
		must(t, ns.AddRoute(mp))
		must(t, ns.AddRoute(Route{Dst: netip.MustParsePrefix("10.5.0.0/16"), Dev: "d1", Table: 100, Metric: 7}))
		must(t, ns.AddRoute(Route{Gateway: gw})) // default route

		main, err := ns.Routes(unix.RT_TABLE_MAIN)
		must(t, err)
		get := func(rs []Route, dst string) *Route {
			for i := range rs {
				if rs[i].Dst == netip.MustParsePrefix(dst) {
					return &rs[i]
				}
			}
			return nil
		}
		if g := get(main, "10.2.0.0/16"); g == nil || g.Gateway != gw || g.Dev != "d0" || g.Protocol != unix.RTPROT_BOOT {
			t.Fatalf("10.2/16 in %+v", main)
		}
		if g := get(main, "10.3.0.0/16"); g == nil || len(g.Multipath) != 2 || g.Multipath[1].Dev != "d1" || g.Multipath[1].Weight != 3 {
			t.Fatalf("multipath route %+v", g)
		}
		if g := get(main, "10.1.0.0/24"); g == nil || g.Scope != unix.RT_SCOPE_LINK || g.Protocol != unix.RTPROT_KERNEL {
			t.Fatalf("prefix route %+v", g)
		}
		if g := get(main, "0.0.0.0/0"); g == nil || g.Gateway != gw {
			t.Fatalf("default route in %+v", main)
		}
		if get(main, "10.5.0.0/16") != nil {
			t.Fatal("table 100 route listed in main")
		}
		t100, err := ns.Routes(100)
		must(t, err)
		if len(t100) != 1 || t100[0].Metric != 7 || t100[0].Dev != "d1" || t100[0].Table != 100 {
			t.Fatalf("table 100: %+v", t100)
		}
		all, err := ns.Routes(0)
		must(t, err)
		if get(all, "10.5.0.0/16") == nil || !slices.ContainsFunc(all, func(r Route) bool { return r.Table == unix.RT_TABLE_LOCAL }) {
			t.Fatalf("all tables: %+v", all)
		}

		rg, err := ns.RouteGet(netip.MustParseAddr("10.2.3.4"), RouteGetOptions{})
		must(t, err)
		if rg.Gateway != gw || rg.Dev != "d0" || rg.PrefSrc != p.Addr() {
			t.Fatalf("route get: %+v", rg)
		}
		fm, err := ns.RouteGet(netip.MustParseAddr("10.2.3.4"), RouteGetOptions{FIBMatch: true})
		must(t, err)
		if fm.Dst != netip.MustParsePrefix("10.2.0.0/16") {
			t.Fatalf("route get fibmatch: %+v", fm)
		}

		must(t, ns.DelRoute(Route{Dst: netip.MustParsePrefix("10.2.0.0/16")}))
		if err := ns.DelRoute(Route{Dst: netip.MustParsePrefix("10.2.0.0/16")}); !errors.Is(err, syscall.ESRCH) {
			t.Fatalf("second route del: %v", err)
		}
		must(t, ns.DelRoute(Route{Dst: netip.MustParsePrefix("10.5.0.0/16"), Table: 100}))

		// Neighbours.
		ll := net.HardwareAddr{2, 0, 0, 0, 0, 9}
		nb := Neighbour{Dev: "d0", Dst: netip.MustParseAddr("10.1.0.9"), LLAddr: ll}
		must(t, ns.AddNeigh(nb))
		if err := ns.AddNeigh(nb); !errors.Is(err, syscall.EEXIST) {
			t.Fatalf("second neigh add: %v", err)
		}
		nbs, err := ns.Neighbours()
		must(t, err)
		if !slices.ContainsFunc(nbs, func(n Neighbour) bool {
			return n.Dst == nb.Dst && n.Dev == "d0" && n.LLAddr.String() == ll.String() && n.State == unix.NUD_PERMANENT
		}) {
			t.Fatalf("neighbours %+v", nbs)
		}
		must(t, ns.DelNeigh("d0", nb.Dst))
		if err := ns.DelNeigh("d0", nb.Dst); !errors.Is(err, syscall.ENOENT) {
			t.Fatalf("second neigh del: %v", err)
		}

		// Rules.
		rule := Rule{Priority: 100, Src: netip.MustParsePrefix("10.9.0.0/16"), Table: 100}
		must(t, ns.AddRule(rule))
		if err := ns.AddRule(rule); !errors.Is(err, syscall.EEXIST) {
			t.Fatalf("second rule add: %v", err)
		}
		rules, err := ns.Rules()
		must(t, err)
		var prios []uint32
		for _, r := range rules {
			prios = append(prios, r.Priority)
		}
		if !slices.Equal(prios, []uint32{0, 100, 32766, 32767}) {
			t.Fatalf("rule priorities %v", prios)
		}
		if r := rules[1]; r.Src != rule.Src || r.Table != 100 || r.Action != unix.FR_ACT_TO_TBL {
			t.Fatalf("rule %+v", r)
		}
		must(t, ns.DelRule(rule))
		if err := ns.DelRule(rule); !errors.Is(err, syscall.ENOENT) {
			t.Fatalf("second rule del: %v", err)
		}

		// Deleting the address flushes the routes through it silently.
		must(t, ns.DelAddr("d0", p))
		main, err = ns.Routes(unix.RT_TABLE_MAIN)
		must(t, err)
		if get(main, "10.1.0.0/24") != nil {
			t.Fatalf("prefix route survived its address: %+v", main)
		}
	})
}

func TestReadOnlyClient(t *testing.T) {
	c := newInProcess(t, WithCred(rtnl.Cred{UID: 1000, GID: 1000}))
	ns := c.Namespace("")
	if _, err := ns.Links(); err != nil {
		t.Fatal(err)
	}
	if err := ns.AddLink(LinkSpec{Name: "d0", Kind: "dummy"}); !errors.Is(err, syscall.EPERM) {
		t.Fatalf("add without admin: %v", err)
	}
	if err := c.AddNamespace("x"); !errors.Is(err, syscall.EPERM) {
		t.Fatalf("netns add without admin: %v", err)
	}
}

func TestExtAckMessage(t *testing.T) {
	eachMode(t, func(t *testing.T, c *Client) {
		ns := c.Namespace("")
		// An unknown kind: the kernel answers EOPNOTSUPP with a message.
		err := ns.AddLink(LinkSpec{Name: "x0", Kind: "nosuchkind"})
		var ce *Error
		if !errors.As(err, &ce) || ce.Errno != syscall.EOPNOTSUPP {
			t.Fatalf("unknown kind: %v", err)
		}
		if ce.Msg == "" {
			t.Fatalf("no extended-ACK message in %#v", ce)
		}
		t.Logf("%v", err)
	})
}

func TestConnectWithoutDaemon(t *testing.T) {
	_, err := Connect(t.TempDir() + "/none.sock")
	if err == nil || !daemon.IsNotRunning(err) {
		t.Fatalf("connect to nothing: %v", err)
	}
}

// TestAddRoutes: a batch larger than one datagram, with one duplicate
// whose EEXIST is reported while the rest go in.
func TestAddRoutes(t *testing.T) {
	eachMode(t, func(t *testing.T, c *Client) {
		ns := newNS(t, c, "a")
		must(t, ns.AddLink(LinkSpec{Name: "d0", Kind: "dummy", Up: true}))
		must(t, ns.AddAddr("d0", netip.MustParsePrefix("10.0.0.1/24")))
		var rs []Route
		for i := range 600 {
			rs = append(rs, Route{Dst: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 50, byte(i >> 8), byte(i)}), 32), Dev: "d0"})
		}
		rs[300] = rs[299]
		err := ns.AddRoutes(rs)
		if !errors.Is(err, syscall.EEXIST) {
			t.Fatalf("batch with a duplicate: %v", err)
		}
		var ce *Error
		if !errors.As(err, &ce) || ce.Op != "route add #300" {
			t.Fatalf("error %v does not name the duplicate", err)
		}
		main, err := ns.Routes(unix.RT_TABLE_MAIN)
		must(t, err)
		if len(main) != 599+1 { // and the prefix route
			t.Fatalf("%d routes in main", len(main))
		}
		if err := ns.AddRoutes([]Route{{Dst: netip.MustParsePrefix("10.60.0.0/16"), Dev: "nope"}}); !errors.Is(err, syscall.ENODEV) {
			t.Fatalf("batch with a missing device: %v", err)
		}
	})
}
