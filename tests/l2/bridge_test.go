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
	"github.com/usnet/usnet/drivers/bridge"
	"github.com/usnet/usnet/drivers/veth"
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/ping"
	"github.com/usnet/usnet/stack"
)

// brNode is one namespace holding a bridge.
type brNode struct {
	ns *stack.Namespace
	br *bridge.Bridge
}

func brNew(t *testing.T, s *stack.Stack, name string, stp bool) *brNode {
	t.Helper()
	ns, err := s.Add(name)
	if err != nil {
		t.Fatal(err)
	}
	n := &brNode{ns: ns}
	ns.Exec().Do(func() {
		n.br, err = bridge.New(ns.Dev, "br0")
		if err == nil {
			n.br.SetSTP(stp)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// brLink joins a and b with a veth pair enslaved to both bridges.
func brLink(t *testing.T, a, b *brNode) (*netdev.Device, *netdev.Device) {
	t.Helper()
	da, db, err := veth.Create(veth.End{Table: a.ns.Dev, Name: "to" + b.ns.Name()}, veth.End{Table: b.ns.Dev, Name: "to" + a.ns.Name()})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []struct {
		n *brNode
		d *netdev.Device
	}{{a, da}, {b, db}} {
		x.n.ns.Exec().Do(func() {
			err = x.n.br.AddPort(x.d)
			x.d.Up()
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return da, db
}

func brUp(t *testing.T, n *brNode, addr netip.Addr) {
	t.Helper()
	var err error
	n.ns.Exec().Do(func() {
		n.br.Device().Up()
		if addr.IsValid() {
			_, err = n.ns.IPv4.AddAddr(ipv4.IfAddr{Dev: n.br.Device(), Local: addr, Prefix: netip.PrefixFrom(addr, 24)})
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}

// brPing sends one echo from ns to dst and runs the simulation until the
// reply or the timeout.
func brPing(t *testing.T, s *stack.Stack, ns *stack.Namespace, dst netip.Addr, seq uint16, timeout time.Duration) bool {
	t.Helper()
	sock, err := ns.Ping.NewSock(0)
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	if err := sock.SendEcho(dst, seq, make([]byte, 56), 0); err != nil {
		return false
	}
	got := false
	end := s.Sim.Now() + timeout
	s.Sim.RunWhile(func() bool {
		var r ping.Reply
		var ok bool
		r, err, ok = sock.Recv()
		if ok && err == nil {
			got = true
			r.Buf.Free()
		}
		return !got && s.Sim.Now() < end
	})
	return got
}

// brFrames sums the frames received by the given devices.
func brFrames(devs ...*netdev.Device) uint64 {
	var n uint64
	for _, d := range devs {
		n += d.Stats.RxPackets
	}
	return n
}

// TestBridgeSTPLoop: three bridges in a triangle. STP elects the bridge
// with the lowest ID as root, blocks exactly one port, a broadcast does
// not storm, ping works across, and tshark decodes the BPDUs.
func TestBridgeSTPLoop(t *testing.T) {
	s, _ := stack.NewSim(7)
	n := []*brNode{brNew(t, s, "b1", true), brNew(t, s, "b2", true), brNew(t, s, "b3", true)}
	var links []*netdev.Device
	for i := range n {
		a, b := brLink(t, n[i], n[(i+1)%3])
		links = append(links, a, b)
	}
	// Capture one link from the start.
	dir := t.TempDir()
	pcap := filepath.Join(dir, "stp.pcapng")
	f, err := os.Create(pcap)
	if err != nil {
		t.Fatal(err)
	}
	var c *capture.Capture
	n[0].ns.Exec().Do(func() { c, err = capture.Start(links[0], f, capture.Options{}) })
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		brUp(t, n[i], netip.AddrFrom4([4]byte{10, 0, 0, byte(i + 1)}))
	}
	// Listening and learning take 2 × forward_delay (30 s).
	s.Sim.RunFor(40 * time.Second)

	root := n[0].br.BridgeID()
	for _, x := range n {
		root = min(root, x.br.BridgeID())
	}
	blocking, forwarding := 0, 0
	for _, x := range n {
		if x.br.RootID() != root {
			t.Errorf("%s: root %v, want %v", x.ns.Name(), x.br.RootID(), root)
		}
		isRoot := x.br.BridgeID() == root
		if isRoot != (x.br.RootPort() == 0) {
			t.Errorf("%s: root port %d, is root %v", x.ns.Name(), x.br.RootPort(), isRoot)
		}
		for _, p := range x.br.Ports() {
			switch p.State() {
			case bridge.StateBlocking:
				blocking++
			case bridge.StateForwarding:
				forwarding++
			default:
				t.Errorf("%s %s: state %s", x.ns.Name(), p.Device().Name(), bridge.StateName(p.State()))
			}
		}
		if !x.br.Device().Carrier() {
			t.Errorf("%s: no carrier", x.ns.Name())
		}
	}
	if blocking != 1 || forwarding != 5 {
		t.Fatalf("%d blocking and %d forwarding ports, want 1 and 5", blocking, forwarding)
	}
	// Ping across every pair of bridges.
	for i := range n {
		for j := range n {
			if i != j && !brPing(t, s, n[i].ns, netip.AddrFrom4([4]byte{10, 0, 0, byte(j + 1)}), uint16(10*i+j), 2*time.Second) {
				t.Fatalf("ping b%d → b%d failed", i+1, j+1)
			}
		}
	}
	// A broadcast (ARP for an absent address) must not loop: count what
	// the six link ends receive while b1 tries to resolve it (3 probes).
	s.Sim.RunFor(time.Second)
	before := brFrames(links...)
	brPing(t, s, n[0].ns, netip.MustParseAddr("10.0.0.99"), 99, 4*time.Second)
	got := brFrames(links...) - before
	// Each probe crosses the tree's two forwarding links once, and the
	// blocked link carries it once more towards the blocking port; BPDUs
	// (2 s hello on 3 links) add a few.
	if got > 3*3+4*3 {
		t.Fatalf("%d frames for 3 broadcast probes: a storm", got)
	}
	t.Logf("%d frames on the six link ends during 3 broadcast probes and 4 s of BPDUs", got)
	n[0].ns.Exec().Do(func() { err = c.Stop() })
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	brTshark(t, pcap, "stp", "stp.root.hw,stp.bridge.hw,stp.port,stp.type")
}

// TestBridgeSTPFailover: when the root port's link goes down, the blocked
// port takes over after max_age and two forward delays.
func TestBridgeSTPFailover(t *testing.T) {
	s, _ := stack.NewSim(3)
	n := []*brNode{brNew(t, s, "b1", true), brNew(t, s, "b2", true), brNew(t, s, "b3", true)}
	type pair struct{ a, b *netdev.Device }
	var ps []pair
	for i := range n {
		a, b := brLink(t, n[i], n[(i+1)%3])
		ps = append(ps, pair{a, b})
	}
	for i := range n {
		brUp(t, n[i], netip.AddrFrom4([4]byte{10, 0, 0, byte(i + 1)}))
	}
	s.Sim.RunFor(40 * time.Second)
	// Cut a forwarding link between two bridges (one not carrying the
	// blocked port).
	var cut pair
	for _, p := range ps {
		pa, pb := bridge.PortOf(p.a), bridge.PortOf(p.b)
		if pa.State() == bridge.StateForwarding && pb.State() == bridge.StateForwarding {
			cut = p
			break
		}
	}
	if cut.a == nil {
		t.Fatal("no fully forwarding link")
	}
	cut.a.Table().Net().Exec().Do(func() { cut.a.Down() })
	s.Sim.RunFor(60 * time.Second)
	blocking := 0
	for _, x := range n {
		for _, p := range x.br.Ports() {
			if p.State() == bridge.StateBlocking {
				blocking++
			}
		}
	}
	if blocking != 0 {
		t.Fatalf("%d ports still blocking after the cut", blocking)
	}
	for i := range n {
		for j := range n {
			if i != j && !brPing(t, s, n[i].ns, netip.AddrFrom4([4]byte{10, 0, 0, byte(j + 1)}), uint16(10*i+j), 3*time.Second) {
				t.Fatalf("after failover ping b%d → b%d failed", i+1, j+1)
			}
		}
	}
}

// brTshark runs tshark over a capture, failing on dissector errors
// (malformed packets) and requiring at least one packet matching filter.
func brTshark(t *testing.T, file, filter, fields string) string {
	t.Helper()
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Logf("tshark not installed: frames not checked by its dissectors")
		return ""
	}
	args := []string{"-r", file, "-Y", filter, "-T", "fields"}
	for _, f := range strings.Split(fields, ",") {
		args = append(args, "-e", f)
	}
	out, err := exec.Command("tshark", args...).Output()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, out)
	}
	if len(bytes.TrimSpace(out)) == 0 {
		t.Fatalf("tshark found no %s frames in %s", filter, file)
	}
	bad, err := exec.Command("tshark", "-r", file, "-Y", "_ws.malformed || _ws.expert.severity >= \"error\"").Output()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, bad)
	}
	if len(bytes.TrimSpace(bad)) != 0 {
		t.Fatalf("tshark reports malformed frames:\n%s", bad)
	}
	t.Logf("tshark %s: %d lines, first: %s", filter, bytes.Count(out, []byte("\n")), strings.SplitN(string(out), "\n", 2)[0])
	return string(out)
}
