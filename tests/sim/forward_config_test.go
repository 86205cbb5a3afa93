package sim

import (
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/usnet/usnet/client"
	"github.com/usnet/usnet/neigh"
	"github.com/usnet/usnet/scenario"
	"github.com/usnet/usnet/skb"
	"github.com/usnet/usnet/stack"
)

// fwdRig is the router of BenchmarkForwardRouter64 with two exits: r
// receives batches of frames on eth0 (as a NIC's poll hands them on) and
// forwards them out of dummy devices sink0 (10.9.0.0/24) or sink1
// (10.8.0.0/24), which free them. Every change of configuration is made
// between two batches, so a route, rule, sysctl or address remembered
// from one batch to the next (a stale cache) makes the next batch go
// where the old configuration sent it.
type fwdRig struct {
	t     *testing.T
	w     *scenario.World
	r     *stack.Namespace
	rc    *client.Namespace
	pool  *skb.Pool
	sinks [2]string
}

var (
	fwdDst   = netip.MustParseAddr("10.9.0.2")
	fwdFlows = []netip.Addr{
		netip.MustParseAddr("10.0.1.2"), netip.MustParseAddr("10.0.1.3"),
		netip.MustParseAddr("10.0.1.4"), netip.MustParseAddr("10.0.1.5"),
	}
)

func newFwdRig(t *testing.T) *fwdRig {
	t.Helper()
	w := build(t, scenario.IPTopology())
	g := &fwdRig{t: t, w: w, r: w.NS["r"], rc: w.Client.Namespace("r"), pool: w.Stack.Pool(), sinks: [2]string{"sink0", "sink1"}}
	mac := [6]byte{0x02, 0, 0, 0, 0, 0x99}
	for i, p := range []string{"10.9.0.1/24", "10.8.0.1/24"} {
		name := g.sinks[i]
		if err := g.rc.AddLink(client.LinkSpec{Name: name, Kind: "dummy", Up: true}); err != nil {
			t.Fatal(err)
		}
		if err := g.rc.AddAddr(name, netip.MustParsePrefix(p)); err != nil {
			t.Fatal(err)
		}
		// The destination resolves on both exits, so whichever the
		// configuration picks transmits at once.
		if err := g.r.Neigh.Add(neigh.AddRequest{Dev: w.Dev("r", name), Addr: fwdDst, LLAddr: &mac, State: neigh.StatePermanent, Create: true}); err != nil {
			t.Fatal(err)
		}
	}
	w.Stack.Sim.RunFor(1e6)
	return g
}

// outcome is what a batch did at r.
type outcome struct {
	fwd      uint64    // ForwDatagrams
	out      [2]uint64 // transmitted by sink0, sink1
	martians uint64    // InMartians
	addrErr  uint64    // InAddrErrors
	delivers uint64    // InDelivers
	discards uint64    // InDiscards
}

// batch hands r one batch of 4 packets per source towards dst, each
// source's packets back to back (so the batch's route reuse takes part),
// and reports what r did with them. The first source's packets open and
// close the batch, so that a route reused from the previous batch would
// serve the first packet.
func (g *fwdRig) batch(dst netip.Addr, srcs ...netip.Addr) outcome {
	g.t.Helper()
	in := g.w.Dev("r", "eth0")
	h1 := g.w.Dev("h1", "eth0").Addr()
	st := &g.r.IPv4.Stats
	sink := [2]uint64{g.w.Dev("r", g.sinks[0]).Stats.TxPackets, g.w.Dev("r", g.sinks[1]).Stats.TxPackets}
	before := outcome{st.ForwDatagrams, sink, st.InMartians, st.InAddrErrors, st.InDelivers, st.InDiscards}
	bt := skb.NewBatch(64)
	add := func(src netip.Addr, k int) {
		f := forwardFrame(in.Addr(), h1, src, dst)
		for range k {
			b := g.pool.Get(skb.DefaultHeadroom, len(f))
			copy(b.Put(len(f)), f)
			bt.Add(b)
		}
	}
	add(srcs[0], 2)
	for _, src := range srcs[1:] {
		add(src, 4)
	}
	add(srcs[0], 2)
	in.Receive(bt)
	g.r.IPv4.Flush()
	g.w.Stack.Sim.RunFor(0)
	sink = [2]uint64{g.w.Dev("r", g.sinks[0]).Stats.TxPackets, g.w.Dev("r", g.sinks[1]).Stats.TxPackets}
	return outcome{
		fwd: st.ForwDatagrams - before.fwd, out: [2]uint64{sink[0] - before.out[0], sink[1] - before.out[1]},
		martians: st.InMartians - before.martians, addrErr: st.InAddrErrors - before.addrErr,
		delivers: st.InDelivers - before.delivers, discards: st.InDiscards - before.discards,
	}
}

// forwardedTo checks that every packet of o was forwarded out of sink i.
func (g *fwdRig) forwardedTo(step string, o outcome, n uint64, i int) {
	g.t.Helper()
	want := outcome{fwd: n}
	want.out[i] = n
	if o != want {
		g.t.Errorf("%s: %+v, want %+v", step, o, want)
	}
}

func (g *fwdRig) check(step string, got, want outcome) {
	g.t.Helper()
	if got != want {
		g.t.Errorf("%s: %+v, want %+v", step, got, want)
	}
}

func (g *fwdRig) do(err error) {
	g.t.Helper()
	if err != nil {
		g.t.Fatal(err)
	}
}

// TestForwardFollowsRoutesAndRules: routes and policy rules changed
// between batches apply to the very next packet, whether the FIB takes
// the default-rules shortcut or walks custom rules.
func TestForwardFollowsRoutesAndRules(t *testing.T) {
	g := newFwdRig(t)
	n := uint64(4 * len(fwdFlows))
	g.forwardedTo("initial", g.batch(fwdDst, fwdFlows...), n, 0)

	// A more specific route through sink1 takes over, and goes again.
	more := client.Route{Dst: netip.MustParsePrefix("10.9.0.0/25"), Dev: "sink1"}
	g.do(g.rc.AddRoute(more))
	g.forwardedTo("after adding 10.9.0.0/25 dev sink1", g.batch(fwdDst, fwdFlows...), n, 1)
	g.do(g.rc.DelRoute(more))
	g.forwardedTo("after deleting it", g.batch(fwdDst, fwdFlows...), n, 0)

	// Deleting a default rule (table main's, 32766) while the rules are
	// still the default ones leaves nothing to route by.
	mainRule := client.Rule{Priority: 32766, Table: unix.RT_TABLE_MAIN}
	g.do(g.rc.DelRule(mainRule))
	g.check("without the main rule", g.batch(fwdDst, fwdFlows...), outcome{addrErr: n})
	g.do(g.rc.AddRule(mainRule))
	g.forwardedTo("with the main rule back", g.batch(fwdDst, fwdFlows...), n, 0)

	// A rule sends one source to table 100 (through sink1); deleting
	// it restores the default rules (and their shortcut).
	g.do(g.rc.AddRoute(client.Route{Dst: netip.MustParsePrefix("10.9.0.0/24"), Dev: "sink1", Table: 100}))
	rule := client.Rule{Priority: 100, Src: netip.PrefixFrom(fwdFlows[1], 32), Table: 100}
	g.do(g.rc.AddRule(rule))
	o := g.batch(fwdDst, fwdFlows...)
	g.check("with a rule from "+fwdFlows[1].String()+" lookup 100", o, outcome{fwd: n, out: [2]uint64{n - 4, 4}})
	g.do(g.rc.DelRule(rule))
	g.forwardedTo("after deleting the rule", g.batch(fwdDst, fwdFlows...), n, 0)

	// A prohibit rule for one source stops its packets only.
	prohibit := client.Rule{Priority: 100, Src: netip.PrefixFrom(fwdFlows[2], 32), Action: unix.FR_ACT_PROHIBIT}
	g.do(g.rc.AddRule(prohibit))
	o = g.batch(fwdDst, fwdFlows...)
	g.check("with a prohibit rule", o, outcome{fwd: n - 4, out: [2]uint64{n - 4, 0}})
	g.do(g.rc.DelRule(prohibit))
	g.forwardedTo("after deleting the prohibit rule", g.batch(fwdDst, fwdFlows...), n, 0)

	// The exit's link going down flushes its routes: sink1's more
	// specific route no longer applies.
	g.do(g.rc.AddRoute(more))
	g.forwardedTo("10.9.0.0/25 dev sink1 again", g.batch(fwdDst, fwdFlows...), n, 1)
	g.do(g.rc.SetLinkDown("sink1"))
	g.forwardedTo("after sink1 went down", g.batch(fwdDst, fwdFlows...), n, 0)
}

// TestForwardFollowsSysctls: forwarding and rp_filter, in conf.all and
// per device, changed between batches apply to the next packet.
func TestForwardFollowsSysctls(t *testing.T) {
	g := newFwdRig(t)
	l := g.r.IPv4
	eth0 := g.w.Dev("r", "eth0").Ifindex()
	n := uint64(4 * len(fwdFlows))
	g.forwardedTo("initial", g.batch(fwdDst, fwdFlows...), n, 0)

	l.SetForwarding(false)
	g.check("ip_forward 0", g.batch(fwdDst, fwdFlows...), outcome{addrErr: n})
	l.SetForwarding(true)
	g.forwardedTo("ip_forward 1", g.batch(fwdDst, fwdFlows...), n, 0)
	l.Conf(eth0).Forwarding = false
	g.check("eth0 forwarding 0", g.batch(fwdDst, fwdFlows...), outcome{addrErr: n})
	l.Conf(eth0).Forwarding = true
	g.forwardedTo("eth0 forwarding 1", g.batch(fwdDst, fwdFlows...), n, 0)

	// 10.0.2.77 is reached back through eth1: strict rp_filter drops
	// it on eth0, loose accepts it; the other sources pass either way.
	spoof := netip.MustParseAddr("10.0.2.77")
	srcs := append([]netip.Addr{spoof}, fwdFlows...)
	m := uint64(4 * len(srcs))
	g.forwardedTo("rp_filter 0", g.batch(fwdDst, srcs...), m, 0)
	l.All.RPFilter = 1
	g.check("all.rp_filter 1", g.batch(fwdDst, srcs...), outcome{fwd: m - 4, out: [2]uint64{m - 4, 0}, martians: 4})
	l.All.RPFilter = 0
	g.forwardedTo("all.rp_filter 0", g.batch(fwdDst, srcs...), m, 0)
	l.Conf(eth0).RPFilter = 2
	g.forwardedTo("eth0 rp_filter 2", g.batch(fwdDst, srcs...), m, 0)
	l.Conf(eth0).RPFilter = 1
	g.check("eth0 rp_filter 1", g.batch(fwdDst, srcs...), outcome{fwd: m - 4, out: [2]uint64{m - 4, 0}, martians: 4})
	l.Conf(eth0).RPFilter = 0
	g.forwardedTo("eth0 rp_filter 0", g.batch(fwdDst, srcs...), m, 0)
}

// TestForwardFollowsAddresses: an address added or removed between
// batches changes the next packet's fate: a destination that became
// local is delivered, a source that became local is a martian unless
// accept_local allows it.
func TestForwardFollowsAddresses(t *testing.T) {
	g := newFwdRig(t)
	l := g.r.IPv4
	eth0 := g.w.Dev("r", "eth0").Ifindex()
	n := uint64(4 * len(fwdFlows))
	g.forwardedTo("initial", g.batch(fwdDst, fwdFlows...), n, 0)

	dstAddr := netip.PrefixFrom(fwdDst, 24)
	g.do(g.rc.AddAddr("sink0", dstAddr))
	g.check("destination made local", g.batch(fwdDst, fwdFlows...), outcome{delivers: n})
	g.do(g.rc.DelAddr("sink0", dstAddr))
	// Deleting a second address on a subnet keeps the prefix route.
	g.forwardedTo("destination no longer local", g.batch(fwdDst, fwdFlows...), n, 0)

	srcAddr := netip.PrefixFrom(fwdFlows[3], 32)
	g.do(g.rc.AddAddr("sink1", srcAddr))
	g.check("a source made local", g.batch(fwdDst, fwdFlows...), outcome{fwd: n - 4, out: [2]uint64{n - 4, 0}, discards: 4})
	l.Conf(eth0).AcceptLocal = true
	g.forwardedTo("accept_local 1", g.batch(fwdDst, fwdFlows...), n, 0)
	l.Conf(eth0).AcceptLocal = false
	g.check("accept_local 0", g.batch(fwdDst, fwdFlows...), outcome{fwd: n - 4, out: [2]uint64{n - 4, 0}, discards: 4})
	g.do(g.rc.DelAddr("sink1", srcAddr))
	g.forwardedTo("source no longer local", g.batch(fwdDst, fwdFlows...), n, 0)
}
