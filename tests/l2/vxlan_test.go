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
	"github.com/usnet/usnet/drivers/vxlan"
	"github.com/usnet/usnet/executor"
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/ping"
	"github.com/usnet/usnet/scenario"
	"github.com/usnet/usnet/stack"
)

var (
	vtepA  = netip.MustParseAddr("10.0.1.2")
	vtepB  = netip.MustParseAddr("10.0.2.2")
	innerA = netip.MustParseAddr("192.168.100.1")
	innerB = netip.MustParseAddr("192.168.100.2")
)

// vxlanWorld is two tunnel endpoints a and b on different subnets joined
// by router r (a routed underlay), with vx0 on each and an overlay subnet
// on the vx0 devices.
type vxlanWorld struct {
	w      *scenario.World
	vxA    *vxlan.Dev
	vxB    *vxlan.Dev
	ta, tb *stack.Namespace
}

func vxUnderlay() scenario.Topology {
	return scenario.Topology{
		Namespaces: []string{"a", "r", "b"},
		Links: []scenario.Link{
			{A: "a", ADev: "eth0", B: "r", BDev: "eth0"},
			{A: "r", ADev: "eth1", B: "b", BDev: "eth0"},
		},
		Addrs: []scenario.Addr{
			{NS: "a", Dev: "eth0", Prefix: netip.MustParsePrefix("10.0.1.2/24")},
			{NS: "r", Dev: "eth0", Prefix: netip.MustParsePrefix("10.0.1.1/24")},
			{NS: "r", Dev: "eth1", Prefix: netip.MustParsePrefix("10.0.2.1/24")},
			{NS: "b", Dev: "eth0", Prefix: netip.MustParsePrefix("10.0.2.2/24")},
		},
		Forwarding: []string{"r"},
		Routes: []scenario.Route{
			{NS: "a", Dst: netip.MustParsePrefix("0.0.0.0/0"), Via: netip.MustParseAddr("10.0.1.1")},
			{NS: "b", Dst: netip.MustParsePrefix("0.0.0.0/0"), Via: netip.MustParseAddr("10.0.2.1")},
		},
	}
}

// addVXLAN creates vx0 in ns with the given endpoints, brings it up and
// puts inner/24 on it.
func addVXLAN(t *testing.T, ns *stack.Namespace, c vxlan.Config, inner netip.Addr) *vxlan.Dev {
	t.Helper()
	var v *vxlan.Dev
	var err error
	ns.Exec().Do(func() {
		vn := vxlan.Attach(ns.Dev, ns.IPv4, ns.UDP)
		c.Lower = ns.Dev.ByName("eth0")
		v, err = vxlan.New(vn, "vx0", c)
		if err != nil {
			return
		}
		if err = v.Device().Up(); err != nil {
			return
		}
		p := netip.PrefixFrom(inner, 24)
		_, err = ns.IPv4.AddAddr(ipv4.IfAddr{Dev: v.Device(), Local: inner, Prefix: p, Broadcast: netip.MustParseAddr("192.168.100.255")})
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func newVXLANWorld(t *testing.T, learning bool) *vxlanWorld {
	t.Helper()
	w, err := scenario.Build(vxUnderlay(), 7)
	if err != nil {
		t.Fatal(err)
	}
	w.Stack.Sim.RunFor(time.Millisecond)
	x := &vxlanWorld{w: w, ta: w.NS["a"], tb: w.NS["b"]}
	ca := vxlan.Config{VNI: 42, Remote: vtepB, Local: vtepA, Port: vxlan.IANAPort, Learning: learning}
	cb := vxlan.Config{VNI: 42, Remote: vtepA, Local: vtepB, Port: vxlan.IANAPort, Learning: learning}
	x.vxA = addVXLAN(t, x.ta, ca, innerA)
	x.vxB = addVXLAN(t, x.tb, cb, innerB)
	w.Stack.Sim.RunFor(time.Millisecond)
	return x
}

func vxEcho(sim *executor.Sim, s *ping.Sock, dst netip.Addr, seq uint16) (ping.Reply, bool) {
	if err := s.SendEcho(dst, seq, make([]byte, 56), 0); err != nil {
		return ping.Reply{}, false
	}
	var r ping.Reply
	var err error
	got := false
	end := sim.Now() + 2*time.Second
	sim.RunWhile(func() bool {
		r, err, got = s.Recv()
		return !got && sim.Now() < end
	})
	return r, got && err == nil
}

func TestVXLANPingLearning(t *testing.T) {
	x := newVXLANWorld(t, true)
	sim := x.w.Stack.Sim
	if d := x.vxA.Device(); d.MTU() != 1450 {
		t.Fatalf("vx0 MTU %d on a 1500 lower device, want 1450", d.MTU())
	}
	s, err := x.ta.Ping.NewSock(0)
	if err != nil {
		t.Fatal(err)
	}
	for seq := uint16(1); seq <= 3; seq++ {
		r, ok := vxEcho(sim, s, innerB, seq)
		if !ok {
			t.Fatalf("echo %d through the tunnel: no reply", seq)
		}
		if r.From != innerB {
			t.Fatalf("reply from %v", r.From)
		}
		r.Buf.Free()
	}
	// b learned a's overlay MAC behind a's VTEP, and a learned b's.
	macA, macB := x.vxA.Device().Addr(), x.vxB.Device().Addr()
	if r := x.vxB.FDBLookup(macA); len(r) != 1 || r[0].IP != vtepA {
		t.Fatalf("b's FDB for %s: %+v", netdev.FormatMAC(macA), r)
	}
	if r := x.vxA.FDBLookup(macB); len(r) != 1 || r[0].IP != vtepB {
		t.Fatalf("a's FDB for %s: %+v", netdev.FormatMAC(macB), r)
	}
	if n := x.w.NS["r"].IPv4.Stats.ForwDatagrams; n < 6 {
		t.Fatalf("router forwarded %d datagrams: the tunnel did not cross the underlay", n)
	}
	// Learned entries age out after the ageing time without traffic;
	// the static default destination stays.
	sim.RunFor(time.Duration(vxlan.DefaultAgeing+20) * time.Second)
	if r := x.vxB.FDBLookup(macA); r != nil {
		t.Fatalf("entry did not age: %+v", r)
	}
	if r := x.vxB.FDBLookup(vxlan.ZeroMAC); len(r) != 1 || r[0].IP != vtepA {
		t.Fatalf("default destination: %+v", r)
	}
	s.Close()
}

func TestVXLANNoLearning(t *testing.T) {
	x := newVXLANWorld(t, false)
	s, _ := x.ta.Ping.NewSock(0)
	r, ok := vxEcho(x.w.Stack.Sim, s, innerB, 1)
	if !ok {
		t.Fatal("no reply through the tunnel")
	}
	r.Buf.Free()
	if n := x.vxB.FDBLen(); n != 1 {
		t.Fatalf("nolearning: b's FDB has %d entries, want only the default: %+v", n, x.vxB.FDBDump())
	}
	s.Close()
}

// TestVXLANFloodList uses no `remote`: the unicast flood list comes from
// `bridge fdb append 00:00:00:00:00:00 dst …` entries, one of them a
// black hole the frames are copied to as well.
func TestVXLANFloodList(t *testing.T) {
	w, err := scenario.Build(vxUnderlay(), 3)
	if err != nil {
		t.Fatal(err)
	}
	a, b := w.NS["a"], w.NS["b"]
	va := addVXLAN(t, a, vxlan.Config{VNI: 7, Port: vxlan.IANAPort, Learning: true}, innerA)
	vb := addVXLAN(t, b, vxlan.Config{VNI: 7, Port: vxlan.IANAPort, Learning: true}, innerB)
	a.Exec().Do(func() {
		if err := va.FDBAppend(vxlan.ZeroMAC, vxlan.Remote{IP: netip.MustParseAddr("10.0.2.99")}); err != nil {
			t.Error(err)
		}
		if err := va.FDBAppend(vxlan.ZeroMAC, vxlan.Remote{IP: vtepB}); err != nil {
			t.Error(err)
		}
	})
	b.Exec().Do(func() {
		if err := vb.FDBAppend(vxlan.ZeroMAC, vxlan.Remote{IP: vtepA}); err != nil {
			t.Error(err)
		}
	})
	if got := va.FDBLookup(vxlan.ZeroMAC); len(got) != 2 {
		t.Fatalf("flood list %+v", got)
	}
	s, _ := a.Ping.NewSock(0)
	r, ok := vxEcho(w.Stack.Sim, s, innerB, 1)
	if !ok {
		t.Fatal("no reply through the flood list")
	}
	r.Buf.Free()
	s.Close()
	a.Exec().Do(func() {
		if err := va.FDBDel(vxlan.ZeroMAC, vxlan.Remote{IP: netip.MustParseAddr("10.0.2.99")}); err != nil {
			t.Error(err)
		}
	})
	if got := va.FDBLookup(vxlan.ZeroMAC); len(got) != 1 || got[0].IP != vtepB {
		t.Fatalf("after delete: %+v", got)
	}
}

func TestVXLANTCPAndCapture(t *testing.T) {
	x := newVXLANWorld(t, true)
	sim := x.w.Stack.Sim
	var pcap bytes.Buffer
	var c *capture.Capture
	r := x.w.NS["r"]
	r.Exec().Do(func() {
		var err error
		c, err = capture.Start(r.Dev.ByName("eth0"), &pcap, capture.Options{})
		if err != nil {
			t.Error(err)
		}
	})
	const size = 1 << 20
	l, err := x.tb.TCP.Listen(netip.AddrPortFrom(innerB, 5001), 16)
	if err != nil {
		t.Fatal(err)
	}
	received, done := 0, false
	var sum, want uint64
	buf := make([]byte, 64<<10)
	l.OnAcceptable = func() {
		srv := l.Accept()
		if srv == nil {
			return
		}
		srv.OnReadable = func() {
			for {
				n, eof, err := srv.Recv(buf)
				if err != nil {
					t.Errorf("receiver: %v", err)
					done = true
					return
				}
				for _, c := range buf[:n] {
					sum = sum*31 + uint64(c)
				}
				received += n
				if eof {
					srv.Close()
					done = true
					return
				}
				if n == 0 {
					return
				}
			}
		}
	}
	cli, err := x.ta.TCP.Connect(netip.AddrPort{}, netip.AddrPortFrom(innerB, 5001))
	if err != nil {
		t.Fatal(err)
	}
	sent := 0
	chunk := make([]byte, 32<<10)
	var pump func()
	pump = func() {
		for sent < size {
			n := min(len(chunk), size-sent)
			for i := range chunk[:n] {
				chunk[i] = byte((sent + i) * 2654435761 >> 13)
			}
			k, err := cli.Send(chunk[:n])
			if err != nil {
				t.Errorf("sender: %v", err)
				done = true
				return
			}
			for _, c := range chunk[:k] {
				want = want*31 + uint64(c)
			}
			sent += k
			if k < n {
				return
			}
		}
		cli.CloseWrite()
	}
	cli.OnWritable = pump
	pump()
	start := sim.Now()
	sim.RunWhile(func() bool { return !done && sim.Now()-start < 5*time.Minute })
	if !done || received != size || sum != want {
		t.Fatalf("transfer: done %v, received %d of %d, checksum match %v (state %v)", done, received, size, sum == want, cli.State())
	}
	r.Exec().Do(func() { c.Stop() })
	// No segment bigger than the tunnel's MTU crossed the underlay.
	if x.vxA.Device().Stats.TxErrors != 0 || x.vxA.Device().Stats.TxDropped != 0 {
		t.Fatalf("vx0 tx errors %d dropped %d", x.vxA.Device().Stats.TxErrors, x.vxA.Device().Stats.TxDropped)
	}
	vxCheckTshark(t, pcap.Bytes())
}

// checkTshark has tshark's vxlan dissector decode the underlay capture:
// VNI 42 with the inner Ethernet, IPv4 and TCP intact.
func vxCheckTshark(t *testing.T, pcap []byte) {
	t.Helper()
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed: frame check skipped")
	}
	f := filepath.Join(t.TempDir(), "underlay.pcapng")
	if err := os.WriteFile(f, pcap, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("tshark", "-r", f, "-d", "udp.port==4789,vxlan", "-Y", "vxlan && tcp",
		"-T", "fields", "-e", "vxlan.vni", "-e", "vxlan.flags", "-e", "ip.src", "-e", "ip.dst", "-e", "tcp.dstport", "-e", "udp.checksum.status", "-o", "udp.check_checksum:TRUE").Output()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 100 {
		t.Fatalf("tshark decoded %d VXLAN/TCP frames:\n%s", len(lines), out)
	}
	bad := 0
	for _, l := range lines {
		f := strings.Split(l, "\t")
		if len(f) < 6 {
			t.Fatalf("tshark line %q", l)
		}
		// outer then inner addresses
		if f[0] != "42" || f[2] != "10.0.1.2,192.168.100.1" && f[2] != "10.0.2.2,192.168.100.2" {
			t.Fatalf("tshark line %q", l)
		}
		if f[5] != "1" { // 1: Good
			bad++
		}
	}
	if bad > 0 {
		t.Fatalf("%d frames with bad outer UDP checksums\n%s", bad, out[:min(len(out), 2000)])
	}
	t.Logf("tshark decoded %d VXLAN frames carrying TCP; first: %s", len(lines), lines[0])
}
