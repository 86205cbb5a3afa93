package l2

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/usnet/usnet/capture"
	"github.com/usnet/usnet/drivers/veth"
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/stack"
)

// TestBridgeVlanIsolation: with vlan_filtering, h1 and h2 (PVID 10) talk,
// h3 (PVID 20) is cut off from them, and the trunk port p4 (10 and 20
// tagged) sends VLAN 10's broadcasts with an 802.1Q tag that tshark
// decodes.
func TestBridgeVlanIsolation(t *testing.T) {
	s, _ := stack.NewSim(5)
	sw := brNew(t, s, "sw", false)
	var hosts []*stack.Namespace
	var ports []*netdev.Device
	for i := range 4 {
		h, err := s.Add("h" + string(rune('1'+i)))
		if err != nil {
			t.Fatal(err)
		}
		eth, p, err := veth.Create(veth.End{Table: h.Dev, Name: "eth0"}, veth.End{Table: sw.ns.Dev, Name: "p%d"})
		if err != nil {
			t.Fatal(err)
		}
		ip := netip.AddrFrom4([4]byte{10, 0, 0, byte(i + 1)})
		h.Exec().Do(func() {
			eth.Up()
			_, err = h.IPv4.AddAddr(ipv4.IfAddr{Dev: eth, Local: ip, Prefix: netip.PrefixFrom(ip, 24)})
		})
		if err != nil {
			t.Fatal(err)
		}
		sw.ns.Exec().Do(func() {
			if err = sw.br.AddPort(p); err == nil {
				err = p.Up()
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		hosts = append(hosts, h)
		ports = append(ports, p)
	}
	var err error
	sw.ns.Exec().Do(func() {
		br := sw.br
		br.SetVlanFiltering(true)
		for i, vid := range []uint16{10, 10, 20} {
			if err == nil {
				err = br.VlanDel(ports[i], 1)
			}
			if err == nil {
				err = br.VlanAdd(ports[i], vid, true, true)
			}
		}
		if err == nil {
			err = br.VlanDel(ports[3], 1)
		}
		for _, vid := range []uint16{10, 20} {
			if err == nil {
				err = br.VlanAdd(ports[3], vid, false, false)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	pcap := filepath.Join(t.TempDir(), "vlan.pcapng")
	f, err := os.Create(pcap)
	if err != nil {
		t.Fatal(err)
	}
	var c *capture.Capture
	sw.ns.Exec().Do(func() { c, err = capture.Start(ports[3], f, capture.Options{}) })
	if err != nil {
		t.Fatal(err)
	}
	brUp(t, sw, netip.Addr{})
	s.Sim.RunFor(10 * time.Millisecond)

	if !brPing(t, s, hosts[0], netip.MustParseAddr("10.0.0.2"), 1, time.Second) {
		t.Fatal("h1 → h2 (both VLAN 10) failed")
	}
	if brPing(t, s, hosts[0], netip.MustParseAddr("10.0.0.3"), 2, 4*time.Second) {
		t.Fatal("h1 (VLAN 10) reached h3 (VLAN 20)")
	}
	if brPing(t, s, hosts[2], netip.MustParseAddr("10.0.0.2"), 3, 4*time.Second) {
		t.Fatal("h3 (VLAN 20) reached h2 (VLAN 10)")
	}
	// Learned entries carry the VLAN.
	if e, ok := sw.br.Lookup(hostMAC(hosts[0]), 10); !ok || e.Port != ports[0] {
		t.Fatalf("h1 not learned on VLAN 10: %+v %v", e, ok)
	}
	if _, ok := sw.br.Lookup(hostMAC(hosts[0]), 0); ok {
		t.Fatal("entry learned without VLAN under vlan_filtering")
	}
	sw.ns.Exec().Do(func() { err = c.Stop() })
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	out := brTshark(t, pcap, "vlan", "vlan.id,vlan.etype")
	if out != "" {
		ids := map[string]bool{}
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			ids[strings.Fields(l)[0]] = true
		}
		if !ids["10"] || !ids["20"] || len(ids) != 2 {
			t.Fatalf("VLAN ids seen on the trunk: %v, want 10 and 20", ids)
		}
	}
}

func hostMAC(h *stack.Namespace) [6]byte { return h.Dev.ByName("eth0").Addr() }
