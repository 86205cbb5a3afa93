package ipv4_test

import (
	"fmt"
	"testing"

	"github.com/usnet/usnet/drivers/veth"
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/stack"
)

// TestSetConfForwarding checks inet_forward_change: all, default, then
// every device, all.accept_redirects following, no event without change.
func TestSetConfForwarding(t *testing.T) {
	s, _ := setupStack(t)
	l := s.a.IPv4
	var ev []string
	l.SubscribeConf(func(i int, f ipv4.ConfField) { ev = append(ev, fmt.Sprint(i, ":", int(f))) })
	if err := l.SetConf(ipv4.ConfAll, ipv4.ConfForwarding, 1); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprint([]string{"-1:1", "-2:1", "1:1", fmt.Sprint(s.d.Ifindex(), ":1")})
	if fmt.Sprint(ev) != want {
		t.Fatalf("events %v, want %v", ev, want)
	}
	if l.All.AcceptRedirects || !l.Deflt.Forwarding || !l.Forwarding(s.d.Ifindex()) {
		t.Fatalf("all %+v default %+v", l.All, l.Deflt)
	}
	ev = nil
	l.SetConf(ipv4.ConfAll, ipv4.ConfForwarding, 1)
	l.SetConf(ipv4.ConfDefault, ipv4.ConfForwarding, 0)
	l.SetConf(s.d.Ifindex(), ipv4.ConfForwarding, 0)
	if want := fmt.Sprint([]string{"-2:1", fmt.Sprint(s.d.Ifindex(), ":1")}); fmt.Sprint(ev) != want {
		t.Fatalf("events %v, want %v", ev, want)
	}
	if err := l.SetConf(99, ipv4.ConfForwarding, 1); err == nil {
		t.Fatal("unknown device accepted")
	}
}

// TestSetConfDefault checks devinet_copy_dflt_conf: a write to default
// reaches the devices that never had the setting written, and new devices
// copy default.
func TestSetConfDefault(t *testing.T) {
	s, _ := setupStack(t)
	l := s.a.IPv4
	var ev []string
	l.SubscribeConf(func(i int, f ipv4.ConfField) { ev = append(ev, fmt.Sprint(i, ":", int(f))) })
	dev := s.d.Ifindex()
	l.SetConf(dev, ipv4.ConfRPFilter, 2)
	l.SetConf(ipv4.ConfDefault, ipv4.ConfRPFilter, 1)
	l.SetConf(ipv4.ConfDefault, ipv4.ConfARPIgnore, 1)
	if c, _ := l.ConfOf(dev); c.RPFilter != 2 || c.ARPIgnore != 1 {
		t.Fatalf("dev conf %+v", c)
	}
	if c, _ := l.ConfOf(1); c.RPFilter != 1 {
		t.Fatalf("lo conf %+v", c)
	}
	d2, _, err := veth.Create(veth.End{Table: s.a.Dev, Name: "eth1"}, veth.End{Table: s.b.Dev, Name: "eth1"})
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := l.ConfOf(d2.Ifindex()); c.RPFilter != 1 || c.ARPIgnore != 1 || !c.AcceptSourceRoute {
		t.Fatalf("new device conf %+v", c)
	}
	// The copy took default's written bits: a later default write skips it.
	l.SetConf(ipv4.ConfDefault, ipv4.ConfRPFilter, 0)
	if c, _ := l.ConfOf(d2.Ifindex()); c.RPFilter != 1 {
		t.Fatalf("new device rp_filter %d after default write", c.RPFilter)
	}
	// Loopback, once up, no longer follows default (ipv4_devconf_setall).
	s.a.Lo.Up()
	l.SetConf(ipv4.ConfDefault, ipv4.ConfLogMartians, 1)
	if c, _ := l.ConfOf(s.a.Lo.Ifindex()); c.LogMartians {
		t.Fatal("lo followed default after coming up")
	}
	if c, _ := l.ConfOf(dev); !c.LogMartians {
		t.Fatal("device did not follow default")
	}
	if want := fmt.Sprint([]string{fmt.Sprint(dev, ":8"), "-2:8", "-2:8"}); fmt.Sprint(ev) != want {
		t.Fatalf("events %v, want %v", ev, want)
	}
}

type confStack struct {
	a, b *stack.Namespace
	d    *netdev.Device
}

func setupStack(t *testing.T) (confStack, *stack.Stack) {
	s, _ := stack.NewSim(1)
	a, _ := s.Add("a")
	b, _ := s.Add("b")
	d, _, err := veth.Create(veth.End{Table: a.Dev, Name: "eth0"}, veth.End{Table: b.Dev, Name: "eth0"})
	if err != nil {
		t.Fatal(err)
	}
	return confStack{a, b, d}, s
}
