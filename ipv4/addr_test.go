package ipv4_test

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/usnet/usnet/drivers/veth"
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/stack"
)

// recHooks records the kernel routes an address implies.
type recHooks struct{ log []string }

func (r *recHooks) AddKernelRoute(k ipv4.KernelRoute) error {
	r.log = append(r.log, "add "+fmtRoute(k))
	return nil
}
func (r *recHooks) DelKernelRoute(k ipv4.KernelRoute) error {
	r.log = append(r.log, "del "+fmtRoute(k))
	return nil
}
func (r *recHooks) FlushDev(i int)            { r.log = append(r.log, fmt.Sprintf("flushdev %d", i)) }
func (r *recHooks) FlushPrefsrc(a netip.Addr) { r.log = append(r.log, "flushsrc "+a.String()) }
func (r *recHooks) take() string              { s := strings.Join(r.log, "; "); r.log = nil; return s }

var typeNames = map[uint8]string{1: "unicast", 2: "local", 3: "broadcast"}

func fmtRoute(k ipv4.KernelRoute) string {
	return fmt.Sprintf("%s %v table %d src %v", typeNames[k.Type], k.Dst, k.Table, k.Prefsrc)
}

func setup(t *testing.T) (*ipv4.Layer, *recHooks, *netdev.Device, *stack.Stack) {
	s, _ := stack.NewSim(1)
	a, _ := s.Add("a")
	b, _ := s.Add("b")
	d, _, err := veth.Create(veth.End{Table: a.Dev, Name: "eth0"}, veth.End{Table: b.Dev, Name: "eth0"})
	if err != nil {
		t.Fatal(err)
	}
	h := &recHooks{}
	l := ipv4.New(a.Dev, nil, nil, h)
	return l, h, d, s
}

func pfx(s string) (netip.Addr, netip.Prefix) {
	p := netip.MustParsePrefix(s)
	return p.Addr(), p
}

func add(t *testing.T, l *ipv4.Layer, d *netdev.Device, cidr string) *ipv4.IfAddr {
	t.Helper()
	a, p := pfx(cidr)
	ifa, err := l.AddAddr(ipv4.IfAddr{Dev: d, Local: a, Prefix: p})
	if err != nil {
		t.Fatal(err)
	}
	return ifa
}

// TestAddressRoutes checks fib_add_ifaddr's routes: local always, prefix
// and subnet broadcast only once the device is up, none for a secondary
// but its local route (with the primary as source).
func TestAddressRoutes(t *testing.T) {
	l, h, d, _ := setup(t)
	add(t, l, d, "10.0.0.1/24")
	if got := h.take(); got != "add local 10.0.0.1/32 table 255 src 10.0.0.1" {
		t.Fatalf("device down: %s", got)
	}
	d.Up()
	want := "add local 10.0.0.1/32 table 255 src 10.0.0.1; add unicast 10.0.0.0/24 table 254 src 10.0.0.1; add broadcast 10.0.0.255/32 table 255 src 10.0.0.1"
	if got := h.take(); got != want {
		t.Fatalf("device up:\n got %s\nwant %s", got, want)
	}
	sec := add(t, l, d, "10.0.0.2/24")
	if !sec.Secondary() {
		t.Fatal("second address in the subnet is not secondary")
	}
	if got := h.take(); got != "add local 10.0.0.2/32 table 255 src 10.0.0.1" {
		t.Fatalf("secondary: %s", got)
	}
	add(t, l, d, "192.168.7.9/32")
	if got := h.take(); got != "add local 192.168.7.9/32 table 255 src 192.168.7.9" {
		t.Fatalf("/32: %s", got)
	}
	a, p := pfx("10.0.0.1/24")
	if _, err := l.AddAddr(ipv4.IfAddr{Dev: d, Local: a, Prefix: p}); !errors.Is(err, syscall.EEXIST) {
		t.Fatalf("duplicate: %v", err)
	}
	a, p = pfx("10.0.0.7/24")
	if _, err := l.AddAddr(ipv4.IfAddr{Dev: d, Local: a, Prefix: p, Scope: 253}); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("scope mismatch: %v", err)
	}
}

func TestPromoteSecondaries(t *testing.T) {
	l, h, d, _ := setup(t)
	d.Up()
	if l.All.PromoteSecondaries || l.Conf(d.Ifindex()).PromoteSecondaries {
		t.Fatal("promote_secondaries on in a fresh namespace; Linux's new namespaces have it off")
	}
	l.All.PromoteSecondaries = true
	add(t, l, d, "10.0.0.1/24")
	add(t, l, d, "10.0.0.2/24")
	add(t, l, d, "10.0.0.3/24")
	h.take()
	var events []string
	l.SubscribeAddrs(func(ev ipv4.AddrEvent, a *ipv4.IfAddr) {
		events = append(events, fmt.Sprintf("%d %v sec=%v", ev, a.Local, a.Secondary()))
	})
	if err := l.DelAddr(d, netip.MustParseAddr("10.0.0.1"), 24); err != nil {
		t.Fatal(err)
	}
	got := l.Addrs(d.Ifindex())
	if len(got) != 2 || got[0].Local.String() != "10.0.0.2" || got[0].Secondary() || !got[1].Secondary() {
		t.Fatalf("after delete: %v", got)
	}
	if fmt.Sprint(events) != "[1 10.0.0.1 sec=false 0 10.0.0.2 sec=false]" {
		t.Fatalf("events %v", events)
	}
	// With promote_secondaries off, deleting the primary removes them all.
	l.All.PromoteSecondaries = false
	l.Conf(d.Ifindex()).PromoteSecondaries = false
	if err := l.DelAddr(d, netip.MustParseAddr("10.0.0.2"), 24); err != nil {
		t.Fatal(err)
	}
	if n := len(l.Addrs(d.Ifindex())); n != 0 {
		t.Fatalf("%d addresses left", n)
	}
	if err := l.DelAddr(d, netip.MustParseAddr("10.0.0.2"), 24); !errors.Is(err, syscall.EADDRNOTAVAIL) {
		t.Fatalf("second delete: %v", err)
	}
}

func TestSelectSource(t *testing.T) {
	l, _, d, s := setup(t)
	add(t, l, d, "10.0.0.1/24")
	add(t, l, d, "10.0.1.1/24")
	add(t, l, d, "10.0.0.5/24")
	if got := l.SelectSource(d, netip.MustParseAddr("10.0.1.77"), 0); got.String() != "10.0.1.1" {
		t.Fatalf("matching subnet: %v", got)
	}
	if got := l.SelectSource(d, netip.MustParseAddr("8.8.8.8"), 0); got.String() != "10.0.0.1" {
		t.Fatalf("first primary: %v", got)
	}
	ns := s.Get("a")
	lo := ns.Lo
	if got := l.SelectSource(lo, netip.MustParseAddr("8.8.8.8"), 0); got.String() != "10.0.0.1" {
		t.Fatalf("other device's global primary: %v", got)
	}
	_ = time.Second
}
