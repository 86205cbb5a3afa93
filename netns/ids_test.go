package netns

import (
	"errors"
	"syscall"
	"testing"

	"github.com/usnet/usnet/executor"
)

func newTestWorld(t *testing.T, names ...string) (*World, []*Net) {
	t.Helper()
	sim := executor.NewSim(1)
	w, err := NewWorld(Config{NewExecutor: sim.Executor})
	if err != nil {
		t.Fatal(err)
	}
	nets := []*Net{w.Default()}
	for _, name := range names {
		n, err := w.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		nets = append(nets, n)
	}
	return w, nets
}

// Ids are allocated on demand from 0, per namespace: the first peer a
// namespace has to name is 0 there, whatever the other tables say.
func TestPeerIDAllocLowestFree(t *testing.T) {
	w, n := newTestWorld(t, "a", "b", "c")
	var evs []IDEvent
	w.SubscribeIDs(func(ev IDEvent) { evs = append(evs, ev) })
	if id := n[0].PeerID(n[1]); id != NSIDNotAssigned {
		t.Fatalf("unassigned lookup = %d", id)
	}
	if id := n[0].PeerIDAlloc(n[2]); id != 0 {
		t.Fatalf("first id = %d, want 0", id)
	}
	if id := n[0].PeerIDAlloc(n[2]); id != 0 {
		t.Fatalf("second lookup = %d, want the same 0", id)
	}
	if id := n[0].PeerIDAlloc(n[1]); id != 1 {
		t.Fatalf("next id = %d, want 1", id)
	}
	if id := n[1].PeerIDAlloc(n[0]); id != 0 {
		t.Fatalf("b's first id = %d, want 0 (tables are per namespace)", id)
	}
	if len(evs) != 3 {
		t.Fatalf("events %+v, want one per allocation", evs)
	}
	if e := evs[0]; e.Net != n[0] || e.Peer != n[2] || e.ID != 0 || e.Deleted {
		t.Errorf("first event %+v", e)
	}
	if p := n[0].PeerByID(1); p != n[1] {
		t.Errorf("PeerByID(1) = %v", p)
	}
	if p := n[0].PeerByID(7); p != nil {
		t.Errorf("PeerByID(7) = %v", p)
	}
	// A namespace may name itself.
	if id := n[3].PeerIDAlloc(n[3]); id != 0 {
		t.Errorf("self id = %d", id)
	}
}

// `ip netns set NAME NSID`: the chosen id, the errors of rtnl_net_newid,
// and a gap below an explicit id filled by the next automatic one.
func TestAllocPeerIDExplicit(t *testing.T) {
	w, n := newTestWorld(t, "a", "b", "c")
	var evs []IDEvent
	w.SubscribeIDs(func(ev IDEvent) { evs = append(evs, ev) })
	if id, err := n[0].AllocPeerID(n[1], 5, "req"); err != nil || id != 5 {
		t.Fatalf("AllocPeerID 5 = %d, %v", id, err)
	}
	if len(evs) != 1 || evs[0].Req != "req" || evs[0].ID != 5 {
		t.Fatalf("events %+v", evs)
	}
	if _, err := n[0].AllocPeerID(n[1], 6, nil); !errors.Is(err, ErrPeerHasID) || !errors.Is(err, syscall.EEXIST) {
		t.Errorf("second id for a peer: %v", err)
	}
	if _, err := n[0].AllocPeerID(n[2], 5, nil); !errors.Is(err, ErrIDUsed) {
		t.Errorf("used id: %v", err)
	}
	if id, err := n[0].AllocPeerID(n[2], -1, nil); err != nil || id != 0 {
		t.Errorf("auto id = %d, %v; want 0", id, err)
	}
	if id := n[0].PeerIDAlloc(n[3]); id != 1 {
		t.Errorf("on-demand id = %d, want 1", id)
	}
	got := n[0].PeerIDs()
	if len(got) != 3 || got[0].ID != 0 || got[1].ID != 1 || got[2].ID != 5 || got[2].Peer != n[1] {
		t.Errorf("PeerIDs = %+v", got)
	}
}

// Deleting a namespace drops its id from every other table, with one
// deletion event each, and frees the id for reuse.
func TestPeerIDsDroppedOnDelete(t *testing.T) {
	w, n := newTestWorld(t, "a", "b")
	n[0].PeerIDAlloc(n[1])
	n[0].PeerIDAlloc(n[2])
	n[2].PeerIDAlloc(n[1])
	n[1].PeerIDAlloc(n[0]) // a's own table goes silently
	var evs []IDEvent
	w.SubscribeIDs(func(ev IDEvent) { evs = append(evs, ev) })
	if err := w.Delete("a"); err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 {
		t.Fatalf("events %+v, want 2 deletions", evs)
	}
	for _, e := range evs {
		if !e.Deleted || e.Peer != n[1] {
			t.Errorf("event %+v", e)
		}
	}
	if evs[0].Net != n[0] || evs[0].ID != 0 || evs[1].Net != n[2] || evs[1].ID != 0 {
		t.Errorf("events %+v: want default's id 0 then b's id 0", evs)
	}
	if id := n[0].PeerID(n[1]); id != NSIDNotAssigned {
		t.Errorf("deleted peer still has id %d", id)
	}
	if id := n[0].PeerIDAlloc(n[1]); id != NSIDNotAssigned {
		t.Errorf("a deleted namespace got id %d", id)
	}
	if _, err := n[0].AllocPeerID(n[1], 3, nil); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("explicit id for a deleted namespace: %v", err)
	}
	n3, err := w.Create("c")
	if err != nil {
		t.Fatal(err)
	}
	if id := n[0].PeerIDAlloc(n3); id != 0 {
		t.Errorf("freed id not reused: %d", id)
	}
}

func TestPeerIDTableBounded(t *testing.T) {
	_, n := newTestWorld(t, "a")
	n[0].PeerIDAlloc(n[0]) // id 0; then fill the rest with stand-ins
	for i := int32(1); i < MaxPeerIDs; i++ {
		p := &Net{name: "x", world: n[0].world}
		n[0].ids.byID[i], n[0].ids.byNet[p] = p, i
	}
	if id := n[0].PeerIDAlloc(n[1]); id != NSIDNotAssigned {
		t.Errorf("full table allocated %d", id)
	}
	if _, err := n[0].AllocPeerID(n[1], -1, nil); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("full table: %v", err)
	}
}
