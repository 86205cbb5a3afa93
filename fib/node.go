package fib

import (
	"math/bits"
	"slices"
)

// Trie nodes. Each node has a management record (node: its own prefixes
// and children, used by updates) and a lookup block in the table's arena
// that holds everything a lookup reads, contiguously, starting on a cache
// line:
//
//	word 0..7   runMap: 256 bits, bit i set when slot i starts a run
//	word 8      runBase: 4 bytes, the runs started before each 64-bit word
//	word 9      inherit: the root's value for a level-1 node's /16;
//	            childBit set when the node has children
//	word 10     offset of the child section in the block (0: none)
//	word 11     the node's index in t.nodes
//	word 12..   one value per run
//	child section: 8 words childMap, 1 word childBase, then the children's
//	            block offsets
//
// So a lookup that ends in a node reads one line, and the run value is
// usually in that line or the next; two dependent cache misses per
// lookup rather than three.
const (
	blkRunBase  = 8
	blkInherit  = 9
	blkChildOff = 10
	blkIndex    = 11
	blkRuns     = 12
	blkAlign    = 16 // words: 64 bytes
)

// node is a trie node's management record.
type node struct {
	key      uint32 // the node's base: the /16 (level 1) or /24 (level 2)
	level    uint8
	off, cap uint32 // lookup block: arena[off : off+cap]
	inherit  uint32 // level 1: the root's value for its /16
	childMap [4]uint64
	children []uint32 // node indices, by slot
	own      []uint32 // heads of the prefixes this node expands, by length ascending
	// ownKey[i] describes own[i] without touching the alias slab:
	// first slot << 8 | prefix length.
	ownKey []uint16
}

// rank counts the set bits of m below slot idx (idx excluded).
func rank(m *[4]uint64, idx uint32) int {
	w, b := idx>>6, idx&63
	c := bits.OnesCount64(m[w] & (1<<b - 1))
	for i := uint32(0); i < w; i++ {
		c += bits.OnesCount64(m[i])
	}
	return c
}

// blockValue is the value of slot idx of the block at off. It and
// longest are kept short: lookups of different packets overlap their
// cache misses only as far as the CPU's reorder window reaches, so every
// instruction (and bounds check) saved is latency hidden.
func blockValue(ar []uint32, off, idx uint32) uint32 {
	h := (*[blkRuns]uint32)(ar[off : off+blkRuns])
	w, b := idx>>6&3, idx&63
	m := uint64(h[2*w]) | uint64(h[2*w+1])<<32
	// Runs starting at or before idx: the earlier words' count plus the
	// bits up to b (bit 0 is always set, so c >= 1).
	c := h[blkRunBase]>>(8*w)&0xff + uint32(bits.OnesCount64(m<<(63-b)))
	return ar[off+blkRuns-1+c]
}

// blockChild returns the block offset of the child at slot idx.
func blockChild(ar []uint32, off, idx uint32) (uint32, bool) {
	cs := off + ar[off+blkChildOff]
	w, b := idx>>6&3, idx&63
	m := uint64(ar[cs+2*w]) | uint64(ar[cs+2*w+1])<<32
	if m>>b&1 == 0 {
		return 0, false
	}
	c := ar[cs+8]>>(8*w)&0xff + uint32(bits.OnesCount64(m&(1<<b-1)))
	return ar[cs+9+c], true
}

// longest returns the head+1 of the longest prefix containing a (0: none).
func (t *table) longest(a uint32) uint32 {
	root := t.root
	if root == nil {
		return t.smallLongest(a)
	}
	s := root[a>>16]
	if s&childBit == 0 {
		return s
	}
	off := s &^ childBit
	ar := t.arena
	// blockValue, by hand: the compiler would not inline it here.
	h := (*[blkRuns]uint32)(ar[off : off+blkRuns])
	idx := a >> 8 & 255
	w, b := idx>>6, idx&63
	m := uint64(h[2*w]) | uint64(h[2*w+1])<<32
	c := h[blkRunBase]>>(8*w)&0xff + uint32(bits.OnesCount64(m<<(63-b)))
	inh := h[blkInherit]
	v := ar[off+blkRuns-1+c]
	// Whether the node or the root has the answer is a coin toss for a
	// branch predictor, and a mispredicted branch after a cache miss
	// serialises lookups: choose with a mask instead.
	nz := uint32(int32(v|-v) >> 31) // all ones when v != 0
	best := v | inh&^childBit&^nz
	if inh&childBit == 0 {
		return best
	}
	return t.longestChild(a, off, best)
}

// longestChild continues a lookup in the level-2 node (if any) of a.
func (t *table) longestChild(a, off, best uint32) uint32 {
	c, ok := blockChild(t.arena, off, a>>8&255)
	if !ok {
		return best
	}
	v := blockValue(t.arena, c, a&255)
	nz := uint32(int32(v|-v) >> 31)
	return v | best&^nz
}

// node1 and node2 find the level-1 and level-2 nodes for key (-1: none).
func (t *table) node1(k uint32) int {
	if t.root == nil {
		return -1
	}
	s := t.root[k>>16]
	if s&childBit == 0 {
		return -1
	}
	return int(t.arena[s&^childBit+blkIndex])
}

func (n *node) child(idx uint32) (uint32, bool) {
	if n.childMap[idx>>6]>>(idx&63)&1 == 0 {
		return 0, false
	}
	return n.children[rank(&n.childMap, idx)], true
}

func (t *table) node2(k uint32) (int, int) {
	n1 := t.node1(k)
	if n1 < 0 {
		return -1, -1
	}
	c, ok := t.nodes[n1].child(k >> 8 & 255)
	if !ok {
		return n1, -1
	}
	return n1, int(c)
}

// exact returns head+1 of prefix k/plen (0: absent).
func (t *table) exact(k uint32, plen int) uint32 {
	if t.root == nil {
		for _, e := range t.small {
			if e.key == k && e.mask == mask(plen) {
				return e.head + 1
			}
		}
		return 0
	}
	if plen <= 16 {
		return t.rootIdx[k|uint32(plen)]
	}
	var n int
	if plen <= 24 {
		n = t.node1(k)
	} else {
		_, n = t.node2(k)
	}
	if n < 0 {
		return 0
	}
	nd := &t.nodes[n]
	want := ownKeyOf(nd.level, k, plen)
	for i, ok := range nd.ownKey {
		if ok == want {
			return nd.own[i] + 1
		}
	}
	return 0
}

func (t *table) newNode(k uint32, level uint8, inherit uint32) uint32 {
	var i uint32
	if n := len(t.freeN); n > 0 {
		i = t.freeN[n-1]
		t.freeN = t.freeN[:n-1]
	} else {
		t.nodes = append(t.nodes, node{})
		i = uint32(len(t.nodes) - 1)
	}
	t.nodes[i] = node{key: k, level: level, inherit: inherit}
	t.writeBlock(i)
	return i
}

// ownKeyOf is the ownKey of prefix k/plen in a node of the given level.
func ownKeyOf(level uint8, k uint32, plen int) uint16 {
	return uint16(k>>(8*(2-uint32(level)))&255)<<8 | uint16(plen)
}

// rootVal is the value a root slot resolves to.
func (t *table) rootVal(s uint32) uint32 {
	v := t.root[s]
	if v&childBit != 0 {
		return t.arena[v&^childBit+blkInherit] &^ childBit
	}
	return v
}

func (t *table) setRootVal(s, v uint32) {
	if r := t.root[s]; r&childBit != 0 {
		off := r &^ childBit
		t.nodes[t.arena[off+blkIndex]].inherit = v
		t.arena[off+blkInherit] = t.arena[off+blkInherit]&childBit | v
		return
	}
	t.root[s] = v
}

// writeBlock recomputes node ni's lookup block from its own prefixes and
// children, moving it when it has outgrown its place (and then updating
// whoever points at it).
func (t *table) writeBlock(ni uint32) {
	n := &t.nodes[ni]
	var vals [256]uint32
	base := 16 + 8*(int(n.level)-1)
	for i, h := range n.own {
		ok := n.ownKey[i]
		l := int(ok&0xff) - base
		start := ok >> 8
		v := vals[start : start+1<<(8-l)]
		for i := range v {
			v[i] = h + 1
		}
	}
	nruns := 1
	for i := 1; i < 256; i++ {
		if vals[i] != vals[i-1] {
			nruns++
		}
	}
	size := blkRuns + nruns
	if len(n.children) != 0 {
		size += 9 + len(n.children)
	}
	moved := false
	if uint32(size) > n.cap || n.cap > uint32(2*size+blkAlign) {
		t.allocBlock(ni, size)
		n = &t.nodes[ni]
		moved = true
	}
	b := t.arena[n.off : n.off+n.cap]
	clear(b)
	var runMap [4]uint64
	runMap[0] = 1
	b[blkRuns] = vals[0]
	j := blkRuns + 1
	for i := 1; i < 256; i++ {
		if vals[i] != vals[i-1] {
			runMap[i>>6] |= 1 << (i & 63)
			b[j] = vals[i]
			j++
		}
	}
	putMap(b[0:blkRunBase+1], &runMap)
	b[blkInherit] = n.inherit
	b[blkIndex] = ni
	if len(n.children) != 0 {
		b[blkInherit] |= childBit
		b[blkChildOff] = uint32(j)
		putMap(b[j:j+9], &n.childMap)
		for k, c := range n.children {
			b[j+9+k] = t.nodes[c].off
		}
	}
	if !moved {
		return
	}
	if n.level == 1 {
		t.root[n.key>>16] = childBit | n.off
		return
	}
	if p := t.node1(n.key); p >= 0 {
		t.writeBlock(uint32(p))
	}
}

// putMap stores a 256-bit map and its per-word base counts in 9 words.
func putMap(b []uint32, m *[4]uint64) {
	var base uint32
	c := uint32(0)
	for w := 0; w < 4; w++ {
		b[2*w], b[2*w+1] = uint32(m[w]), uint32(m[w]>>32)
		base |= c << (8 * w)
		c += uint32(bits.OnesCount64(m[w]))
	}
	b[8] = base
}

// allocBlock gives node i a fresh block of at least size words at the
// end of the arena, abandoning its old one; when abandoned blocks make up
// most of the arena it is compacted first.
func (t *table) allocBlock(i uint32, size int) {
	n := &t.nodes[i]
	t.arenaDead += int(n.cap)
	n.cap = 0
	if t.arenaDead > 4096 && t.arenaDead > len(t.arena)/4 {
		t.compactArena()
	}
	c := (size + size/8 + blkAlign - 1) &^ (blkAlign - 1) // a little room: nodes tend to grow again
	n.off, n.cap = uint32(len(t.arena)), uint32(c)
	t.arena = slices.Grow(t.arena, c)[:len(t.arena)+c]
}

// compactArena copies the live blocks into a new arena and repoints the
// root and the parents.
func (t *table) compactArena() {
	live := len(t.arena) - t.arenaDead
	na := make([]uint32, 0, live+live/4)
	for i := range t.nodes {
		n := &t.nodes[i]
		if n.cap == 0 {
			continue
		}
		off := uint32(len(na))
		na = append(na, t.arena[n.off:n.off+n.cap]...)
		n.off = off
	}
	t.arena, t.arenaDead = na, 0
	for i := range t.nodes {
		n := &t.nodes[i]
		if n.cap == 0 {
			continue
		}
		if n.level == 1 {
			t.root[n.key>>16] = childBit | n.off
		}
		if len(n.children) != 0 {
			cs := n.off + t.arena[n.off+blkChildOff]
			for k, c := range n.children {
				t.arena[cs+9+uint32(k)] = t.nodes[c].off
			}
		}
	}
}

func (t *table) freeNode(i uint32) {
	t.arenaDead += int(t.nodes[i].cap)
	t.nodes[i] = node{}
	t.freeN = append(t.freeN, i)
}

// maybeFreeRoot drops the trie of an emptied table.
func (t *table) maybeFreeRoot() {
	if t.nroute == 0 && len(t.rootIdx) == 0 && len(t.freeN) == len(t.nodes) {
		t.root, t.nodes, t.freeN, t.arena, t.arenaDead = nil, nil, nil, nil, 0
		clear(t.rootIdx)
	}
}

// smallLongest is longest for a table without trie: the first match in
// the list, which is ordered by length descending.
func (t *table) smallLongest(a uint32) uint32 {
	for _, e := range t.small {
		if a&e.mask == e.key {
			return e.head + 1
		}
	}
	return 0
}

// addPrefix hooks the new head h into the list or the trie, moving the
// list into a trie when it outgrows smallMax.
func (t *table) addPrefix(h uint32) {
	plen := t.aliases[h].plen
	t.used[plen]++
	if t.root == nil {
		if len(t.small) < t.smallMax {
			i := 0
			for i < len(t.small) && t.aliases[t.small[i].head].plen >= plen {
				i++
			}
			t.small = slices.Insert(t.small, i, smallHead{key: t.aliases[h].key, mask: mask(int(plen)), head: h})
			return
		}
		t.root = new([1 << 16]uint32)
		for _, x := range t.small {
			t.trieAdd(x.head)
		}
		t.small = nil
	}
	t.trieAdd(h)
}

// trieAdd hooks head h into the trie.
func (t *table) trieAdd(h uint32) {
	a := t.aliases[h]
	if a.plen <= 16 {
		t.rootIdx[a.key|uint32(a.plen)] = h + 1
		start := a.key >> 16
		for s := start; s < start+1<<(16-a.plen); s++ {
			if v := t.rootVal(s); v == 0 || t.aliases[v-1].plen < a.plen {
				t.setRootVal(s, h+1)
			}
		}
		return
	}
	s := a.key >> 16
	var ni uint32
	if n1 := t.node1(a.key); n1 >= 0 {
		ni = uint32(n1)
	} else {
		ni = t.newNode(a.key&0xffff0000, 1, t.root[s])
		t.root[s] = childBit | t.nodes[ni].off
	}
	if a.plen > 24 {
		idx := a.key >> 8 & 255
		c, ok := t.nodes[ni].child(idx)
		if !ok {
			c = t.newNode(a.key&0xffffff00, 2, 0)
			n := &t.nodes[ni]
			n.children = slices.Insert(n.children, rank(&n.childMap, idx), c)
			n.childMap[idx>>6] |= 1 << (idx & 63)
			t.writeBlock(ni)
		}
		ni = c
	}
	n := &t.nodes[ni]
	pos := len(n.own)
	for i, o := range n.ownKey {
		if uint8(o) > a.plen {
			pos = i
			break
		}
	}
	n.own = slices.Insert(n.own, pos, h)
	n.ownKey = slices.Insert(n.ownKey, pos, ownKeyOf(n.level, a.key, int(a.plen)))
	t.writeBlock(ni)
}

// replaceHead makes h2 the head of the prefix headed by h (h2 == ^0:
// the prefix goes away).
func (t *table) replaceHead(h, h2 uint32) {
	a := t.aliases[h]
	gone := h2 == ^uint32(0)
	if gone {
		t.used[a.plen]--
	}
	if t.root == nil {
		i := slices.IndexFunc(t.small, func(e smallHead) bool { return e.head == h })
		if gone {
			t.small = slices.Delete(t.small, i, i+1)
		} else {
			t.small[i].head = h2
		}
		return
	}
	if a.plen <= 16 {
		nv := h2 + 1
		if gone {
			delete(t.rootIdx, a.key|uint32(a.plen))
			nv = t.shorter(a.key, int(a.plen))
		} else {
			t.rootIdx[a.key|uint32(a.plen)] = nv
		}
		start := a.key >> 16
		for s := start; s < start+1<<(16-a.plen); s++ {
			if t.rootVal(s) == h+1 {
				t.setRootVal(s, nv)
			}
		}
		t.maybeFreeRoot()
		return
	}
	n1, n2 := t.node2(a.key)
	ni := n1
	if a.plen > 24 {
		ni = n2
	}
	n := &t.nodes[ni]
	i := slices.Index(n.own, h)
	if !gone {
		n.own[i] = h2
		t.writeBlock(uint32(ni))
		return
	}
	n.own = slices.Delete(n.own, i, i+1)
	n.ownKey = slices.Delete(n.ownKey, i, i+1)
	if len(n.own) != 0 || len(n.children) != 0 {
		t.writeBlock(uint32(ni))
		return
	}
	inherit := t.nodes[n1].inherit
	t.freeNode(uint32(ni))
	if ni == n2 {
		p := &t.nodes[n1]
		idx := a.key >> 8 & 255
		r := rank(&p.childMap, idx)
		p.children = slices.Delete(p.children, r, r+1)
		p.childMap[idx>>6] &^= 1 << (idx & 63)
		if len(p.own) != 0 || len(p.children) != 0 {
			t.writeBlock(uint32(n1))
			return
		}
		t.freeNode(uint32(n1))
	}
	// The /16 has nothing longer left: its root slot holds the value again.
	t.root[a.key>>16] = inherit
	t.maybeFreeRoot()
}
