package neigh_test

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/usnet/usnet/neigh"
)

func TestResolutionFlushesQueueInOrder(t *testing.T) {
	e := newEnv(t)
	t0 := e.now()
	for id := 1; id <= 3; id++ {
		e.output(peerIP, id)
	}
	if st := e.state(peerIP); st != neigh.StateIncomplete {
		t.Fatalf("state %v, want INCOMPLETE", st)
	}
	if len(e.ops.solicits) != 1 || e.ops.solicits[0].unicast || e.ops.solicits[0].at != t0 || e.ops.solicits[0].qid != 1 {
		t.Fatalf("solicits %+v, want one broadcast at once with packet 1 as context", e.ops.solicits)
	}
	if n, _ := e.tbl.Lookup(e.da.Ifindex(), peerIP).QueueLen(); n != 3 {
		t.Fatalf("queued %d", n)
	}
	if err := e.tbl.Update(e.da, peerIP, &peerLL, neigh.StateReachable, neigh.UpdateOverride); err != nil {
		t.Fatal(err)
	}
	e.runTo(e.now() + time.Millisecond)
	if fmt.Sprint(ids(e.rx)) != "[1 2 3]" {
		t.Fatalf("received %v, want [1 2 3]", ids(e.rx))
	}
	for _, f := range e.rx {
		if f.dst != peerLL || f.src != e.da.Addr() {
			t.Fatalf("header %x <- %x", f.dst, f.src)
		}
	}
	// Resolved: the next packet goes straight out.
	e.output(peerIP, 4)
	e.runTo(e.now() + time.Millisecond)
	if len(e.rx) != 4 || e.state(peerIP) != neigh.StateReachable {
		t.Fatalf("rx %v state %v", ids(e.rx), e.state(peerIP))
	}
	if fmt.Sprint(e.events) != "[new 10.0.0.2 REACHABLE]" {
		t.Fatalf("events %v", e.events)
	}
	if e.tbl.Stats.Allocs != 1 || e.tbl.Stats.Lookups != 4 || e.tbl.Stats.Hits != 3 {
		t.Fatalf("stats %+v", e.tbl.Stats)
	}
}

func TestIncompleteFailsAfterThreeProbes(t *testing.T) {
	e := newEnv(t)
	t0 := e.now()
	e.output(peerIP, 1)
	e.output(peerIP, 2)
	e.runTo(t0 + 3*time.Second - time.Nanosecond)
	if st := e.state(peerIP); st != neigh.StateIncomplete {
		t.Fatalf("state %v just before 3 s", st)
	}
	e.runTo(t0 + 3*time.Second)
	if st := e.state(peerIP); st != neigh.StateFailed {
		t.Fatalf("state %v at 3 s, want FAILED", st)
	}
	var at []time.Duration
	for _, s := range e.ops.solicits {
		if s.unicast {
			t.Fatal("unicast solicit while INCOMPLETE")
		}
		at = append(at, s.at-t0)
	}
	if fmt.Sprint(at) != "[0s 1s 2s]" {
		t.Fatalf("solicits at %v, want [0s 1s 2s]", at)
	}
	if fmt.Sprint(e.ops.errs) != "[1 2]" || e.tbl.Stats.ResFailed != 1 {
		t.Fatalf("error reports %v, res_failed %d", e.ops.errs, e.tbl.Stats.ResFailed)
	}
	if fmt.Sprint(e.events) != "[new 10.0.0.2 FAILED]" {
		t.Fatalf("events %v", e.events)
	}
	// Output on a FAILED entry starts a new round.
	e.output(peerIP, 3)
	if e.state(peerIP) != neigh.StateIncomplete || len(e.ops.solicits) != 4 {
		t.Fatalf("state %v solicits %d", e.state(peerIP), len(e.ops.solicits))
	}
	if e.s.Pool().Live() != 1 {
		t.Fatalf("%d live buffers, want the one queued", e.s.Pool().Live())
	}
}

func TestQueueByteLimitDropsOldest(t *testing.T) {
	e := newEnv(t)
	p := e.tbl.Params(0)
	p.QueueLenBytes = 2 * neigh.Truesize(100)
	if err := e.tbl.SetParams(e.da.Ifindex(), p); err != nil {
		t.Fatal(err)
	}
	for id := 1; id <= 4; id++ {
		e.output(peerIP, id)
	}
	n, bytes := e.tbl.Lookup(e.da.Ifindex(), peerIP).QueueLen()
	if n != 2 || bytes != 2*neigh.Truesize(100) || e.tbl.Stats.UnresDiscards != 2 {
		t.Fatalf("queue %d/%d bytes, discards %d", n, bytes, e.tbl.Stats.UnresDiscards)
	}
	e.tbl.Update(e.da, peerIP, &peerLL, neigh.StateReachable, neigh.UpdateOverride)
	e.runTo(e.now() + time.Millisecond)
	if fmt.Sprint(ids(e.rx)) != "[3 4]" {
		t.Fatalf("received %v, want the newest two", ids(e.rx))
	}
}

func TestReachableBecomesStale(t *testing.T) {
	e := newEnv(t)
	e.output(peerIP, 1)
	e.tbl.Update(e.da, peerIP, &peerLL, neigh.StateReachable, neigh.UpdateOverride)
	t0 := e.now()
	rt := e.tbl.ReachableTime(e.da.Ifindex())
	if rt < 15*time.Second || rt >= 45*time.Second {
		t.Fatalf("reachable_time %v outside [15s, 45s)", rt)
	}
	e.runTo(t0 + rt - time.Nanosecond)
	if st := e.state(peerIP); st != neigh.StateReachable {
		t.Fatalf("state %v before reachable_time", st)
	}
	e.runTo(t0 + rt)
	if st := e.state(peerIP); st != neigh.StateStale {
		t.Fatalf("state %v at reachable_time, want STALE", st)
	}
}

func TestStaleDelayProbe(t *testing.T) {
	for _, tc := range []struct {
		name    string
		act     func(e *env)
		want    neigh.State
		probes  int
		atDelay bool
	}{
		{"confirm", func(e *env) { e.tbl.Confirm(e.da, peerIP) }, neigh.StateReachable, 0, true},
		{"reply", func(e *env) {
			e.runTo(e.now() + 5*time.Second + 500*time.Millisecond) // in PROBE
			e.tbl.Update(e.da, peerIP, &peerLL, neigh.StateReachable, 0)
		}, neigh.StateReachable, 1, false},
		{"silence", func(e *env) {}, neigh.StateFailed, 3, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			if e.tbl.EventNS(e.da, peerIP, peerLL) == nil || e.state(peerIP) != neigh.StateStale {
				t.Fatalf("EventNS: state %v", e.state(peerIP))
			}
			t0 := e.now()
			e.output(peerIP, 1)
			if e.state(peerIP) != neigh.StateDelay {
				t.Fatalf("state %v after use, want DELAY", e.state(peerIP))
			}
			e.runTo(t0 + time.Millisecond)
			if len(e.rx) != 1 {
				t.Fatal("packet not sent on a STALE entry")
			}
			tc.act(e)
			e.runTo(t0 + 5*time.Second)
			if tc.atDelay && e.state(peerIP) != tc.want {
				t.Fatalf("state %v at delay_first_probe_time", e.state(peerIP))
			}
			e.runTo(t0 + 10*time.Second)
			if e.state(peerIP) != tc.want || len(e.ops.solicits) != tc.probes {
				t.Fatalf("state %v, solicits %+v", e.state(peerIP), e.ops.solicits)
			}
			for i, s := range e.ops.solicits {
				if !s.unicast || s.dst != peerLL || s.at != t0+5*time.Second+time.Duration(i)*time.Second {
					t.Fatalf("probe %d: %+v", i, s)
				}
			}
		})
	}
}

func TestPermanentEntries(t *testing.T) {
	e := newEnv(t)
	ll := peerLL
	other := [6]byte{0x02, 9, 9, 9, 9, 9}
	add := neigh.AddRequest{Dev: e.da, Addr: peerIP, LLAddr: &ll, State: neigh.StatePermanent, Create: true, Excl: true}
	if err := e.tbl.Add(add); err != nil {
		t.Fatal(err)
	}
	if err := e.tbl.Add(add); !errors.Is(err, syscall.EEXIST) {
		t.Fatalf("second add: %v, want EEXIST", err)
	}
	if err := e.tbl.Update(e.da, peerIP, &other, neigh.StateReachable, neigh.UpdateOverride); !errors.Is(err, syscall.EPERM) {
		t.Fatalf("protocol update of a permanent entry: %v, want EPERM", err)
	}
	e.output(peerIP, 1)
	e.runTo(e.now() + time.Hour)
	if e.state(peerIP) != neigh.StatePermanent || len(e.rx) != 1 || e.rx[0].dst != ll {
		t.Fatalf("state %v rx %+v", e.state(peerIP), e.rx)
	}
	// Carrier loss keeps PERMANENT entries; administrative down does not.
	e.tbl.EventNS(e.da, netip.MustParseAddr("10.0.0.3"), peerLL)
	e.db.Down()
	e.runTo(e.now() + time.Millisecond)
	if e.da.Carrier() || e.tbl.Len() != 1 || e.state(peerIP) != neigh.StatePermanent {
		t.Fatalf("after carrier loss: carrier %v, %d entries", e.da.Carrier(), e.tbl.Len())
	}
	e.da.Down()
	if e.tbl.Len() != 0 {
		t.Fatalf("%d entries after down", e.tbl.Len())
	}
}

func TestAddChangeDelete(t *testing.T) {
	e := newEnv(t)
	ll := peerLL
	if err := e.tbl.Add(neigh.AddRequest{Dev: e.da, Addr: peerIP, LLAddr: &ll, State: neigh.StateReachable, Replace: true}); !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("change of absent entry: %v, want ENOENT", err)
	}
	if err := e.tbl.Add(neigh.AddRequest{Dev: e.da, Addr: peerIP, State: neigh.StateReachable, Create: true}); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("add without lladdr: %v, want EINVAL", err)
	}
	if err := e.tbl.Add(neigh.AddRequest{Dev: e.da, Addr: peerIP, LLAddr: &ll, State: neigh.StateStale, Create: true, Replace: true}); err != nil {
		t.Fatal(err)
	}
	if err := e.tbl.Delete(e.da, netip.MustParseAddr("10.0.0.9")); !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("delete absent: %v", err)
	}
	if err := e.tbl.Delete(e.da, peerIP); err != nil {
		t.Fatal(err)
	}
	want := "[new 10.0.0.2 STALE new 10.0.0.2 FAILED del 10.0.0.2 FAILED]"
	if fmt.Sprint(e.events) != want {
		t.Fatalf("events %v\nwant %s", e.events, want)
	}
}

func TestLocktimeAndOverride(t *testing.T) {
	e := newEnv(t)
	e.tbl.EventNS(e.da, peerIP, peerLL)
	other := [6]byte{0x02, 7, 7, 7, 7, 7}
	// Without override a different address is ignored.
	e.tbl.Update(e.da, peerIP, &other, neigh.StateReachable, 0)
	if n := e.tbl.Lookup(e.da.Ifindex(), peerIP); n.LLAddr != peerLL || n.State != neigh.StateStale {
		t.Fatalf("entry %x %v", n.LLAddr, n.State)
	}
	// Same address, STALE: no change (a request does not demote).
	e.tbl.Update(e.da, peerIP, &peerLL, neigh.StateReachable, 0)
	e.tbl.Update(e.da, peerIP, &peerLL, neigh.StateStale, neigh.UpdateOverride)
	if n := e.tbl.Lookup(e.da.Ifindex(), peerIP); n.State != neigh.StateReachable {
		t.Fatalf("state %v, want REACHABLE kept", n.State)
	}
	// Weak override of a connected entry: STALE, old address kept.
	e.tbl.Update(e.da, peerIP, &other, neigh.StateReachable, neigh.UpdateWeakOverride)
	if n := e.tbl.Lookup(e.da.Ifindex(), peerIP); n.State != neigh.StateStale || n.LLAddr != peerLL {
		t.Fatalf("weak override: %v %x", n.State, n.LLAddr)
	}
	e.tbl.Update(e.da, peerIP, &other, neigh.StateStale, neigh.UpdateOverride)
	n := e.tbl.Lookup(e.da.Ifindex(), peerIP)
	if h := n.Header(); n.LLAddr != other || [6]byte(h[0:6]) != other {
		t.Fatalf("override: %x header %x", n.LLAddr, n.Header())
	}
}
