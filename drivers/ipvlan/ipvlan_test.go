package ipvlan_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/usnet/usnet/drivers/ipvlan"
	"github.com/usnet/usnet/drivers/veth"
	"github.com/usnet/usnet/fib"
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/stack"
	"golang.org/x/sys/unix"
)

func addAddr(t *testing.T, ns *stack.Namespace, d *netdev.Device, cidr string) {
	t.Helper()
	p := netip.MustParsePrefix(cidr)
	var err error
	ns.Exec().Do(func() {
		if _, err = ns.IPv4.AddAddr(ipv4.IfAddr{Dev: d, Local: p.Addr(), Prefix: p}); err == nil {
			err = d.Up()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}

func addRoute(t *testing.T, ns *stack.Namespace, dst string, nh fib.Nexthop, scope uint8) {
	t.Helper()
	r := fib.Route{Table: unix.RT_TABLE_MAIN, Dst: netip.MustParsePrefix(dst), Type: unix.RTN_UNICAST,
		Scope: scope, Protocol: unix.RTPROT_BOOT, Nexthops: []fib.Nexthop{nh}}
	var err error
	ns.Exec().Do(func() { err = ns.FIB.Add(r, unix.NLM_F_CREATE|unix.NLM_F_EXCL, fib.Info{}) })
	if err != nil {
		t.Fatal(err)
	}
}

// TestL3RealTime: an l3 slave in a container talks UDP to a peer through
// its lower device in another namespace, each namespace on its own
// executor goroutine (run it with -race).
func TestL3RealTime(t *testing.T) {
	s, err := stack.NewRealtime()
	if err != nil {
		t.Fatal(err)
	}
	h, _ := s.Add("h")
	ext, _ := s.Add("ext")
	c1, _ := s.Add("c1")
	defer func() {
		for _, n := range []string{"c1", "ext", "h"} {
			s.Delete(n)
		}
	}()
	for _, ns := range []*stack.Namespace{h, ext, c1} {
		ns.Exec().Do(func() {
			ipvlan.Attach(ns.Dev, ns.IPv4)
			ns.Lo.Up()
		})
	}
	eh, ee, err := veth.Create(veth.End{Table: h.Dev, Name: "eth0"}, veth.End{Table: ext.Dev, Name: "eth0"})
	if err != nil {
		t.Fatal(err)
	}
	addAddr(t, h, eh, "10.0.0.1/24")
	addAddr(t, ext, ee, "10.0.0.9/24")
	addRoute(t, ext, "10.1.0.0/24", fib.Nexthop{Gateway: netip.MustParseAddr("10.0.0.1")}, unix.RT_SCOPE_UNIVERSE)
	var sl *netdev.Device
	h.Exec().Do(func() { sl, err = ipvlan.New(ipvlan.Config{Name: "ipvl0", Lower: eh, Mode: ipvlan.ModeL3}) })
	if err != nil {
		t.Fatal(err)
	}
	if err := netdev.Move(sl, c1.Dev); err != nil {
		t.Fatal(err)
	}
	addAddr(t, c1, sl, "10.1.0.1/24")
	addRoute(t, c1, "0.0.0.0/0", fib.Nexthop{Ifindex: sl.Ifindex()}, unix.RT_SCOPE_LINK)

	srv, err := ext.ListenPacket("udp", "10.0.0.9:7")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := srv.ReadFrom(buf)
			if err != nil {
				return
			}
			srv.WriteTo(buf[:n], from)
		}
	}()
	c, err := c1.Dial("udp", "10.0.0.9:7")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 64)
	for i := range 5 {
		if _, err := c.Write([]byte("through the lower")); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("echo %d: %v", i, err)
		}
		if string(buf[:n]) != "through the lower" {
			t.Fatalf("echo %q", buf[:n])
		}
	}
}
