package fib

import (
	"cmp"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"testing"
)

// refRoute is an entry of the reference: a linear list scanned in full.
type refRoute struct {
	key        uint32
	plen       int
	tos        uint8
	prio       uint32
	ai         uint32
	infoPrio   uint32
	insertedAt int
}

type naive []refRoute

func (n naive) contains(r refRoute, a uint32) bool { return a&mask(r.plen) == r.key }

// lookup returns the longest prefix length containing a that has a route
// accepted by pred (-1: none).
func (n naive) lookup(a uint32, pred func(refRoute) bool) int {
	best := -1
	for _, r := range n {
		if n.contains(r, a) && r.plen > best && pred(r) {
			best = r.plen
		}
	}
	return best
}

func testInfo(st *infoStore, prio uint32) uint32 {
	return st.acquire(&Route{Table: 254, Type: 1, Priority: prio, Nexthops: []Nexthop{{Ifindex: 2, Weight: 1}}})
}

// checkTable compares the whole table with the reference: route count,
// chain order and the dump order.
func checkTable(t *testing.T, tb *table, ref naive) {
	t.Helper()
	if tb.nroute != len(ref) {
		t.Fatalf("table holds %d routes, reference %d", tb.nroute, len(ref))
	}
	var got []refRoute
	tb.walk(func(r *Route) bool {
		got = append(got, refRoute{key: key(r.Dst), plen: r.Dst.Bits(), tos: r.TOS, prio: r.Priority})
		return true
	})
	want := slices.Clone(ref)
	slices.SortStableFunc(want, func(a, b refRoute) int {
		return cmp.Or(cmp.Compare(a.key, b.key), cmp.Compare(b.plen, a.plen), cmp.Compare(b.tos, a.tos), cmp.Compare(a.prio, b.prio))
	})
	if len(got) != len(want) {
		t.Fatalf("walk: %d routes, want %d", len(got), len(want))
	}
	for i := range got {
		w := want[i]
		w.ai, w.infoPrio, w.insertedAt = 0, 0, 0
		if got[i] != w {
			t.Fatalf("walk[%d] = %+v, want %+v", i, got[i], w)
		}
	}
}

// FuzzTableLPM drives a table with inserts, deletes and lookups decoded
// from the input and checks every answer against a linear scan,
// including lookups that reject routes and must backtrack to shorter
// prefixes (as scope or TOS mismatches do).
func FuzzTableLPM(f *testing.F) {
	f.Add([]byte{0, 10, 0, 0, 0, 8, 2, 10, 1, 2, 3, 0, 1, 10, 0, 0, 0, 8})
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 192, 168, 1, 0, 24, 2, 192, 168, 1, 7, 0})
	f.Add([]byte{0, 10, 1, 2, 0, 25, 0, 10, 1, 2, 128, 26, 3, 10, 1, 2, 200, 1, 1, 10, 1, 2, 0, 25, 2, 10, 1, 2, 200, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		// As a list, converted to a trie midway, and as a trie throughout.
		for _, smallMax := range []int{32, 3, 0} {
			fuzzTable(t, ops, smallMax)
		}
	})
}

// fuzzTable is the body of FuzzTableLPM for one smallMax.
func fuzzTable(t *testing.T, ops []byte, smallMax int) {
	st := newInfoStore()
	tb := newTable(254, st)
	tb.smallMax = smallMax
	var ref naive
	for n := 0; len(ops) >= 6; n++ {
		op, v, x := ops[0], uint32(ops[1])<<24|uint32(ops[2])<<16|uint32(ops[3])<<8|uint32(ops[4]), ops[5]
		ops = ops[6:]
		plen := int(x % 33)
		k := v & mask(plen)
		tos := []uint8{0, 0, 8, 16}[op>>2&3]
		prio := uint32(op >> 4 & 3)
		switch op % 4 {
		case 0:
			ai := tb.insert(k, plen, tos, testInfo(st, prio), op&0x40 != 0)
			ref = append(ref, refRoute{key: k, plen: plen, tos: tos, prio: prio, ai: ai, insertedAt: n})
		case 1:
			for i, r := range ref {
				if r.key == k && r.plen == plen {
					tb.remove(r.ai)
					ref = slices.Delete(ref, i, i+1)
					break
				}
			}
		case 2, 3:
			// case 3 only accepts TOS-0 routes: the first
			// prefixes found may have none.
			acc := func(r refRoute) bool { return op%4 == 2 || r.tos == 0 }
			want := ref.lookup(v, acc)
			got := -1
			if ai := tb.scan(v, func(ai uint32, _ *Route) bool { return op%4 == 2 || tb.aliases[ai].tos == 0 }); ai != 0 {
				got = int(tb.aliases[ai-1].plen)
				if tb.aliases[ai-1].key != v&mask(got) {
					t.Fatalf("lookup %v: route %v does not contain it", u32Addr(v), tb.prefix(ai-1))
				}
			}
			if got != want {
				t.Fatalf("lookup %v: got /%d want /%d", u32Addr(v), got, want)
			}
		}
		if tb.nroute != len(ref) {
			t.Fatalf("table holds %d routes, reference %d", tb.nroute, len(ref))
		}
	}
	checkTable(t, tb, ref)
	for _, r := range ref {
		tb.remove(r.ai)
	}
	if tb.root != nil || len(tb.aliases) != 0 || len(tb.rootIdx) != 0 || len(st.dedup) != 0 {
		t.Fatalf("empty table keeps state: root %v aliases %d idx %d infos %d", tb.root != nil, len(tb.aliases), len(tb.rootIdx), len(st.dedup))
	}
}

// TestTableRandomAgainstNaive runs a long deterministic random sequence
// through the same comparison as the fuzz target, concentrated on a few
// /8s so that prefixes nest at every level of the trie.
func TestTableRandomAgainstNaive(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	st := newInfoStore()
	tb := newTable(254, st)
	tb.smallMax = 8 // list first, then the trie
	var ref naive
	for n := 0; n < 20000; n++ {
		v := uint32(10+rnd.IntN(2))<<24 | rnd.Uint32()&0x00ff_ffff&^(0xff00<<uint(rnd.IntN(3)*4))
		plen := rnd.IntN(33)
		if rnd.IntN(4) == 0 {
			plen = []int{0, 8, 16, 24, 32}[rnd.IntN(5)]
		}
		k := v & mask(plen)
		switch x := rnd.IntN(10); {
		case x < 4:
			tos := []uint8{0, 0, 0, 8}[rnd.IntN(4)]
			prio := uint32(rnd.IntN(3))
			ai := tb.insert(k, plen, tos, testInfo(st, prio), rnd.IntN(2) == 0)
			ref = append(ref, refRoute{key: k, plen: plen, tos: tos, prio: prio, ai: ai})
		case x < 7 && len(ref) > 0:
			i := rnd.IntN(len(ref))
			tb.remove(ref[i].ai)
			ref = slices.Delete(ref, i, i+1)
		default:
			want := ref.lookup(v, func(r refRoute) bool { return r.tos == 0 })
			got := -1
			if ai := tb.scan(v, func(ai uint32, _ *Route) bool { return tb.aliases[ai].tos == 0 }); ai != 0 {
				got = int(tb.aliases[ai-1].plen)
			}
			if got != want {
				for _, r := range ref {
					if ref.contains(r, v) {
						t.Logf("ref %v/%d tos %d ai %d exact %d", u32Addr(r.key), r.plen, r.tos, r.ai, tb.exact(r.key, r.plen))
					}
				}
				t.Logf("longest %d used %v", tb.longest(v), tb.used)
				t.Fatalf("step %d lookup %v: got /%d want /%d", n, u32Addr(v), got, want)
			}
		}
	}
	checkTable(t, tb, ref)
}

// bgpPrefixes returns n distinct random prefixes with a BGP-like length
// mix: about 60% /24, 30% /16../23, 10% /8../15.
func bgpPrefixes(n int, seed uint64) []netip.Prefix {
	r := rand.New(rand.NewPCG(seed, 1))
	seen := make(map[netip.Prefix]bool, n)
	out := make([]netip.Prefix, 0, n)
	for len(out) < n {
		var bits int
		switch x := r.IntN(10); {
		case x < 6:
			bits = 24
		case x < 9:
			bits = 16 + r.IntN(8)
		default:
			bits = 8 + r.IntN(8)
		}
		p := netip.PrefixFrom(u32Addr(r.Uint32()), bits).Masked()
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// BenchmarkInsert1M inserts 1,000,000 BGP-like prefixes per op into an
// empty table (routes through one gateway, so they share one info) and
// reports the heap bytes per route.
func BenchmarkInsert1M(b *testing.B) {
	ps := bgpPrefixes(1_000_000, 7)
	b.ReportAllocs()
	var perRoute float64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		b.StartTimer()
		st := newInfoStore()
		tb := newTable(254, st)
		r := Route{Table: 254, Type: 1, Nexthops: []Nexthop{{Ifindex: 2, Weight: 1}}}
		for _, p := range ps {
			tb.insert(key(p), p.Bits(), 0, st.acquire(&r), true)
		}
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&m1)
		perRoute = float64(m1.HeapAlloc-m0.HeapAlloc) / float64(len(ps))
		runtime.KeepAlive(tb)
		b.StartTimer()
	}
	b.ReportMetric(perRoute, "B/route")
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/1M-insert")
}

// bench1M is the table of BenchmarkLookup1M, built once per process:
// the benchmark function runs several times while b.N is calibrated, and
// rebuilding a million routes each time would measure a heap full of
// garbage instead of the lookup.
var bench1M = sync.OnceValue(func() *table {
	ps := bgpPrefixes(1_000_000, 7)
	st := newInfoStore()
	tb := newTable(254, st)
	r := Route{Table: 254, Type: 1, Nexthops: []Nexthop{{Ifindex: 2, Weight: 1}}}
	for _, p := range ps {
		tb.insert(key(p), p.Bits(), 0, st.acquire(&r), true)
	}
	tb.insert(0, 0, 0, st.acquire(&r), true)
	// Return the building garbage to the OS now: the runtime's background
	// scavenger would otherwise do it while the lookups are timed, and
	// every page it releases flushes the TLB of the benchmark's thread.
	debug.FreeOSMemory()
	return tb
})

// BenchmarkLookup1M looks up random addresses in a table of 1,000,000
// BGP-like prefixes plus a default route.
func BenchmarkLookup1M(b *testing.B) {
	tb := bench1M()
	rnd := rand.New(rand.NewPCG(3, 4))
	addrs := make([]uint32, 1<<16)
	for i := range addrs {
		addrs[i] = rnd.Uint32()
	}
	b.ResetTimer()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if tb.longest(addrs[i&(len(addrs)-1)]) == 0 {
			b.Fatal("no route")
		}
	}
}
