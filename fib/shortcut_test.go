package fib_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/usnet/usnet/fib"
)

// TestDefaultRulesShortcutMatchesWalk: with the default rules, skipping
// the rule walk (Linux's path without custom rules) answers every output
// and input lookup exactly as the walk does, over random routes of every
// type in tables local, main and default, with rp_filter off, strict and
// loose.
func TestDefaultRulesShortcutMatchesWalk(t *testing.T) {
	_, ns := rig(t)
	f := ns.FIB
	if !fib.DefaultRulesShortcut(f) {
		t.Fatal("a new FIB does not take the default-rules shortcut")
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	addr := func() netip.Addr {
		if rnd.IntN(8) == 0 {
			return netip.AddrFrom4([4]byte{192, 0, 2, byte(rnd.IntN(256))})
		}
		return netip.AddrFrom4([4]byte{10, 0, byte(rnd.IntN(4)), byte(rnd.IntN(256))})
	}
	types := []uint8{unix.RTN_UNICAST, unix.RTN_UNICAST, unix.RTN_UNICAST, unix.RTN_BLACKHOLE,
		unix.RTN_UNREACHABLE, unix.RTN_PROHIBIT, unix.RTN_THROW, unix.RTN_LOCAL, unix.RTN_BROADCAST}
	tables := []uint32{unix.RT_TABLE_LOCAL, unix.RT_TABLE_MAIN, unix.RT_TABLE_MAIN, unix.RT_TABLE_MAIN,
		unix.RT_TABLE_DEFAULT, unix.RT_TABLE_DEFAULT}
	added := 0
	for range 300 {
		r := fib.Route{
			Table: tables[rnd.IntN(len(tables))], Dst: netip.PrefixFrom(addr(), 16+rnd.IntN(17)).Masked(),
			Type: types[rnd.IntN(len(types))], Protocol: unix.RTPROT_BOOT, Priority: uint32(rnd.IntN(3)),
		}
		if r.Table == unix.RT_TABLE_LOCAL {
			r.Dst = netip.PrefixFrom(r.Dst.Addr(), 26+rnd.IntN(7)).Masked() // few, narrow: as local routes are
		}
		if rnd.IntN(4) == 0 {
			r.TOS = 0x10
		}
		switch r.Type {
		case unix.RTN_UNICAST:
			i := rnd.IntN(2)
			r.Nexthops = []fib.Nexthop{{Ifindex: ns.Dev.ByName([]string{"eth0", "eth1"}[i]).Ifindex()}}
			if rnd.IntN(2) == 0 {
				r.Nexthops[0].Gateway = netip.AddrFrom4([4]byte{10, 0, byte(i), 2})
			}
		case unix.RTN_LOCAL, unix.RTN_BROADCAST:
			r.Nexthops = []fib.Nexthop{{Ifindex: ns.Dev.ByName("eth0").Ifindex()}}
			r.Scope = unix.RT_SCOPE_LINK
			if r.Type == unix.RTN_LOCAL {
				r.Scope = unix.RT_SCOPE_HOST
			}
		}
		if f.Add(r, unix.NLM_F_CREATE|unix.NLM_F_APPEND, fib.Info{}) == nil {
			added++ // some combinations are refused, as Linux refuses them
		}
	}
	if added < 200 {
		t.Fatalf("only %d of 300 random routes added", added)
	}
	eth0, eth1 := ns.Dev.ByName("eth0").Ifindex(), ns.Dev.ByName("eth1").Ifindex()
	ns.IPv4.SetForwarding(true)
	outcomes := map[string]int{}
	for i := range 5000 {
		ns.IPv4.All.RPFilter = i % 3
		q := fib.Query{Dst: addr(), TOS: []uint8{0, 0x10}[rnd.IntN(2)]}
		switch rnd.IntN(3) {
		case 1:
			q.Iif, q.Src = eth0, addr()
		case 2:
			q.Iif, q.Src = eth1, addr()
		}
		fib.SetDefaultRulesShortcut(f, false)
		want, werr := f.Get(q)
		fib.SetDefaultRulesShortcut(f, true)
		got, gerr := f.Get(q)
		if gerr != werr || got.Type != want.Type || got.Table != want.Table || got.Dev != want.Dev ||
			got.Gateway != want.Gateway || got.Prefsrc != want.Prefsrc || got.Flags != want.Flags {
			t.Fatalf("%+v: shortcut %+v, %v; rule walk %+v, %v", q, got, gerr, want, werr)
		}
		if werr != nil {
			outcomes[werr.Error()]++
		} else {
			outcomes[fmt.Sprintf("type %d table %d", want.Type, want.Table)]++
		}
	}
	if len(outcomes) < 8 {
		t.Fatalf("the lookups reached too few outcomes: %v", outcomes)
	}
	t.Log(outcomes)
}

// TestDefaultRulesShortcutFollowsRules: any rule added turns the
// shortcut off; it comes back when the rules are the default three again,
// and not while a default rule is missing.
func TestDefaultRulesShortcutFollowsRules(t *testing.T) {
	_, ns := rig(t)
	f := ns.FIB
	r := fib.Rule{Priority: 100, Src: netip.MustParsePrefix("10.0.0.0/24"), Table: 100}
	mustRule(t, f, r)
	if fib.DefaultRulesShortcut(f) {
		t.Fatal("shortcut taken with a custom rule")
	}
	if err := f.DelRule(fib.Rule{Priority: 100}, fib.Info{}); err != nil {
		t.Fatal(err)
	}
	if !fib.DefaultRulesShortcut(f) {
		t.Fatal("shortcut not taken with the default rules back")
	}
	if err := f.DelRule(fib.Rule{Priority: 32767}, fib.Info{}); err != nil {
		t.Fatal(err)
	}
	if fib.DefaultRulesShortcut(f) {
		t.Fatal("shortcut taken without the default table's rule")
	}
	mustRule(t, f, fib.Rule{Priority: 32767, Table: unix.RT_TABLE_DEFAULT})
	if !fib.DefaultRulesShortcut(f) {
		t.Fatal("shortcut not taken with the default rule re-added")
	}
}
