package l2

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/usnet/usnet/capture"
	"github.com/usnet/usnet/drivers/ipvlan"
	"github.com/usnet/usnet/drivers/veth"
	"github.com/usnet/usnet/fib"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/stack"
	"golang.org/x/sys/unix"
)

func ipvRoute(t *testing.T, ns *stack.Namespace, dst, via string, dev *netdev.Device) {
	t.Helper()
	nh := fib.Nexthop{}
	scope := uint8(unix.RT_SCOPE_LINK)
	if via != "" {
		nh.Gateway = netip.MustParseAddr(via)
		scope = unix.RT_SCOPE_UNIVERSE
	}
	if dev != nil {
		nh.Ifindex = dev.Ifindex()
	}
	r := fib.Route{Table: unix.RT_TABLE_MAIN, Dst: netip.MustParsePrefix(dst), Type: unix.RTN_UNICAST,
		Scope: scope, Protocol: unix.RTPROT_BOOT, Nexthops: []fib.Nexthop{nh}}
	if err := ns.FIB.Add(r, unix.NLM_F_CREATE|unix.NLM_F_EXCL, fib.Info{}); err != nil {
		t.Fatalf("%s: route %s: %v", ns.Name(), dst, err)
	}
}

// ipvTopo: host h with eth0 (10.0.0.1/24) joined to an external peer ext
// (10.0.0.9/24, route to 10.1.0.0/24 via the host); two ipvlan slaves of
// h's eth0 moved into containers c1 (10.1.0.1) and c2 (10.1.0.2).
func ipvTopo(t *testing.T, mode, flags uint16) (s *stack.Stack, h, ext, c1, c2 *stack.Namespace, s1, s2, heth *netdev.Device) {
	t.Helper()
	var err error
	s, err = stack.NewSim(11)
	if err != nil {
		t.Fatal(err)
	}
	h, _ = s.Add("h")
	ext, _ = s.Add("ext")
	c1, _ = s.Add("c1")
	c2, _ = s.Add("c2")
	for _, ns := range []*stack.Namespace{h, ext, c1, c2} {
		ipvlan.Attach(ns.Dev, ns.IPv4)
		ns.Lo.Up()
	}
	heth, eext, err := veth.Create(veth.End{Table: h.Dev, Name: "eth0"}, veth.End{Table: ext.Dev, Name: "eth0"})
	if err != nil {
		t.Fatal(err)
	}
	vlAddr(t, h, heth, "10.0.0.1/24")
	vlAddr(t, ext, eext, "10.0.0.9/24")
	ipvRoute(t, ext, "10.1.0.0/24", "10.0.0.1", nil)
	for i, c := range []*stack.Namespace{c1, c2} {
		d, err := ipvlan.New(ipvlan.Config{Name: "ipvl0", Lower: heth, Mode: mode, Flags: flags})
		if err != nil {
			t.Fatal(err)
		}
		if d.Addr() != heth.Addr() {
			t.Fatalf("slave MAC %v, want the lower's %v", d.Addr(), heth.Addr())
		}
		if err := netdev.Move(d, c.Dev); err != nil {
			t.Fatal(err)
		}
		addr := []string{"10.1.0.1/24", "10.1.0.2/24"}[i]
		vlAddr(t, c, d, addr)
		ipvRoute(t, c, "0.0.0.0/0", "", d)
		if i == 0 {
			s1 = d
		} else {
			s2 = d
		}
	}
	s.Sim.RunFor(10 * time.Millisecond)
	return
}

// TestIPVlanL3Routing: l3 slaves in two containers reach each other
// directly and the external peer through the lower device, routed in the
// host's namespace; the frames on the wire carry the shared MAC and no
// ARP for the slaves' addresses (they are NOARP).
func TestIPVlanL3Routing(t *testing.T) {
	s, _, ext, c1, _, s1, s2, heth := ipvTopo(t, ipvlan.ModeL3, 0)
	var pcap bytes.Buffer
	c, err := capture.Start(heth, &pcap, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s1.Flags()&netdev.FlagNoARP == 0 || s1.OperState() != netdev.OperUp {
		t.Fatalf("l3 slave: flags %#x oper %v, want NOARP and UP", s1.Flags(), s1.OperState())
	}
	if l, n := s1.Link(); l != heth.Ifindex() || n == nil {
		t.Fatalf("slave IFLA_LINK %d %v", l, n)
	}
	if !vlPing(t, s, c1, "10.1.0.2", 1) {
		t.Fatal("c1 cannot reach c2")
	}
	if !vlPing(t, s, c1, "10.0.0.9", 2) {
		t.Fatal("c1 cannot reach the external peer")
	}
	if !vlPing(t, s, ext, "10.1.0.2", 3) {
		t.Fatal("the external peer cannot reach c2")
	}
	if s2.Stats.RxPackets == 0 {
		t.Fatal("c2 received nothing")
	}
	c.Stop()
	file := filepath.Join(t.TempDir(), "ipvlan.pcapng")
	if err := os.WriteFile(file, pcap.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	// Echo requests from c1 to the peer leave with the host's MAC and the
	// slave's address; no ARP ever asks for a slave's address.
	lines := vlTshark(t, file, "icmp.type == 8 && ip.src == 10.1.0.1", "eth.src", "ip.dst")
	if len(lines) != 1 || lines[0] != netdev.FormatMAC(heth.Addr())+",10.0.0.9" {
		t.Fatalf("tshark echo request from c1: %q", lines)
	}
	if lines := vlTshark(t, file, "arp.dst.proto_ipv4 == 10.1.0.1 || arp.dst.proto_ipv4 == 10.1.0.2", "frame.number"); len(lines) != 1 || lines[0] != "" {
		t.Fatalf("ARP for a slave address on the wire: %q", lines)
	}
	// c1 -> c2 never touched the wire.
	if lines := vlTshark(t, file, "ip.src == 10.1.0.1 && ip.dst == 10.1.0.2", "frame.number"); len(lines) != 1 || lines[0] != "" {
		t.Fatalf("slave-to-slave traffic on the wire: %q", lines)
	}
}

// TestIPVlanL3Private: private slaves do not reach each other but still
// reach the outside.
func TestIPVlanL3Private(t *testing.T) {
	s, _, _, c1, _, _, _, _ := ipvTopo(t, ipvlan.ModeL3, ipvlan.FlagPrivate)
	if vlPing(t, s, c1, "10.1.0.2", 1) {
		t.Fatal("private slaves reached each other")
	}
	if !vlPing(t, s, c1, "10.0.0.9", 2) {
		t.Fatal("private slave cannot reach the external peer")
	}
}

// TestIPVlanL2: l2 slaves resolve neighbours themselves (ARP through the
// lower device) and reach the peer on the lower's link and each other.
func TestIPVlanL2(t *testing.T) {
	s, _, ext, c1, _, s1, _, _ := ipvTopo(t, ipvlan.ModeL2, 0)
	if s1.Flags()&netdev.FlagNoARP != 0 {
		t.Fatal("l2 slave is NOARP")
	}
	// In l2 mode the peer reaches the containers on its own link.
	vlAddr(t, ext, ext.Dev.ByName("eth0"), "10.1.0.9/24")
	s.Sim.RunFor(time.Millisecond)
	if !vlPing(t, s, c1, "10.1.0.9", 1) {
		t.Fatal("l2 slave cannot reach the peer on the lower's link")
	}
	if !vlPing(t, s, ext, "10.1.0.2", 3) {
		t.Fatal("the peer cannot reach c2")
	}
	// Slaves share one MAC, so their ARP packets carry a sender hardware
	// address equal to the receiver's own; as Linux, arp accepts them
	// (only a reflection of our own address is dropped).
	if !vlPing(t, s, c1, "10.1.0.2", 2) {
		t.Fatal("l2 slaves cannot reach each other")
	}
}
