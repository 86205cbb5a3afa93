// Package sim holds end-to-end simulation tests: whole topologies on
// virtual time, driven through the public packages as a user would.
package sim

import (
	"errors"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/neigh"
	"github.com/usnet/usnet/ping"
	"github.com/usnet/usnet/scenario"
	"github.com/usnet/usnet/skb"
)

var (
	h1Addr = netip.MustParseAddr("10.0.1.2")
	rAddr1 = netip.MustParseAddr("10.0.1.1")
	h2Addr = netip.MustParseAddr("10.0.2.2")
)

func build(t *testing.T, topo scenario.Topology) *scenario.World {
	t.Helper()
	w, err := scenario.Build(topo, 1)
	if err != nil {
		t.Fatal(err)
	}
	w.Stack.Sim.RunFor(time.Millisecond)
	return w
}

// echo sends one echo request and runs the simulation until a reply or
// an error arrives or timeout passes.
func echo(w *scenario.World, s *ping.Sock, dst netip.Addr, seq uint16, size int, ttl uint8, timeout time.Duration) (ping.Reply, error, bool) {
	sim := w.Stack.Sim
	if err := s.SendEcho(dst, seq, make([]byte, size), ttl); err != nil {
		return ping.Reply{}, err, true
	}
	var r ping.Reply
	var rerr error
	got := false
	end := sim.Now() + timeout
	sim.RunWhile(func() bool {
		r, rerr, got = s.Recv()
		return !got && sim.Now() < end
	})
	return r, rerr, got
}

func TestPingThroughRouterResolvesNeighbours(t *testing.T) {
	w := build(t, scenario.IPTopology())
	s, err := w.NS["h1"].Ping.NewSock(0)
	if err != nil {
		t.Fatal(err)
	}
	r, err, ok := echo(w, s, h2Addr, 1, 56, 0, time.Second)
	if !ok || err != nil {
		t.Fatalf("no echo reply: ok=%v err=%v", ok, err)
	}
	if r.From != h2Addr || r.TTL != 63 {
		t.Fatalf("reply from %v ttl %d, want %v ttl 63 (one router)", r.From, r.TTL, h2Addr)
	}
	r.Buf.Free()
	e := w.NS["h1"].Neigh.Lookup(w.Dev("h1", "eth0").Ifindex(), rAddr1)
	if e == nil || e.State != neigh.StateReachable || e.LLAddr != w.Dev("r", "eth0").Addr() {
		t.Fatalf("h1's neighbour entry for the router: %+v", e)
	}
	if f := w.NS["r"].IPv4.Stats.ForwDatagrams; f != 2 {
		t.Fatalf("router forwarded %d datagrams, want 2", f)
	}
	// With no traffic, the entry goes stale after the reachable time
	// (base 30 s, randomized to 15..45 s).
	w.Stack.Sim.RunFor(50 * time.Second)
	if e.State != neigh.StateStale {
		t.Fatalf("after 50 s idle the entry is %v, want STALE", e.State)
	}
}

func TestUnresolvedNeighbourFailsWithHostUnreachable(t *testing.T) {
	w := build(t, scenario.IPTopology())
	s, _ := w.NS["h1"].Ping.NewSock(0)
	ghost := netip.MustParseAddr("10.0.1.99")
	start := w.Stack.Sim.Now()
	_, err, ok := echo(w, s, ghost, 1, 56, 0, 10*time.Second)
	if !ok || !errors.Is(err, syscall.EHOSTUNREACH) {
		t.Fatalf("ping to a missing neighbour: ok=%v err=%v, want EHOSTUNREACH", ok, err)
	}
	// ucast_solicit+mcast_solicit = 3 probes, retrans_time 1 s.
	if d := w.Stack.Sim.Now() - start; d < 3*time.Second || d > 4*time.Second {
		t.Fatalf("resolution failed after %v, want ~3 s (3 probes, 1 s apart)", d)
	}
	e := w.NS["h1"].Neigh.Lookup(w.Dev("h1", "eth0").Ifindex(), ghost)
	if e == nil || e.State != neigh.StateFailed {
		t.Fatalf("entry %+v, want FAILED", e)
	}
}

func TestTTLExpiryAtRouter(t *testing.T) {
	w := build(t, scenario.IPTopology())
	s, _ := w.NS["h1"].Ping.NewSock(0)
	_, err, ok := echo(w, s, h2Addr, 1, 56, 1, time.Second)
	if !ok || !errors.Is(err, syscall.EHOSTUNREACH) {
		t.Fatalf("TTL 1 ping: ok=%v err=%v, want the time-exceeded error (EHOSTUNREACH)", ok, err)
	}
	if n := w.NS["r"].IPv4.Stats.IcmpOutTimeExcds; n != 1 {
		t.Fatalf("router sent %d time exceeded, want 1", n)
	}
	if n := w.NS["h1"].IPv4.Stats.IcmpInTimeExcds; n != 1 {
		t.Fatalf("h1 received %d time exceeded, want 1", n)
	}
	if n := w.NS["h2"].IPv4.Stats.InReceives; n != 0 {
		t.Fatalf("h2 received %d datagrams, want 0", n)
	}
}

// narrowTopology gives the router's link to h2 an MTU of 1000.
func narrowTopology() scenario.Topology {
	topo := scenario.IPTopology()
	topo.Links[1].MTU = 1000
	return topo
}

func TestFragmentationAtRouterAndReassembly(t *testing.T) {
	w := build(t, narrowTopology())
	h1, h2 := w.NS["h1"], w.NS["h2"]
	srv := h2.UDP.NewSock()
	if err := srv.Bind(netip.AddrPortFrom(h2Addr, 9)); err != nil {
		t.Fatal(err)
	}
	cli := h1.UDP.NewSock()
	msg := make([]byte, 5000)
	for i := range msg {
		msg[i] = byte(i * 7)
	}
	if err := cli.SendTo(msg, netip.AddrPortFrom(h2Addr, 9)); err != nil {
		t.Fatal(err)
	}
	w.Stack.Sim.RunFor(100 * time.Millisecond)
	d, err, ok := srv.Recv()
	if !ok || err != nil {
		t.Fatalf("no datagram: %v %v", ok, err)
	}
	if string(d.Buf.Bytes()) != string(msg) {
		t.Fatalf("reassembled %d bytes differ from the 5000 sent", d.Buf.Len())
	}
	d.Buf.Free()
	// h1 fragments to 1500 (4 fragments), the router refragments the
	// 1500-byte ones for the 1000-byte link.
	if n := h1.IPv4.Stats.FragCreates; n != 4 {
		t.Fatalf("h1 created %d fragments, want 4", n)
	}
	if n := w.NS["r"].IPv4.Stats.FragOKs; n == 0 {
		t.Fatalf("router fragmented nothing")
	}
	if n := h2.IPv4.Stats.ReasmOKs; n != 1 {
		t.Fatalf("h2 reassembled %d datagrams, want 1", n)
	}
}

func TestPathMTUDiscovery(t *testing.T) {
	w := build(t, narrowTopology())
	h1 := w.NS["h1"]
	send := func(size int) error {
		var err error
		h1.Exec().Do(func() {
			rt, rerr := h1.IPv4.RouteOutput(&ipv4.FlowKey{Dst: h2Addr, Proto: 17})
			if rerr != nil {
				err = rerr
				return
			}
			b := w.Stack.Pool().Get(skb.DefaultHeadroom+20, size)
			b.Put(size)
			err = h1.IPv4.Output(b, rt.Src, h2Addr, 253, &rt, ipv4.SendOpts{DF: true})
		})
		return err
	}
	if err := send(1400); err != nil {
		t.Fatalf("first DF datagram: %v", err)
	}
	w.Stack.Sim.RunFor(100 * time.Millisecond)
	if n := w.NS["r"].IPv4.Stats.FragFails; n != 1 {
		t.Fatalf("router refused %d DF datagrams, want 1", n)
	}
	rt, err := h1.IPv4.RouteOutput(&ipv4.FlowKey{Dst: h2Addr})
	if err != nil || rt.MTU != 1000 {
		t.Fatalf("route to h2 after frag-needed: mtu %d err %v, want 1000", rt.MTU, err)
	}
	if err := send(1400); !errors.Is(err, syscall.EMSGSIZE) {
		t.Fatalf("DF datagram above the path MTU: %v, want EMSGSIZE", err)
	}
	if err := send(900); err != nil {
		t.Fatalf("DF datagram below the path MTU: %v", err)
	}
}

func TestRPFilterDropsSpoofedSource(t *testing.T) {
	// h2 sends to h1 through r with a forged source. 10.0.1.77 belongs
	// to h1's side: strict rp_filter drops it (the reverse route leaves
	// by eth0, not eth1), loose accepts it (a route exists). 192.0.2.1
	// has no route at r at all: loose drops it too.
	cases := []struct {
		mode    int
		src     string
		forward bool
	}{
		{0, "10.0.1.77", true}, {1, "10.0.1.77", false}, {2, "10.0.1.77", true},
		{0, "192.0.2.1", true}, {1, "192.0.2.1", false}, {2, "192.0.2.1", false},
		{1, "10.0.2.2", true},
	}
	for _, c := range cases {
		w := build(t, scenario.IPTopology())
		r, h2 := w.NS["r"], w.NS["h2"]
		r.IPv4.All.RPFilter = c.mode
		spoof := netip.MustParseAddr(c.src)
		h2.Exec().Do(func() {
			rt, err := h2.IPv4.RouteOutput(&ipv4.FlowKey{Dst: h1Addr, Proto: 253})
			if err != nil {
				t.Error(err)
				return
			}
			b := w.Stack.Pool().Get(skb.DefaultHeadroom+20, 10)
			b.Put(10)
			h2.IPv4.Output(b, spoof, h1Addr, 253, &rt, ipv4.SendOpts{})
		})
		w.Stack.Sim.RunFor(100 * time.Millisecond)
		fwd, mart := r.IPv4.Stats.ForwDatagrams, r.IPv4.Stats.InMartians
		// A datagram that gets through may draw an ICMP reply from h1,
		// which r forwards too: count at least one.
		if c.forward && (fwd < 1 || mart != 0) || !c.forward && (fwd != 0 || mart != 1) {
			t.Errorf("rp_filter %d, source %s: forwarded %d, martians %d; want forwarded=%v", c.mode, c.src, fwd, mart, c.forward)
		}
	}
}
