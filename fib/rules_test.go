package fib_test

import (
	"errors"
	"net/netip"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/usnet/usnet/fib"
	"github.com/usnet/usnet/ipv4"
)

func mustAdd(t *testing.T, f *fib.FIB, table uint32, dst, gw string, typ uint8) {
	t.Helper()
	r := fib.Route{Table: table, Dst: netip.MustParsePrefix(dst), Type: typ, Protocol: unix.RTPROT_BOOT}
	if gw != "" {
		r.Nexthops = []fib.Nexthop{{Gateway: netip.MustParseAddr(gw)}}
	}
	if err := f.Add(r, unix.NLM_F_CREATE|unix.NLM_F_EXCL, fib.Info{}); err != nil {
		t.Fatalf("add %s table %d: %v", dst, table, err)
	}
}

func mustRule(t *testing.T, f *fib.FIB, r fib.Rule) {
	t.Helper()
	if r.Action == 0 {
		r.Action = unix.FR_ACT_TO_TBL
	}
	r.SuppressIfgroup = -1
	if r.SuppressPrefixLen == 0 {
		r.SuppressPrefixLen = -1 // unset; see the suppress_prefixlength 0 rule below
	}
	if err := f.AddRule(r, unix.NLM_F_CREATE|unix.NLM_F_EXCL, fib.Info{}); err != nil {
		t.Fatalf("rule %+v: %v", r, err)
	}
}

// TestRuleEvaluationOrder checks fib_rules_lookup's walk: by priority,
// equal priorities in insertion order, goto skipping ahead, nop and
// throw continuing, suppress_prefixlength discarding short matches, and
// the terminal actions' errors.
func TestRuleEvaluationOrder(t *testing.T) {
	_, ns := rig(t)
	f := ns.FIB
	mustAdd(t, f, unix.RT_TABLE_MAIN, "0.0.0.0/0", "10.0.0.254", unix.RTN_UNICAST)
	mustAdd(t, f, 100, "0.0.0.0/0", "10.0.1.100", unix.RTN_UNICAST)
	mustAdd(t, f, 100, "198.51.100.0/24", "", unix.RTN_THROW)
	mustAdd(t, f, 200, "0.0.0.0/0", "10.0.1.200", unix.RTN_UNICAST)
	mustAdd(t, f, 300, "203.0.113.0/24", "10.0.1.30", unix.RTN_UNICAST)

	to := func(p string) netip.Prefix { return netip.MustParsePrefix(p) }
	// Same priority: the first added is tried first.
	mustRule(t, f, fib.Rule{Priority: 100, Dst: to("192.0.2.0/24"), Table: 100})
	mustRule(t, f, fib.Rule{Priority: 100, Dst: to("192.0.2.0/24"), Table: 200})
	// goto 150 skips the unreachable rule at 120.
	mustRule(t, f, fib.Rule{Priority: 110, Dst: to("203.0.113.0/24"), Action: unix.FR_ACT_GOTO, Goto: 150})
	mustRule(t, f, fib.Rule{Priority: 120, Dst: to("203.0.113.0/24"), Action: unix.FR_ACT_UNREACHABLE})
	mustRule(t, f, fib.Rule{Priority: 150, Action: unix.FR_ACT_NOP})
	mustRule(t, f, fib.Rule{Priority: 160, Dst: to("203.0.113.0/24"), Table: 300})
	// throw in table 100 falls through to main.
	mustRule(t, f, fib.Rule{Priority: 170, Dst: to("198.51.100.0/24"), Table: 100})
	// Errors of the terminal actions.
	mustRule(t, f, fib.Rule{Priority: 180, Dst: to("100.64.0.0/16"), Action: unix.FR_ACT_PROHIBIT})
	mustRule(t, f, fib.Rule{Priority: 181, Dst: to("100.65.0.0/16"), Action: unix.FR_ACT_BLACKHOLE})
	mustRule(t, f, fib.Rule{Priority: 182, Dst: to("100.66.0.0/16"), Action: unix.FR_ACT_UNREACHABLE})
	// suppress_prefixlength 0: main's default route does not count here,
	// so the later rule for table 200 decides.
	err := f.AddRule(fib.Rule{Priority: 190, Dst: to("100.67.0.0/16"), Action: unix.FR_ACT_TO_TBL, Table: unix.RT_TABLE_MAIN,
		SuppressPrefixLen: 0, SuppressIfgroup: -1}, unix.NLM_F_CREATE, fib.Info{})
	if err != nil {
		t.Fatal(err)
	}
	mustRule(t, f, fib.Rule{Priority: 191, Dst: to("100.67.0.0/16"), Table: 200})
	// Inverted selector: everything but 10.0.0.0/8 sources... with mark 9.
	mustRule(t, f, fib.Rule{Priority: 195, Mark: 9, Table: 200, Flags: unix.FIB_RULE_INVERT})

	rules := f.Rules()
	for i := 1; i < len(rules); i++ {
		if rules[i].Priority < rules[i-1].Priority {
			t.Fatalf("rules out of order: %d after %d", rules[i].Priority, rules[i-1].Priority)
		}
	}
	cases := []struct {
		dst  string
		mark uint32
		gw   string
		err  error
	}{
		{"192.0.2.1", 9, "10.0.1.100", nil},
		{"203.0.113.5", 9, "10.0.1.30", nil},
		{"198.51.100.5", 9, "10.0.0.254", nil},
		{"100.64.0.1", 9, "", syscall.EACCES},
		{"100.65.0.1", 9, "", syscall.EINVAL},
		{"100.66.0.1", 9, "", syscall.ENETUNREACH},
		{"100.67.0.1", 9, "10.0.1.200", nil},
		{"8.8.8.8", 9, "10.0.0.254", nil},
		{"8.8.8.8", 0, "10.0.1.200", nil}, // not fwmark 9
	}
	for _, c := range cases {
		rt, err := ns.IPv4.RouteOutput(&ipv4.FlowKey{Dst: netip.MustParseAddr(c.dst), Mark: c.mark})
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("%s: error %v, want %v", c.dst, err, c.err)
			}
			continue
		}
		if err != nil || rt.Gateway.String() != c.gw {
			t.Errorf("%s mark %d: via %v (%v), want %s", c.dst, c.mark, rt.Gateway, err, c.gw)
		}
	}
	if err := f.DelRule(fib.Rule{Priority: 999}, fib.Info{}); !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("delete of a missing rule: %v", err)
	}
	if err := f.AddRule(fib.Rule{Priority: 150, Action: unix.FR_ACT_NOP, SuppressPrefixLen: -1, SuppressIfgroup: -1}, unix.NLM_F_CREATE|unix.NLM_F_EXCL, fib.Info{}); !errors.Is(err, syscall.EEXIST) {
		t.Fatalf("identical rule with NLM_F_EXCL: %v", err)
	}
}

// TestMultipathLinkDownUp checks fib_sync_down_dev and fib_sync_up on a
// multipath route: the path through the downed link is marked dead and
// skipped, the route stays; link up revives it.
func TestMultipathLinkDownUp(t *testing.T) {
	s, ns := rig(t)
	f := ns.FIB
	f.Sysctl().MultipathHashPolicy = 1
	err := f.Add(fib.Route{Table: unix.RT_TABLE_MAIN, Dst: netip.MustParsePrefix("100.64.0.0/16"), Type: unix.RTN_UNICAST,
		Nexthops: []fib.Nexthop{{Gateway: netip.MustParseAddr("10.0.0.2")}, {Gateway: netip.MustParseAddr("10.0.1.2")}}},
		unix.NLM_F_CREATE, fib.Info{})
	if err != nil {
		t.Fatal(err)
	}
	paths := func() map[string]int {
		m := map[string]int{}
		for p := 0; p < 200; p++ {
			rt, err := ns.IPv4.RouteOutput(&ipv4.FlowKey{Dst: netip.MustParseAddr("100.64.1.1"), Proto: 6, Sport: uint16(5000 + p), Dport: 80})
			if err != nil {
				t.Fatal(err)
			}
			m[rt.Dev.Name()]++
		}
		return m
	}
	flags := func() []uint32 {
		res, err := f.Get(fib.Query{Dst: netip.MustParseAddr("100.64.1.1"), FibMatch: true})
		if err != nil {
			t.Fatal(err)
		}
		var fl []uint32
		for _, nh := range res.Route.Nexthops {
			fl = append(fl, nh.Flags)
		}
		return fl
	}
	if m := paths(); m["eth0"] == 0 || m["eth1"] == 0 {
		t.Fatalf("both paths up: %v", m)
	}
	eth1 := ns.Dev.ByName("eth1")
	eth1.Down()
	s.Sim.RunFor(1e6)
	if m := paths(); m["eth1"] != 0 || m["eth0"] != 200 {
		t.Fatalf("eth1 down: flows %v, want all on eth0", m)
	}
	if fl := flags(); fl[0] != 0 || fl[1] != unix.RTNH_F_DEAD|unix.RTNH_F_LINKDOWN {
		t.Fatalf("nexthop flags after link down %#x, want [0 dead|linkdown]", fl)
	}
	if err := eth1.Up(); err != nil {
		t.Fatal(err)
	}
	s.Sim.RunFor(1e6)
	if fl := flags(); fl[0] != 0 || fl[1] != 0 {
		t.Fatalf("nexthop flags after link up %#x, want none", fl)
	}
	if m := paths(); m["eth0"] == 0 || m["eth1"] == 0 {
		t.Fatalf("eth1 back up: %v", m)
	}
}

// TestWalkDumpOrder checks the kernel's dump order: tables by id&255,
// within a table by address, the longer of equal addresses first.
func TestWalkDumpOrder(t *testing.T) {
	_, ns := rig(t)
	f := ns.FIB
	for _, p := range []string{"10.0.0.0/8", "10.0.0.0/16", "10.0.0.128/25", "9.0.0.0/8"} {
		mustAdd(t, f, unix.RT_TABLE_MAIN, p, "10.0.0.254", unix.RTN_UNICAST)
	}
	var got []string
	f.Walk(unix.RT_TABLE_MAIN, func(r *fib.Route) bool {
		got = append(got, r.Dst.String())
		return true
	})
	want := []string{"9.0.0.0/8", "10.0.0.0/24", "10.0.0.0/16", "10.0.0.0/8", "10.0.0.128/25", "10.0.1.0/24"}
	if len(got) != len(want) {
		t.Fatalf("dump %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("dump %v, want %v", got, want)
		}
	}
}

// TestRouteOutputDoesNotAllocate: the per-packet lookup is allocation
// free.
func TestRouteOutputDoesNotAllocate(t *testing.T) {
	_, ns := rig(t)
	mustAdd(t, ns.FIB, unix.RT_TABLE_MAIN, "0.0.0.0/0", "10.0.0.254", unix.RTN_UNICAST)
	k := ipv4.FlowKey{Dst: netip.MustParseAddr("8.8.8.8")}
	n := testing.AllocsPerRun(1000, func() {
		if _, err := ns.IPv4.RouteOutput(&k); err != nil {
			t.Fatal(err)
		}
	})
	if n != 0 {
		t.Fatalf("RouteOutput allocates %.1f times per call", n)
	}
}
