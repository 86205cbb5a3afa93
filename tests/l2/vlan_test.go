package l2

import (
	"bytes"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/usnet/usnet/capture"
	"github.com/usnet/usnet/drivers/veth"
	"github.com/usnet/usnet/drivers/vlan"
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/stack"
	"golang.org/x/sys/unix"
)

// vlanPair builds two namespaces a and b joined by a veth pair eth0-eth0,
// both ends up, loopbacks up.
func vlanPair(t *testing.T, seed uint64) (*stack.Stack, *stack.Namespace, *stack.Namespace, *netdev.Device, *netdev.Device) {
	t.Helper()
	s, err := stack.NewSim(seed)
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.Add("a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Add("b")
	if err != nil {
		t.Fatal(err)
	}
	da, db, err := veth.Create(veth.End{Table: a.Dev, Name: "eth0"}, veth.End{Table: b.Dev, Name: "eth0"})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []*netdev.Device{a.Lo, b.Lo, da, db} {
		if err := d.Up(); err != nil {
			t.Fatal(err)
		}
	}
	s.Sim.RunFor(time.Millisecond)
	return s, a, b, da, db
}

// vlAddr adds an IPv4 address (with its prefix route) to d and brings d up.
func vlAddr(t *testing.T, ns *stack.Namespace, d *netdev.Device, cidr string) {
	t.Helper()
	p := netip.MustParsePrefix(cidr)
	if _, err := ns.IPv4.AddAddr(ipv4.IfAddr{Dev: d, Local: p.Addr(), Prefix: p}); err != nil {
		t.Fatalf("%s: address %s: %v", d.Name(), cidr, err)
	}
	if err := d.Up(); err != nil {
		t.Fatalf("%s up: %v", d.Name(), err)
	}
}

// vlPing sends one echo request from ns to dst and reports whether a reply
// came within a (virtual) second.
func vlPing(t *testing.T, s *stack.Stack, ns *stack.Namespace, dst string, seq uint16) bool {
	t.Helper()
	sock, err := ns.Ping.NewSock(0)
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	if err := sock.SendEcho(netip.MustParseAddr(dst), seq, make([]byte, 56), 0); err != nil {
		return false
	}
	got := false
	end := s.Sim.Now() + time.Second
	s.Sim.RunWhile(func() bool {
		r, rerr, ok := sock.Recv()
		if ok {
			if rerr == nil {
				got = true
				r.Buf.Free()
			}
			return false
		}
		return s.Sim.Now() < end
	})
	return got
}

func newVLAN(t *testing.T, c vlan.Config) *netdev.Device {
	t.Helper()
	d, err := vlan.New(c)
	if err != nil {
		t.Fatalf("vlan %s: %v", c.Name, err)
	}
	return d
}

// vlTshark runs tshark on a pcapng file and returns its lines, or
// skips the test when tshark is missing.
func vlTshark(t *testing.T, file string, filter string, fields ...string) []string {
	t.Helper()
	path, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed: frame dissection not checked")
	}
	args := []string{"-r", file, "-T", "fields", "-E", "separator=,"}
	if filter != "" {
		args = append(args, "-Y", filter)
	}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	out, err := exec.Command(path, args...).Output()
	if err != nil {
		t.Fatalf("tshark %v: %v", args, err)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

// TestVLANIsolationAndQinQ: pings work inside a VLAN, not across two
// VLANs that share a subnet, and through a QinQ pair; the capture of the
// veth shows the tags as tshark dissects them.
func TestVLANIsolationAndQinQ(t *testing.T) {
	s, a, b, ea, eb := vlanPair(t, 1)
	var pcap bytes.Buffer
	c, err := capture.Start(ea, &pcap, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a10 := newVLAN(t, vlan.Config{Name: "eth0.10", Lower: ea, ID: 10, Egress: []vlan.QoSMapping{{From: 0, To: 5}}})
	b10 := newVLAN(t, vlan.Config{Name: "eth0.10", Lower: eb, ID: 10})
	a20 := newVLAN(t, vlan.Config{Name: "eth0.20", Lower: ea, ID: 20})
	b30 := newVLAN(t, vlan.Config{Name: "eth0.30", Lower: eb, ID: 30})
	vlAddr(t, a, a10, "10.0.10.1/24")
	vlAddr(t, b, b10, "10.0.10.2/24")
	// Same subnet, different VLANs: must not reach each other.
	vlAddr(t, a, a20, "10.0.20.1/24")
	vlAddr(t, b, b30, "10.0.20.2/24")
	// QinQ: 802.1ad 100 outside, 802.1Q 7 inside.
	aOuter := newVLAN(t, vlan.Config{Name: "eth0.100", Lower: ea, ID: 100, Protocol: unix.ETH_P_8021AD})
	bOuter := newVLAN(t, vlan.Config{Name: "eth0.100", Lower: eb, ID: 100, Protocol: unix.ETH_P_8021AD})
	aOuter.Up()
	bOuter.Up()
	aIn := newVLAN(t, vlan.Config{Name: "eth0.100.7", Lower: aOuter, ID: 7})
	bIn := newVLAN(t, vlan.Config{Name: "eth0.100.7", Lower: bOuter, ID: 7})
	vlAddr(t, a, aIn, "10.1.7.1/24")
	vlAddr(t, b, bIn, "10.1.7.2/24")
	s.Sim.RunFor(time.Millisecond)

	for _, d := range []*netdev.Device{a10, b10, aIn, bIn} {
		if d.OperState() != netdev.OperUp {
			t.Fatalf("%s: operstate %v, want UP", d.Name(), d.OperState())
		}
	}
	if !vlPing(t, s, a, "10.0.10.2", 1) {
		t.Fatal("no reply within VLAN 10")
	}
	if vlPing(t, s, a, "10.0.20.2", 2) {
		t.Fatal("VLAN 20 reached VLAN 30")
	}
	if !vlPing(t, s, a, "10.1.7.2", 3) {
		t.Fatal("no reply through QinQ 100/7")
	}
	if b30.Stats.RxPackets != 0 {
		t.Fatalf("eth0.30 received %d frames from VLAN 20", b30.Stats.RxPackets)
	}
	if b10.Stats.RxPackets == 0 || bIn.Stats.RxPackets == 0 {
		t.Fatalf("vlan rx counters: eth0.10 %d, eth0.100.7 %d", b10.Stats.RxPackets, bIn.Stats.RxPackets)
	}
	c.Stop()
	file := filepath.Join(t.TempDir(), "vlan.pcapng")
	if err := os.WriteFile(file, pcap.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	// VLAN 10 requests carry PCP 5 from the egress map (priority 0 -> 5).
	lines := vlTshark(t, file, "icmp.type == 8 && vlan.id == 10", "vlan.id", "vlan.priority", "ip.dst")
	if len(lines) != 1 || lines[0] != "10,5,10.0.10.2" {
		t.Fatalf("tshark VLAN 10 echo request: %q", lines)
	}
	// Replies come back with PCP 0 (no egress map on b).
	lines = vlTshark(t, file, "icmp.type == 0 && vlan.id == 10", "vlan.id", "vlan.priority")
	if len(lines) != 1 || lines[0] != "10,0" {
		t.Fatalf("tshark VLAN 10 echo reply: %q", lines)
	}
	// QinQ: outer 802.1ad tag (EtherType 0x88a8) 100, inner 802.1Q 7.
	lines = vlTshark(t, file, "icmp.type == 8 && ip.dst == 10.1.7.2", "eth.type", "ieee8021ad.id", "vlan.id", "vlan.etype")
	if len(lines) != 1 || lines[0] != "0x88a8,100,7,0x0800" {
		t.Fatalf("tshark QinQ echo request: %q", lines)
	}
	// Let the unresolved neighbour of VLAN 20 give up its queued packet.
	s.Sim.RunFor(10 * time.Second)
	if live := s.Pool().Live(); live != 0 {
		t.Fatalf("%d packet buffers still live: a leak", live)
	}
}

// TestVLANFollowsLower: default MTU and MAC are the lower's, the MTU cannot
// exceed it, the vlan goes down and up with its lower device and is
// LOWERLAYERDOWN when the lower has no carrier, and it disappears with it.
func TestVLANFollowsLower(t *testing.T) {
	s, _, b, ea, eb := vlanPair(t, 2)
	ea.SetMTU(1400)
	v := newVLAN(t, vlan.Config{Name: "v5", Lower: ea, ID: 5})
	if v.MTU() != 1400 || v.Addr() != ea.Addr() {
		t.Fatalf("mtu %d addr %v, want 1400 and the lower's", v.MTU(), v.Addr())
	}
	if err := v.SetMTU(1500); err == nil {
		t.Fatal("vlan MTU above the lower's accepted")
	}
	if _, err := vlan.New(vlan.Config{Name: "dup", Lower: ea, ID: 5}); err == nil {
		t.Fatal("second vlan 5 on the same lower accepted")
	}
	if _, err := vlan.New(vlan.Config{Name: "big", Lower: ea, ID: 4095}); err == nil {
		t.Fatal("VID 4095 accepted")
	}
	if err := v.Up(); err != nil {
		t.Fatal(err)
	}
	s.Sim.RunFor(time.Millisecond)
	if v.OperState() != netdev.OperUp {
		t.Fatalf("operstate %v, want UP", v.OperState())
	}
	// Peer down: the lower loses its carrier, the vlan is LOWERLAYERDOWN.
	eb.Down()
	s.Sim.RunFor(time.Millisecond)
	if v.OperState() != netdev.OperLowerLayerDown {
		t.Fatalf("lower without carrier: vlan %v, want LOWERLAYERDOWN", v.OperState())
	}
	eb.Up()
	s.Sim.RunFor(time.Millisecond)
	if v.OperState() != netdev.OperUp {
		t.Fatalf("carrier back: vlan %v, want UP", v.OperState())
	}
	// Lower administratively down: the vlan is taken down, and back up.
	ea.Down()
	if v.IsUp() {
		t.Fatal("vlan still up with its lower down")
	}
	if err := v.Up(); err == nil {
		t.Fatal("vlan came up on a down lower without loose_binding")
	}
	ea.Up()
	s.Sim.RunFor(time.Millisecond)
	if !v.IsUp() || v.OperState() != netdev.OperUp {
		t.Fatalf("lower up again: vlan up=%v %v", v.IsUp(), v.OperState())
	}
	// Lower MTU shrinks: the vlan's follows.
	ea.SetMTU(1300)
	if v.MTU() != 1300 {
		t.Fatalf("vlan MTU %d after the lower went to 1300", v.MTU())
	}
	// The lower's MAC changes: the vlan follows.
	mac := [6]byte{0x02, 0, 0, 0, 0, 0x42}
	ea.SetAddr(mac)
	if v.Addr() != mac {
		t.Fatalf("vlan MAC %v, want the lower's new %v", v.Addr(), mac)
	}
	// Unregistering the lower removes the vlan.
	ta := ea.Table()
	ta.Unregister(ea)
	if ta.ByName("v5") != nil {
		t.Fatal("vlan survived its lower device")
	}
	s.Sim.RunFor(time.Millisecond)
	_ = b
}
