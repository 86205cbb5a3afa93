package nlinterop

import (
	"errors"
	"net"
	"path/filepath"
	"slices"
	"testing"

	"github.com/jsimonetti/rtnetlink/v2"
	"github.com/jsimonetti/rtnetlink/v2/driver"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/usnet/usnet/daemon"
	"github.com/usnet/usnet/rtnl"
	"github.com/usnet/usnet/stack"
)

// dialer opens a Transport in namespace ns of a fresh stack.
type dialer func(t *testing.T, ns string) Transport

func inProcess(t *testing.T) dialer {
	st, err := stack.NewRealtime()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Add("interop"); err != nil {
		t.Fatal(err)
	}
	srv := rtnl.New(st)
	return func(t *testing.T, ns string) Transport {
		s, err := srv.Open(ns, rtnl.Cred{Admin: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
}

func overDaemon(t *testing.T) dialer {
	st, err := stack.NewRealtime()
	if err != nil {
		t.Fatal(err)
	}
	d, err := daemon.Listen(filepath.Join(t.TempDir(), "usnet.sock"), st)
	if err != nil {
		t.Fatal(err)
	}
	go d.Serve()
	t.Cleanup(func() { d.Close() })
	if err := daemon.NetnsAdd(d.Path(), "interop"); err != nil {
		t.Fatal(err)
	}
	return func(t *testing.T, ns string) Transport {
		c, err := daemon.Dial(d.Path(), ns)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
}

const (
	request = netlink.Request
	ack     = netlink.Request | netlink.Acknowledge
	create  = ack | netlink.Create | netlink.Excl
	dump    = netlink.Request | netlink.Dump
)

// execute sends one rtnetlink message and returns the replies.
func execute(t *testing.T, c *netlink.Conn, typ uint16, flags netlink.HeaderFlags, m interface{ MarshalBinary() ([]byte, error) }) ([]netlink.Message, error) {
	t.Helper()
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return c.Execute(netlink.Message{Header: netlink.Header{Type: netlink.HeaderType(typ), Flags: flags}, Data: b})
}

func links(t *testing.T, c *netlink.Conn) map[string]rtnetlink.LinkMessage {
	t.Helper()
	msgs, err := execute(t, c, unix.RTM_GETLINK, dump, &rtnetlink.LinkMessage{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]rtnetlink.LinkMessage{}
	for _, m := range msgs {
		var l rtnetlink.LinkMessage
		if err := l.UnmarshalBinary(m.Data); err != nil {
			t.Fatalf("jsimonetti cannot decode usnet's RTM_NEWLINK: %v", err)
		}
		out[l.Attributes.Name] = l
	}
	return out
}

func addrs(t *testing.T, c *netlink.Conn) []rtnetlink.AddressMessage {
	t.Helper()
	msgs, err := execute(t, c, unix.RTM_GETADDR, dump, &rtnetlink.AddressMessage{Family: unix.AF_INET})
	if err != nil {
		t.Fatal(err)
	}
	var out []rtnetlink.AddressMessage
	for _, m := range msgs {
		var a rtnetlink.AddressMessage
		if err := a.UnmarshalBinary(m.Data); err != nil {
			t.Fatalf("jsimonetti cannot decode usnet's RTM_NEWADDR: %v", err)
		}
		out = append(out, a)
	}
	return out
}

func routes(t *testing.T, c *netlink.Conn) []rtnetlink.RouteMessage {
	t.Helper()
	msgs, err := execute(t, c, unix.RTM_GETROUTE, dump, &rtnetlink.RouteMessage{Family: unix.AF_INET})
	if err != nil {
		t.Fatal(err)
	}
	var out []rtnetlink.RouteMessage
	for _, m := range msgs {
		var r rtnetlink.RouteMessage
		if err := r.UnmarshalBinary(m.Data); err != nil {
			t.Fatalf("jsimonetti cannot decode usnet's RTM_NEWROUTE: %v", err)
		}
		out = append(out, r)
	}
	return out
}

func findRoute(rs []rtnetlink.RouteMessage, dst string, bits uint8) *rtnetlink.RouteMessage {
	for i := range rs {
		if rs[i].DstLength == bits && rs[i].Attributes.Dst.String() == dst && rs[i].Table == unix.RT_TABLE_MAIN {
			return &rs[i]
		}
	}
	return nil
}

func TestMdlayherJsimonetti(t *testing.T) {
	for _, mode := range []struct {
		name string
		open func(*testing.T) dialer
	}{{"inprocess", inProcess}, {"daemon", overDaemon}} {
		t.Run(mode.name, func(t *testing.T) {
			dial := mode.open(t)
			c := NewConn(dial(t, "interop"))
			if err := c.SetOption(netlink.ExtendedAcknowledge, true); err != nil {
				t.Fatal(err)
			}
			// A second connection listens to link and address notifications.
			mon := NewConn(dial(t, "interop"))
			if err := mon.JoinGroup(unix.RTNLGRP_LINK); err != nil {
				t.Fatal(err)
			}
			// Over the daemon a join is applied in order with the
			// connection's requests but not answered: a dump on mon
			// proves it is in place before c changes anything (the
			// veth's RTM_NEWLINK was missed once, and Receive waited
			// forever).
			links(t, mon)

			// List links: a new namespace has lo only.
			ls := links(t, c)
			if lo, ok := ls["lo"]; !ok || len(ls) != 1 || lo.Index != 1 || lo.Attributes.MTU != 65536 {
				t.Fatalf("links %+v", ls)
			}

			// Create a veth pair with jsimonetti's veth driver data.
			veth := &rtnetlink.LinkMessage{
				Family: unix.AF_UNSPEC,
				Attributes: &rtnetlink.LinkAttributes{
					Name: "veth0",
					Info: &rtnetlink.LinkInfo{Kind: "veth", Data: &driver.Veth{
						PeerInfo: &rtnetlink.LinkMessage{Attributes: &rtnetlink.LinkAttributes{Name: "veth1"}},
					}},
				},
			}
			if _, err := execute(t, c, unix.RTM_NEWLINK, create, veth); err != nil {
				t.Fatal(err)
			}
			_, err := execute(t, c, unix.RTM_NEWLINK, create, veth)
			var oe *netlink.OpError
			if !errors.Is(err, unix.EEXIST) || !errors.As(err, &oe) {
				t.Fatalf("second veth add: %v", err)
			}
			// The monitor sees the new link.
			for {
				msgs, err := mon.Receive()
				if err != nil {
					t.Fatal(err)
				}
				var l rtnetlink.LinkMessage
				if msgs[0].Header.Type == unix.RTM_NEWLINK && l.UnmarshalBinary(msgs[0].Data) == nil && l.Attributes.Name == "veth0" {
					break
				}
			}
			ls = links(t, c)
			v0, v1 := ls["veth0"], ls["veth1"]
			if v0.Index == 0 || v1.Index == 0 || v0.Attributes.Info == nil || v0.Attributes.Info.Kind != "veth" || len(v0.Attributes.Address) != 6 {
				t.Fatalf("veth pair %+v %+v", v0.Attributes, v1.Attributes)
			}

			// Set both ends up.
			for _, l := range []rtnetlink.LinkMessage{v0, v1} {
				up := &rtnetlink.LinkMessage{Family: unix.AF_UNSPEC, Index: l.Index, Flags: unix.IFF_UP, Change: unix.IFF_UP}
				if _, err := execute(t, c, unix.RTM_NEWLINK, ack, up); err != nil {
					t.Fatal(err)
				}
			}
			ls = links(t, c)
			if ls["veth0"].Flags&unix.IFF_UP == 0 || ls["veth1"].Attributes.OperationalState != rtnetlink.OperStateUp {
				t.Fatalf("after up: %+v %+v", ls["veth0"], ls["veth1"].Attributes)
			}

			// Add an address.
			ip := net.IPv4(10, 1, 0, 1).To4()
			addr := &rtnetlink.AddressMessage{
				Family: unix.AF_INET, PrefixLength: 24, Index: v0.Index,
				Attributes: &rtnetlink.AddressAttributes{Address: ip, Local: ip},
			}
			if _, err := execute(t, c, unix.RTM_NEWADDR, create, addr); err != nil {
				t.Fatal(err)
			}
			as := addrs(t, c)
			if !slices.ContainsFunc(as, func(a rtnetlink.AddressMessage) bool {
				return a.Index == v0.Index && a.PrefixLength == 24 && a.Attributes.Local.Equal(ip) && a.Attributes.Label == "veth0"
			}) {
				t.Fatalf("addresses %+v", as)
			}

			// Add a route through a gateway, and list it.
			route := &rtnetlink.RouteMessage{
				Family: unix.AF_INET, DstLength: 16, Table: unix.RT_TABLE_MAIN,
				Protocol: unix.RTPROT_BOOT, Scope: unix.RT_SCOPE_UNIVERSE, Type: unix.RTN_UNICAST,
				Attributes: rtnetlink.RouteAttributes{
					Dst: net.IPv4(10, 2, 0, 0).To4(), Gateway: net.IPv4(10, 1, 0, 2).To4(), OutIface: v0.Index, Priority: 5,
				},
			}
			if _, err := execute(t, c, unix.RTM_NEWROUTE, create, route); err != nil {
				t.Fatal(err)
			}
			if _, err := execute(t, c, unix.RTM_NEWROUTE, create, route); !errors.Is(err, unix.EEXIST) {
				t.Fatalf("second route add: %v", err)
			}
			rs := routes(t, c)
			r := findRoute(rs, "10.2.0.0", 16)
			if r == nil || !r.Attributes.Gateway.Equal(net.IPv4(10, 1, 0, 2)) || r.Attributes.OutIface != v0.Index || r.Attributes.Priority != 5 {
				t.Fatalf("route 10.2.0.0/16 in %+v", rs)
			}
			if findRoute(rs, "10.1.0.0", 24) == nil {
				t.Fatalf("no prefix route in %+v", rs)
			}

			// Delete the route, the address, the link.
			if _, err := execute(t, c, unix.RTM_DELROUTE, ack, route); err != nil {
				t.Fatal(err)
			}
			if _, err := execute(t, c, unix.RTM_DELROUTE, ack, route); !errors.Is(err, unix.ESRCH) {
				t.Fatalf("second route del: %v", err)
			}
			if findRoute(routes(t, c), "10.2.0.0", 16) != nil {
				t.Fatal("route survived its deletion")
			}
			if _, err := execute(t, c, unix.RTM_DELADDR, ack, addr); err != nil {
				t.Fatal(err)
			}
			if as := addrs(t, c); slices.ContainsFunc(as, func(a rtnetlink.AddressMessage) bool { return a.Index == v0.Index }) {
				t.Fatalf("address survived: %+v", as)
			}
			if _, err := execute(t, c, unix.RTM_DELLINK, ack, &rtnetlink.LinkMessage{Index: v0.Index}); err != nil {
				t.Fatal(err)
			}
			if ls := links(t, c); len(ls) != 1 {
				t.Fatalf("links after delete: %v", ls)
			}
			// An unknown device is ENODEV, with the kernel's errno.
			if _, err := execute(t, c, unix.RTM_DELLINK, ack, &rtnetlink.LinkMessage{Index: v0.Index}); !errors.Is(err, unix.ENODEV) {
				t.Fatalf("second link del: %v", err)
			}
		})
	}
}
