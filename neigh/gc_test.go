package neigh_test

import (
	"errors"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/usnet/usnet/neigh"
	"github.com/usnet/usnet/skb"
)

func addr(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}) }

func TestGCThresholds(t *testing.T) {
	e := newEnv(t)
	e.tbl.GCThresh1, e.tbl.GCThresh2, e.tbl.GCThresh3 = 2, 4, 8
	ll := peerLL
	add := func(i int, st neigh.State) error {
		return e.tbl.Add(neigh.AddRequest{Dev: e.da, Addr: addr(i), LLAddr: &ll, State: st, Create: true, Excl: true})
	}
	if err := add(1000, neigh.StatePermanent); err != nil { // exempt, not counted
		t.Fatal(err)
	}
	for i := range 8 {
		if err := add(i, neigh.StateStale); err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
	}
	// At gc_thresh3 with every entry younger than 5 s: refused.
	if err := add(8, neigh.StateStale); !errors.Is(err, syscall.ENOBUFS) {
		t.Fatalf("entry over gc_thresh3: %v, want ENOBUFS", err)
	}
	if e.tbl.Stats.TableFulls != 1 || e.tbl.Stats.ForcedGCRuns != 1 {
		t.Fatalf("stats %+v", e.tbl.Stats)
	}
	// Output to a new next hop drops the packet rather than queue it.
	out := skb.NewBatch(1)
	e.tbl.Output(e.da, addr(9), e.pkt(1, 40), out)
	if out.Len() != 0 || e.tbl.Lookup(e.da.Ifindex(), addr(9)) != nil || e.s.Pool().Live() != 0 {
		t.Fatal("packet to an uncreatable entry not dropped")
	}
	// Older than 5 s: forced GC brings the table back to gc_thresh2,
	// oldest first.
	e.runTo(e.now() + 6*time.Second)
	if err := add(8, neigh.StateStale); err != nil {
		t.Fatal(err)
	}
	if e.tbl.Len() != 1+4+1 || e.tbl.Lookup(e.da.Ifindex(), addr(0)) != nil || e.tbl.Lookup(e.da.Ifindex(), addr(4)) == nil {
		t.Fatalf("after forced GC: %d entries", e.tbl.Len())
	}
	// Periodic GC removes entries unused for gc_stale_time (60 s);
	// PERMANENT ones stay.
	e.runTo(e.now() + 2*time.Minute)
	if e.tbl.Len() != 1 || e.tbl.Lookup(e.da.Ifindex(), addr(1000)) == nil {
		t.Fatalf("after periodic GC: %d entries", e.tbl.Len())
	}
	if e.tbl.Stats.PeriodicGCRuns == 0 {
		t.Fatal("no periodic GC run")
	}
}

// TestMACChangeFlushes: a hardware-address change flushes the device's
// entries as neigh_changeaddr does, so the next packet resolves again and
// its header carries the new source MAC.
func TestMACChangeFlushes(t *testing.T) {
	e := newEnv(t)
	e.tbl.EventNS(e.da, peerIP, peerLL)
	e.output(peerIP, 1)
	newMAC := [6]byte{0x02, 0xaa, 0, 0, 0, 1}
	if err := e.da.SetAddr(newMAC); err != nil {
		t.Fatal(err)
	}
	if e.tbl.Len() != 0 {
		t.Fatal("entries survive a MAC change")
	}
	e.output(peerIP, 2)
	e.tbl.Update(e.da, peerIP, &peerLL, neigh.StateReachable, neigh.UpdateOverride)
	e.runTo(e.now() + time.Millisecond)
	if len(e.rx) != 2 || e.rx[0].src != [6]byte{0x02, 0, 0, 0, 0, 1} || e.rx[1].src != newMAC {
		t.Fatalf("rx %+v", e.rx)
	}
	h := e.tbl.Lookup(e.da.Ifindex(), peerIP).Header()
	if [6]byte(h[6:12]) != newMAC || h[12] != 0x08 || h[13] != 0 {
		t.Fatalf("cached header %x", h)
	}
}

func TestLoopbackIsNoARP(t *testing.T) {
	e := newEnv(t)
	lo := e.a.Lo
	lo.Up()
	out := skb.NewBatch(1)
	e.tbl.Output(lo, netip.MustParseAddr("127.0.0.1"), e.pkt(1, 40), out)
	n := e.tbl.Lookup(lo.Ifindex(), netip.MustParseAddr("127.0.0.1"))
	if out.Len() != 1 || n.State != neigh.StateNoARP || len(e.ops.solicits) != 0 {
		t.Fatalf("out %d state %v", out.Len(), n.State)
	}
	if h := out.At(0).Bytes()[:14]; [12]byte(h[:12]) != [12]byte{} || h[12] != 8 {
		t.Fatalf("lo header %x", h)
	}
	out.Free()
}

// BenchmarkOutputResolved is the data path: a REACHABLE entry, header
// pushed from the cache.
func BenchmarkOutputResolved(b *testing.B) {
	e := newEnv(b)
	e.tbl.EventNS(e.da, peerIP, peerLL)
	e.tbl.Update(e.da, peerIP, &peerLL, neigh.StateReachable, 0)
	p := e.pkt(1, 100)
	out := skb.NewBatch(1)
	b.ReportAllocs()
	for b.Loop() {
		e.tbl.Output(e.da, peerIP, p, out)
		out.Reset()
		p.Pull(14)
	}
	p.Free()
}
