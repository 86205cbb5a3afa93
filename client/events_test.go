package client

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

func TestSubscribe(t *testing.T) {
	eachMode(t, func(t *testing.T, c *Client) {
		ns := newNS(t, c, "a")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		ev, err := ns.Subscribe(ctx, GroupLink, GroupIPv4Addr, GroupIPv4Route, GroupNeigh, GroupIPv4Rule)
		must(t, err)
		must(t, ns.AddLink(LinkSpec{Name: "d0", Kind: "dummy"}))
		le := waitFor(t, ev, "NEWLINK d0", func(e Event) bool {
			l, ok := e.(LinkEvent)
			return ok && l.Op == New && l.Link.Name == "d0"
		}).(LinkEvent)
		if le.PortID != 0 || le.Seq != 0 {
			t.Errorf("link events carry port id 0 and sequence 0 on Linux: %+v", le.Origin)
		}
		must(t, ns.SetLinkUp("d0"))
		waitFor(t, ev, "NEWLINK d0 up", func(e Event) bool {
			l, ok := e.(LinkEvent)
			return ok && l.Link.Name == "d0" && l.Link.Up()
		})
		p := netip.MustParsePrefix("10.1.0.1/24")
		must(t, ns.AddAddr("d0", p))
		// The kernel's order: NEWADDR, then the local route, then the
		// prefix route.
		var seq []string
		waitFor(t, ev, "prefix route", func(e Event) bool {
			switch e := e.(type) {
			case AddrEvent:
				if e.PortID == 0 || e.Seq == 0 {
					t.Errorf("address event without the requester's port id and sequence: %+v", e.Origin)
				}
				seq = append(seq, fmt.Sprintf("%v addr %v", e.Op, e.Addr.Prefix))
			case RouteEvent:
				seq = append(seq, fmt.Sprintf("%v route %v table %d dev %s", e.Op, e.Route.Dst, e.Route.Table, e.Route.Dev))
				return e.Route.Table == unix.RT_TABLE_MAIN
			}
			return false
		})
		want := []string{"New addr 10.1.0.1/24", "New route 10.1.0.1/32 table 255 dev d0", "New route 10.1.0.0/24 table 254 dev d0"}
		if !slices.Equal(seq, want) {
			t.Fatalf("sequence\n%q\nwant\n%q", seq, want)
		}
		must(t, ns.AddRule(Rule{Priority: 10, Table: 10}))
		waitFor(t, ev, "NEWRULE", func(e Event) bool {
			r, ok := e.(RuleEvent)
			return ok && r.Op == New && r.Rule.Priority == 10
		})
		must(t, ns.AddNeigh(Neighbour{Dev: "d0", Dst: netip.MustParseAddr("10.1.0.7"), LLAddr: []byte{2, 0, 0, 0, 0, 7}}))
		waitFor(t, ev, "NEWNEIGH", func(e Event) bool {
			n, ok := e.(NeighEvent)
			return ok && n.Op == New && n.Neighbour.Dev == "d0"
		})
		must(t, ns.DelLink("d0"))
		waitFor(t, ev, "DELLINK d0", func(e Event) bool {
			l, ok := e.(LinkEvent)
			return ok && l.Op == Del && l.Link.Name == "d0"
		})
		cancel()
		for range ev { // the channel closes
		}
	})
}

// TestSubscribeWithoutLinks: link events are not delivered unless asked
// for, though routes still name their devices.
func TestSubscribeWithoutLinks(t *testing.T) {
	eachMode(t, func(t *testing.T, c *Client) {
		ns := newNS(t, c, "a")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		ev, err := ns.Subscribe(ctx, GroupIPv4Route)
		must(t, err)
		must(t, ns.AddLink(LinkSpec{Name: "d0", Kind: "dummy", Up: true}))
		must(t, ns.AddRoute(Route{Dst: netip.MustParsePrefix("10.7.0.0/16"), Dev: "d0"}))
		waitFor(t, ev, "route event", func(e Event) bool {
			switch e := e.(type) {
			case LinkEvent:
				t.Fatalf("unrequested link event %+v", e)
			case RouteEvent:
				if e.Route.Dev != "d0" {
					t.Fatalf("route event without its device name: %+v", e.Route)
				}
				return true
			}
			return false
		})
	})
}

// TestSubscribeOverflow: a consumer that does not read gets an Overflow
// marker instead of unbounded buffering, and events continue after it.
func TestSubscribeOverflow(t *testing.T) {
	eachMode(t, func(t *testing.T, c *Client) {
		ns := newNS(t, c, "a")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		ev, err := ns.Subscribe(ctx, GroupIPv4Route)
		must(t, err)
		must(t, ns.AddLink(LinkSpec{Name: "d0", Kind: "dummy", Up: true}))
		const n = 2000 // far more than the socket queue and channel hold
		for i := range n {
			must(t, ns.AddRoute(Route{Dst: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 20, byte(i >> 8), byte(i)}), 32), Dev: "d0"}))
		}
		got := 0
		waitFor(t, ev, "Overflow", func(e Event) bool {
			got++
			_, ok := e.(Overflow)
			return ok
		})
		if got > n {
			t.Fatalf("%d events before the overflow marker", got)
		}
		// Events flow again once the backlog is gone: a new route's event
		// arrives, or another Overflow says it was lost too.
		for k := 0; ; k++ {
			if k == 100 {
				t.Fatal("no event after the overflow")
			}
			dst := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 99, 0, byte(k)}), 32)
			must(t, ns.AddRoute(Route{Dst: dst, Dev: "d0"}))
			e := waitFor(t, ev, "route or overflow", func(e Event) bool {
				r, ok := e.(RouteEvent)
				_, over := e.(Overflow)
				return over || ok && r.Route.Dst == dst
			})
			if _, over := e.(Overflow); !over {
				break
			}
		}
	}, WithEventBuffer(4), WithRcvBuf(4096))
}

func TestInterfaces(t *testing.T) {
	eachMode(t, func(t *testing.T, c *Client) {
		ns := newNS(t, c, "a")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		ifs, err := ns.Interfaces(ctx)
		must(t, err)
		waitFor(t, ifs, "lo", func(i Interface) bool { return i.Link.Name == "lo" })
		must(t, ns.AddLink(LinkSpec{Name: "d0", Kind: "dummy"}))
		waitFor(t, ifs, "d0", func(i Interface) bool { return i.Link.Name == "d0" && len(i.Addrs) == 0 })
		p1, p2 := netip.MustParsePrefix("10.1.0.1/24"), netip.MustParsePrefix("10.2.0.1/16")
		must(t, ns.AddAddr("d0", p1))
		must(t, ns.AddAddr("d0", p2))
		waitFor(t, ifs, "d0 with two addresses", func(i Interface) bool {
			return i.Link.Name == "d0" && len(i.Addrs) == 2 && i.Addrs[0].Prefix == p1 && i.Addrs[1].Prefix == p2
		})
		must(t, ns.SetLinkUp("d0"))
		waitFor(t, ifs, "d0 up, addresses kept", func(i Interface) bool {
			return i.Link.Name == "d0" && i.Link.Up() && len(i.Addrs) == 2
		})
		must(t, ns.DelAddr("d0", p1))
		waitFor(t, ifs, "d0 with one address", func(i Interface) bool {
			return i.Link.Name == "d0" && len(i.Addrs) == 1 && i.Addrs[0].Prefix == p2
		})
		must(t, ns.DelLink("d0"))
		waitFor(t, ifs, "d0 deleted", func(i Interface) bool { return i.Link.Name == "d0" && i.Deleted })
	})
}

// TestInterfacesResync: a consumer that falls far behind still ends up
// with the right view, because an overrun makes the view re-read the
// state.
func TestInterfacesResync(t *testing.T) {
	eachMode(t, func(t *testing.T, c *Client) {
		ns := newNS(t, c, "a")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		ifs, err := ns.Interfaces(ctx)
		must(t, err)
		must(t, ns.AddLink(LinkSpec{Name: "d0", Kind: "dummy"}))
		const n = 1000
		for i := range n {
			must(t, ns.AddAddr("d0", netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 30, byte(i >> 8), byte(i)}), 32)))
		}
		must(t, ns.AddLink(LinkSpec{Name: "d1", Kind: "dummy"}))
		must(t, ns.DelLink("d1"))
		i := waitFor(t, ifs, "d0 with every address", func(i Interface) bool { return i.Link.Name == "d0" && len(i.Addrs) == n })
		for k, a := range i.Addrs {
			if a.Prefix.Addr() != netip.AddrFrom4([4]byte{10, 30, byte(k >> 8), byte(k)}) {
				t.Fatalf("address %d is %v", k, a.Prefix)
			}
		}
	}, WithEventBuffer(2), WithRcvBuf(4096))
}
