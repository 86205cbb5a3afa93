package macvlan_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/usnet/usnet/drivers/macvlan"
	"github.com/usnet/usnet/drivers/veth"
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/stack"
)

// TestMovedMacvlanRealTime: two bridge-mode macvlans moved into their own
// namespaces talk UDP to each other (directly, on the lower's executor)
// and to the peer on the lower's link, each namespace on its own executor
// goroutine (run it with -race).
func TestMovedMacvlanRealTime(t *testing.T) {
	s, err := stack.NewRealtime()
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"h", "p", "c1", "c2"}
	ns := map[string]*stack.Namespace{}
	for _, n := range names {
		ns[n], _ = s.Add(n)
	}
	defer func() {
		for _, n := range names {
			s.Delete(n)
		}
	}()
	addr := func(n string, d *netdev.Device, cidr string) {
		p := netip.MustParsePrefix(cidr)
		var err error
		ns[n].Exec().Do(func() {
			if _, err = ns[n].IPv4.AddAddr(ipv4.IfAddr{Dev: d, Local: p.Addr(), Prefix: p}); err == nil {
				err = d.Up()
			}
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	eh, ep, err := veth.Create(veth.End{Table: ns["h"].Dev, Name: "eth0"}, veth.End{Table: ns["p"].Dev, Name: "eth0"})
	if err != nil {
		t.Fatal(err)
	}
	ns["h"].Exec().Do(func() { eh.Up() })
	addr("p", ep, "10.0.0.9/24")
	for i, c := range []string{"c1", "c2"} {
		var mv *netdev.Device
		ns["h"].Exec().Do(func() {
			mv, err = macvlan.New(macvlan.Config{Name: "mv0", Lower: eh, Mode: macvlan.ModeBridge})
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := netdev.Move(mv, ns[c].Dev); err != nil {
			t.Fatal(err)
		}
		if l, n := mv.Link(); l != eh.Ifindex() || n == nil {
			t.Fatalf("moved macvlan IFLA_LINK %d %v", l, n)
		}
		addr(c, mv, []string{"10.0.0.11/24", "10.0.0.12/24"}[i])
	}
	echo := func(n, at string) {
		srv, err := ns[n].ListenPacket("udp", at)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		go func() {
			buf := make([]byte, 1500)
			for {
				k, from, err := srv.ReadFrom(buf)
				if err != nil {
					return
				}
				srv.WriteTo(buf[:k], from)
			}
		}()
	}
	echo("p", "10.0.0.9:7")
	echo("c2", "10.0.0.12:7")
	for _, dst := range []string{"10.0.0.9:7", "10.0.0.12:7"} {
		c, err := ns["c1"].Dial("udp", dst)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 64)
		for i := range 3 {
			c.Write([]byte("hi"))
			c.SetReadDeadline(time.Now().Add(3 * time.Second))
			if n, err := c.Read(buf); err != nil || string(buf[:n]) != "hi" {
				t.Fatalf("%s echo %d: %q %v", dst, i, buf[:n], err)
			}
		}
		c.Close()
	}
}
