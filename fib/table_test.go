package fib

import (
	"math/rand/v2"
	"net/netip"
	"runtime"
	"testing"
)

// naive is the reference: a linear scan for the longest match.
type naive map[netip.Prefix]*Route

func (n naive) lookup(a netip.Addr) *Route {
	var best *Route
	for p, r := range n {
		if p.Contains(a) && (best == nil || p.Bits() > best.Dst.Bits()) {
			best = r
		}
	}
	return best
}

func u32Addr(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// FuzzTableLPM drives a table with inserts, deletes and lookups decoded
// from the input and checks every lookup against the linear scan.
func FuzzTableLPM(f *testing.F) {
	f.Add([]byte{0, 10, 0, 0, 0, 8, 2, 10, 1, 2, 3, 0, 1, 10, 0, 0, 0, 8})
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 192, 168, 1, 0, 24, 2, 192, 168, 1, 7, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		tb := newTable(254)
		ref := naive{}
		for len(ops) >= 6 {
			op, v, bits := ops[0]%3, uint32(ops[1])<<24|uint32(ops[2])<<16|uint32(ops[3])<<8|uint32(ops[4]), int(ops[5]%33)
			ops = ops[6:]
			p := netip.PrefixFrom(u32Addr(v), bits).Masked()
			switch op {
			case 0:
				if ref[p] == nil {
					r := &Route{Dst: p, Type: 1, Nexthops: []Nexthop{{Weight: 1}}}
					tb.insertAt(r, true)
					ref[p] = r
				}
			case 1:
				if r := ref[p]; r != nil {
					if !tb.remove(r) {
						t.Fatalf("remove %v failed", p)
					}
					delete(ref, p)
				}
			case 2:
				a := u32Addr(v)
				got := tb.lookup(v, func(*Route) bool { return true })
				if want := ref.lookup(a); got != want {
					t.Fatalf("lookup %v: got %v want %v", a, got, want)
				}
			}
		}
		if tb.nroute != len(ref) {
			t.Fatalf("table holds %d routes, reference %d", tb.nroute, len(ref))
		}
	})
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
// empty table and reports the heap bytes per route.
func BenchmarkInsert1M(b *testing.B) {
	ps := bgpPrefixes(1_000_000, 7)
	nh := []Nexthop{{Ifindex: 2, Weight: 1}}
	b.ReportAllocs()
	var perRoute float64
	for i := 0; i < b.N; i++ {
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		tb := newTable(254)
		for _, p := range ps {
			tb.insertAt(&Route{Table: 254, Dst: p, Type: 1, Nexthops: nh}, true)
		}
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&m1)
		perRoute = float64(m1.HeapAlloc-m0.HeapAlloc) / float64(len(ps))
		runtime.KeepAlive(tb)
		b.StartTimer()
	}
	b.ReportMetric(perRoute, "B/route")
	b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N), "s/1M-insert")
}

// BenchmarkLookup1M looks up random addresses in a table of 1,000,000
// BGP-like prefixes plus a default route.
func BenchmarkLookup1M(b *testing.B) {
	ps := bgpPrefixes(1_000_000, 7)
	nh := []Nexthop{{Ifindex: 2, Weight: 1}}
	tb := newTable(254)
	for _, p := range ps {
		tb.insertAt(&Route{Table: 254, Dst: p, Type: 1, Nexthops: nh}, true)
	}
	tb.insertAt(&Route{Table: 254, Dst: netip.MustParsePrefix("0.0.0.0/0"), Type: 1, Nexthops: nh}, true)
	r := rand.New(rand.NewPCG(3, 4))
	addrs := make([]uint32, 1<<16)
	for i := range addrs {
		addrs[i] = r.Uint32()
	}
	accept := func(*Route) bool { return true }
	b.ResetTimer()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if tb.lookup(addrs[i&(len(addrs)-1)], accept) == nil {
			b.Fatal("no route")
		}
	}
}
