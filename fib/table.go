package fib

import (
	"net/netip"
	"slices"
)

// A table is a multibit trie with strides 16-8-8 (the shape of DIR-24-8,
// chosen for the BGP table, where /24 dominates and nearly nothing is
// longer):
//
//   - root: a direct array of 65536 slots, one per /16; prefixes of length
//     0..16 are expanded into the slots they cover (controlled prefix
//     expansion), so one array read answers every lookup that ends there.
//   - level-1 nodes (one per /16 that holds longer prefixes) take lengths
//     17..24, level-2 nodes (one per /24) lengths 25..32, expanded over
//     256 slots each. A node stores its slots compressed (as Poptrie's
//     leaf vectors): a 256-bit map marks where a run of equal slots
//     starts and a dense array holds one value per run; a second map and
//     array hold the children. A /16 with a dozen /24s costs ~300 bytes
//     instead of the 1 KiB an expanded array would, which is what keeps a
//     million routes under 100 bytes each.
//
// A slot's value is the alias index+1 of the first alias of the longest
// prefix covering it (0: none). A lookup is at most three dependent reads
// of a slot plus two popcounts, and never allocates. Updates repaint the
// root range or rebuild one node from its own prefix list (at most 510
// entries), so they cost O(256) regardless of the table size.
//
// A table of at most smallMax prefixes has no trie: its prefix heads are
// a list, longest first, which a lookup scans.
//
// Alias lists (struct fib_alias: the routes of one prefix with different
// TOS/metric) are chains in a slab of 16-byte records pointing at shared
// route info (fib_info); the first alias of a chain never moves, so trie
// slots stay valid while other aliases come and go.
type table struct {
	id   uint32
	st   *infoStore
	root *[1 << 16]uint32 // nil while the table is small
	// small holds the heads of a table of at most smallMax prefixes,
	// longest first, and replaces the trie (256 KiB of root alone) for
	// the few routes of a typical namespace; lookups scan it.
	small     []smallHead
	smallMax  int
	rootIdx   map[uint32]uint32 // exact match for lengths 0..16: key|len -> head+1
	nodes     []node            // trie nodes (node.go)
	arena     []uint32          // the nodes' lookup blocks
	arenaDead int               // abandoned words in arena
	freeN     []uint32
	aliases   []alias
	freeA     []uint32
	used      [33]uint32 // prefixes per length, to skip empty lengths when backtracking
	nroute    int
}

const childBit = 1 << 31

// smallHead is a prefix of a small table: its key and mask beside the
// head alias, so that a lookup scans one contiguous array.
type smallHead struct {
	key, mask, head uint32
}

// alias is one route: a prefix's entry in the alias chain.
type alias struct {
	key   uint32 // masked destination
	next  uint32 // index+1 of the next alias of the prefix; 0: last
	info  uint32 // index in the info store
	plen  uint8
	tos   uint8
	state uint8 // aliasLive | aliasHead
}

const (
	aliasLive = 1 << iota
	aliasHead
)

func newTable(id uint32, st *infoStore) *table {
	return &table{id: id, st: st, rootIdx: map[uint32]uint32{}, smallMax: 32}
}

func key(p netip.Prefix) uint32 { return addrU32(p.Addr()) }

func addrU32(a netip.Addr) uint32 {
	if !a.Is4() {
		return 0
	}
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func u32Addr(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func mask(bits int) uint32 {
	if bits == 0 {
		return 0
	}
	return ^uint32(0) << (32 - bits)
}

// shorter returns the head+1 of the longest prefix containing a that is
// shorter than plen (fib_table_lookup's backtracking).
func (t *table) shorter(a uint32, plen int) uint32 {
	for l := plen - 1; l >= 0; l-- {
		if t.used[l] == 0 {
			continue
		}
		if v := t.exact(a&mask(l), l); v != 0 {
			return v
		}
	}
	return 0
}

func (t *table) newAlias(a alias) uint32 {
	a.state = aliasLive
	if n := len(t.freeA); n > 0 {
		i := t.freeA[n-1]
		t.freeA = t.freeA[:n-1]
		t.aliases[i] = a
		return i
	}
	t.aliases = append(t.aliases, a)
	return uint32(len(t.aliases) - 1)
}

// insert adds a route for k/plen with the given TOS and info at the place
// fib_table_insert chooses: aliases ordered by TOS descending then
// priority ascending; among equal keys first, or last with appendLast.
func (t *table) insert(k uint32, plen int, tos uint8, info uint32, appendLast bool) uint32 {
	prio := t.st.infos[info].Priority
	ni := t.newAlias(alias{key: k, plen: uint8(plen), tos: tos, info: info})
	t.nroute++
	head := t.exact(k, plen)
	if head == 0 {
		t.aliases[ni].state |= aliasHead
		t.addPrefix(ni)
		return ni
	}
	prev := uint32(0)
	for v := head; v != 0; v = t.aliases[v-1].next {
		o := &t.aliases[v-1]
		op := t.st.infos[o.info].Priority
		if o.tos < tos || o.tos == tos && op > prio || !appendLast && o.tos == tos && op == prio {
			break
		}
		prev = v
	}
	if prev == 0 {
		t.aliases[ni].next = head
		t.aliases[ni].state |= aliasHead
		t.aliases[head-1].state &^= aliasHead
		t.replaceHead(head-1, ni)
		return ni
	}
	t.aliases[ni].next = t.aliases[prev-1].next
	t.aliases[prev-1].next = ni + 1
	return ni
}

// remove deletes alias i and releases its info.
func (t *table) remove(i uint32) {
	a := t.aliases[i]
	head := t.exact(a.key, int(a.plen))
	if a.state&aliasHead != 0 {
		if a.next != 0 {
			t.aliases[a.next-1].state |= aliasHead
			t.replaceHead(i, a.next-1)
		} else {
			t.replaceHead(i, ^uint32(0))
		}
	} else {
		for v := head; v != 0; v = t.aliases[v-1].next {
			if t.aliases[v-1].next == i+1 {
				t.aliases[v-1].next = a.next
				break
			}
		}
	}
	t.aliases[i] = alias{}
	t.freeA = append(t.freeA, i)
	t.nroute--
	t.st.release(a.info)
	if t.nroute == 0 {
		t.aliases, t.freeA = nil, nil
		t.maybeFreeRoot()
	}
}

// chain returns the aliases of prefix p, in order.
func (t *table) chain(p netip.Prefix) []uint32 {
	var out []uint32
	for v := t.exact(key(p), p.Bits()); v != 0; v = t.aliases[v-1].next {
		out = append(out, v-1)
	}
	return out
}

// all returns every live alias index.
func (t *table) all() []uint32 {
	var out []uint32
	for i := range t.aliases {
		if t.aliases[i].state&aliasLive != 0 {
			out = append(out, uint32(i))
		}
	}
	return out
}

// prefix of alias i.
func (t *table) prefix(i uint32) netip.Prefix {
	a := &t.aliases[i]
	return netip.PrefixFrom(u32Addr(a.key), int(a.plen))
}

// route materialises alias i as a Route (for notifications and dumps).
func (t *table) route(i uint32) *Route {
	r := *t.st.infos[t.aliases[i].info]
	r.Table = t.id
	r.Dst = t.prefix(i)
	r.TOS = t.aliases[i].tos
	return &r
}

// walk visits routes in the kernel's dump order: by key ascending, the
// longer prefix first for equal keys (a trie leaf lists its aliases by
// suffix length), then alias order.
func (t *table) walk(fn func(*Route) bool) bool {
	var heads []uint32
	for i := range t.aliases {
		if t.aliases[i].state&aliasHead != 0 {
			heads = append(heads, uint32(i))
		}
	}
	slices.SortFunc(heads, func(x, y uint32) int {
		a, b := &t.aliases[x], &t.aliases[y]
		if a.key != b.key {
			if a.key < b.key {
				return -1
			}
			return 1
		}
		return int(b.plen) - int(a.plen)
	})
	for _, h := range heads {
		for v := h + 1; v != 0; v = t.aliases[v-1].next {
			if !fn(t.route(v - 1)) {
				return false
			}
		}
	}
	return true
}

// scan offers the routes containing a to fn, longest prefix first, and
// returns the index+1 of the one fn takes (fib_table_lookup's walk with
// backtracking). It does not allocate.
func (t *table) scan(a uint32, fn func(ai uint32, info *Route) bool) uint32 {
	for v := t.longest(a); v != 0; {
		plen := t.aliases[v-1].plen
		for ai := v; ai != 0; ai = t.aliases[ai-1].next {
			if fn(ai-1, t.st.infos[t.aliases[ai-1].info]) {
				return ai
			}
		}
		v = t.shorter(a, int(plen))
	}
	return 0
}
