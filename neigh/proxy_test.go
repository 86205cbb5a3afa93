package neigh_test

import (
	"errors"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/usnet/usnet/neigh"
)

// TestRouterFlagKept: `ip neigh add ... router` keeps NTF_ROUTER; a plain
// update keeps it, a replace without it clears it.
func TestRouterFlagKept(t *testing.T) {
	e := newEnv(t)
	ll := [6]byte{2, 0, 0, 0, 0, 9}
	add := func(r neigh.AddRequest) {
		t.Helper()
		r.Dev, r.Addr, r.LLAddr = e.da, peerIP, &ll
		if err := e.tbl.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	add(neigh.AddRequest{State: neigh.StateStale, Flags: neigh.FlagRouter, Create: true, Excl: true})
	n := e.tbl.Lookup(e.da.Ifindex(), peerIP)
	if !n.IsRouter() || n.State != neigh.StateStale {
		t.Fatalf("after add router: flags %#x state %v", n.Flags, n.State)
	}
	// Learned updates (not admin, no OverrideIsRouter) keep it.
	if err := e.tbl.Update(e.da, peerIP, &ll, neigh.StateReachable, neigh.UpdateOverride); err != nil || !n.IsRouter() {
		t.Fatalf("after learned update: err %v router %v", err, n.IsRouter())
	}
	add(neigh.AddRequest{State: neigh.StateStale, Replace: true})
	if n.IsRouter() {
		t.Fatal("replace without router kept NTF_ROUTER")
	}
	add(neigh.AddRequest{State: neigh.StateStale, Flags: neigh.FlagRouter, Replace: true})
	if !n.IsRouter() {
		t.Fatal("change with router did not set NTF_ROUTER")
	}
}

// TestExtLearnedFollowsAdmin: NTF_EXT_LEARNED is set and cleared by
// administrative updates, and moves the entry in and out of the gc count.
func TestExtLearnedFollowsAdmin(t *testing.T) {
	e := newEnv(t)
	e.tbl.GCThresh2, e.tbl.GCThresh3 = 1, 1
	ll := [6]byte{2, 0, 0, 0, 0, 9}
	r := neigh.AddRequest{Dev: e.da, Addr: peerIP, LLAddr: &ll, State: neigh.StateStale, Flags: neigh.FlagExtLearned, Create: true, Replace: true}
	if err := e.tbl.Add(r); err != nil {
		t.Fatal(err)
	}
	// Exempt: an ordinary entry still fits under gc_thresh3 = 1.
	if _, err := e.tbl.LookupOrCreate(e.da, addr(1)); err != nil {
		t.Fatalf("exempt entry counted: %v", err)
	}
	if err := e.tbl.Delete(e.da, addr(1)); err != nil {
		t.Fatal(err)
	}
	r.Flags = 0
	if err := e.tbl.Add(r); err != nil {
		t.Fatal(err)
	}
	if n := e.tbl.Lookup(e.da.Ifindex(), peerIP); n.Flags&neigh.FlagExtLearned != 0 {
		t.Fatal("replace without extern_learn kept the flag")
	}
	// Counted now, and too young for forced gc: the table is full.
	if _, err := e.tbl.LookupOrCreate(e.da, addr(2)); !errors.Is(err, syscall.ENOBUFS) {
		t.Fatalf("entry without extern_learn not counted: %v", err)
	}
}

// TestProxyEntries: the pneigh table: create and update regardless of
// NLM_F flags, wildcard entries, lookup, delete, bound, device events.
func TestProxyEntries(t *testing.T) {
	e := newEnv(t)
	a1, a2 := netip.MustParseAddr("10.0.0.11"), netip.MustParseAddr("10.0.0.12")
	padd := func(r neigh.AddRequest) error {
		r.Flags |= neigh.FlagProxy
		return e.tbl.Add(r)
	}
	if err := padd(neigh.AddRequest{Dev: e.da, Addr: a1, State: neigh.StatePermanent, Create: true, Excl: true}); err != nil {
		t.Fatal(err)
	}
	// Linux ignores NLM_F_EXCL and NLM_F_CREATE for proxies.
	if err := padd(neigh.AddRequest{Dev: e.da, Addr: a1, Flags: neigh.FlagRouter, Protocol: 4, Excl: true}); err != nil {
		t.Fatal(err)
	}
	if e.tbl.Len() != 0 || e.tbl.ProxyLen() != 1 {
		t.Fatalf("entries %d proxies %d", e.tbl.Len(), e.tbl.ProxyLen())
	}
	p := e.tbl.LookupProxy(e.da, a1)
	if p == nil || p.Flags != neigh.FlagProxy|neigh.FlagRouter || p.Protocol != 4 || p.Permanent || p.Ifindex() != e.da.Ifindex() {
		t.Fatalf("proxy entry %+v", p)
	}
	if e.tbl.LookupProxy(e.a.Dev.ByName("lo"), a1) != nil || e.tbl.LookupProxy(e.da, a2) != nil {
		t.Fatal("lookup matched another device or address")
	}
	// A wildcard entry answers on every device.
	if err := padd(neigh.AddRequest{Addr: a2}); err != nil {
		t.Fatal(err)
	}
	if p := e.tbl.LookupProxy(e.da, a2); p == nil || p.Dev != nil {
		t.Fatalf("wildcard lookup: %+v", p)
	}
	if l := e.tbl.DumpProxy(); len(l) != 2 || l[0].Addr != a2 || l[1].Addr != a1 {
		t.Fatalf("dump order %v", l)
	}
	// Deletion matches the device exactly.
	if err := e.tbl.DeleteProxy(e.da, a2); !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("delete wildcard through a device: %v", err)
	}
	if err := e.tbl.DeleteProxy(nil, a2); err != nil {
		t.Fatal(err)
	}
	// Bounded.
	e.tbl.MaxProxy = 1
	if err := padd(neigh.AddRequest{Dev: e.da, Addr: a2}); !errors.Is(err, syscall.ENOBUFS) {
		t.Fatalf("over MaxProxy: %v", err)
	}
	// Carrier loss spares permanent entries, down removes all.
	e.tbl.MaxProxy = 10
	_ = padd(neigh.AddRequest{Dev: e.da, Addr: a1, State: neigh.StatePermanent})
	_ = padd(neigh.AddRequest{Dev: e.da, Addr: a2})
	_ = padd(neigh.AddRequest{Addr: netip.MustParseAddr("10.0.0.13")})
	e.db.Down()
	e.s.Sim.RunFor(time.Millisecond)
	if e.tbl.LookupProxy(e.da, a2) != nil || e.tbl.LookupProxy(e.da, a1) == nil {
		t.Fatal("carrier loss: want only the permanent entry kept")
	}
	e.da.Down()
	if e.tbl.LookupProxy(e.da, a1) != nil || e.tbl.ProxyLen() != 1 {
		t.Fatalf("down: %d proxies left, want the wildcard only", e.tbl.ProxyLen())
	}
	if len(e.events) != 0 {
		t.Fatalf("proxy changes notified: %v", e.events)
	}
}
