package fib

import (
	"math/bits"
	"net/netip"
	"sort"
)

// table is one routing table: alias lists per prefix, indexed by prefix
// length for lookups.
type table struct {
	id     uint32
	byLen  [33]map[uint32][]*Route
	used   uint64 // bit n: byLen[n] is non-empty
	nroute int
}

func newTable(id uint32) *table { return &table{id: id} }

func key(p netip.Prefix) uint32 {
	if !p.Addr().Is4() {
		return 0
	}
	b := p.Addr().As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func addrU32(a netip.Addr) uint32 {
	if !a.Is4() {
		return 0
	}
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func mask(bits int) uint32 {
	if bits == 0 {
		return 0
	}
	return ^uint32(0) << (32 - bits)
}

// aliases returns the alias list of p (nil when none).
func (t *table) aliases(p netip.Prefix) []*Route {
	m := t.byLen[p.Bits()]
	if m == nil {
		return nil
	}
	return m[key(p)]
}

func (t *table) setAliases(p netip.Prefix, l []*Route) {
	n := p.Bits()
	m := t.byLen[n]
	if len(l) == 0 {
		if m != nil {
			delete(m, key(p))
			if len(m) == 0 {
				t.byLen[n] = nil
				t.used &^= 1 << n
			}
		}
		return
	}
	if m == nil {
		m = map[uint32][]*Route{}
		t.byLen[n] = m
		t.used |= 1 << n
	}
	m[key(p)] = l
}

// insertAt places r in its alias list at the position fib_table_insert
// chooses: ordered by TOS descending then priority ascending; within
// equal keys, first (prepend) or last (append).
func (t *table) insertAt(r *Route, appendLast bool) {
	l := t.aliases(r.Dst)
	pos := len(l)
	for i, o := range l {
		if o.TOS < r.TOS || (o.TOS == r.TOS && o.Priority > r.Priority) ||
			(!appendLast && o.TOS == r.TOS && o.Priority == r.Priority) {
			pos = i
			break
		}
	}
	l = append(l, nil)
	copy(l[pos+1:], l[pos:])
	l[pos] = r
	t.setAliases(r.Dst, l)
	t.nroute++
}

func (t *table) remove(r *Route) bool {
	l := t.aliases(r.Dst)
	for i, o := range l {
		if o == r {
			nl := append(l[:i:i], l[i+1:]...)
			t.setAliases(r.Dst, nl)
			t.nroute--
			return true
		}
	}
	return false
}

// lookup walks the prefixes containing dst from the longest and returns
// the first alias that accept takes, with the prefix length it matched.
func (t *table) lookup(dst uint32, accept func(*Route) bool) *Route {
	u := t.used
	for u != 0 {
		n := 63 - bits.LeadingZeros64(u)
		u &^= 1 << n
		for _, r := range t.byLen[n][dst&mask(n)] {
			if accept(r) {
				return r
			}
		}
	}
	return nil
}

// walk visits routes in dump order: by prefix (address, then length),
// then alias order.
func (t *table) walk(fn func(*Route) bool) bool {
	type pk struct {
		k    uint32
		bits int
	}
	var keys []pk
	for n := 0; n <= 32; n++ {
		for k := range t.byLen[n] {
			keys = append(keys, pk{k, n})
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].k != keys[j].k {
			return keys[i].k < keys[j].k
		}
		return keys[i].bits < keys[j].bits
	})
	for _, p := range keys {
		for _, r := range t.byLen[p.bits][p.k] {
			if !fn(r) {
				return false
			}
		}
	}
	return true
}

// all returns every route (any order).
func (t *table) all() []*Route {
	var out []*Route
	for n := 0; n <= 32; n++ {
		for _, l := range t.byLen[n] {
			out = append(out, l...)
		}
	}
	return out
}
