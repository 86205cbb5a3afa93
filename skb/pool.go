package skb

import (
	"sync"
	"sync/atomic"
)

// DefaultHeadroom is the room reserved in front of a new packet: enough for
// Ethernet + 802.1Q*2 + IPv6 + TCP with options + a VXLAN/UDP/IP outer
// header, like Linux's NET_SKB_PAD plus LL_MAX_HEADER.
const DefaultHeadroom = 192

// Size classes of data chunks. The smallest holds a small packet (ACKs,
// ARP, short datagrams) behind the default headroom, so that its truesize
// is what Linux charges for one (about 768 bytes) and a socket's receive
// buffer holds as many; the largest holds a 64 KiB GSO segment with its
// headers and headroom.
var classSizes = [...]int{512, 2048, 16384, 65536 + 1024}

// MaxSize is the largest chunk a Pool hands out.
var MaxSize = classSizes[len(classSizes)-1]

// Pool recycles Bufs and data chunks. It is safe for concurrent use: buffers
// cross from one namespace executor to another over veth and from backend
// goroutines into executors. The free lists are bounded so that a burst does
// not pin memory forever.
type Pool struct {
	// Debug makes freed Bufs and chunks stay poisoned instead of being
	// reused, so any later use panics. For tests.
	Debug bool

	mu     sync.Mutex
	bufs   []*Buf
	chunks [len(classSizes)][]*chunk

	allocs atomic.Int64 // Bufs handed out and not yet freed
}

// maxFree bounds each free list.
const maxFree = 1 << 14

// NewPool returns an empty pool.
func NewPool() *Pool { return &Pool{} }

// Get returns an empty Buf whose chunk holds at least headroom+size bytes,
// with headroom reserved in front. It returns nil if the size exceeds
// MaxSize. The Buf and its chunk come off the free lists under one lock:
// this runs for every packet.
func (p *Pool) Get(headroom, size int) *Buf {
	cls := classOf(headroom + size)
	if cls < 0 {
		return nil
	}
	var b *Buf
	var c *chunk
	if !p.Debug {
		p.mu.Lock()
		c, b = p.popChunk(cls), p.popBuf()
		p.mu.Unlock()
	}
	c = readyChunk(c, cls)
	b = p.initBuf(b)
	b.c = c
	b.head, b.tail = headroom, headroom
	return b
}

// GetData returns a Buf holding a copy of data with DefaultHeadroom in
// front of it; nil if it does not fit.
func (p *Pool) GetData(data []byte) *Buf {
	b := p.Get(DefaultHeadroom, len(data))
	if b == nil {
		return nil
	}
	b.Append(data)
	return b
}

// Live returns the number of Bufs handed out and not freed: tests use it to
// prove that no buffer leaks.
func (p *Pool) Live() int64 { return p.allocs.Load() }

func (p *Pool) getBuf() *Buf {
	var b *Buf
	if !p.Debug {
		p.mu.Lock()
		b = p.popBuf()
		p.mu.Unlock()
	}
	return p.initBuf(b)
}

// popBuf and popChunk take from the free lists, nil when empty; stashBuf
// and stashChunk return to them within their bounds. p.mu is held.
func (p *Pool) popBuf() *Buf {
	n := len(p.bufs)
	if n == 0 {
		return nil
	}
	b := p.bufs[n-1]
	p.bufs = p.bufs[:n-1]
	return b
}

func (p *Pool) popChunk(cls int) *chunk {
	n := len(p.chunks[cls])
	if n == 0 {
		return nil
	}
	c := p.chunks[cls][n-1]
	p.chunks[cls] = p.chunks[cls][:n-1]
	return c
}

func (p *Pool) stashBuf(b *Buf) {
	if len(p.bufs) < maxFree {
		p.bufs = append(p.bufs, b)
	}
}

func (p *Pool) stashChunk(c *chunk) {
	if len(p.chunks[c.cls]) < maxFree/4 {
		p.chunks[c.cls] = append(p.chunks[c.cls], c)
	}
}

// readyChunk hands out c, or a new chunk of class cls when c is nil,
// with one reference.
func readyChunk(c *chunk, cls int) *chunk {
	if c == nil {
		c = &chunk{data: make([]byte, classSizes[cls]), cls: int8(cls)}
	}
	c.refs.Store(1)
	return c
}

// initBuf readies a recycled Buf, or a new one when b is nil.
func (p *Pool) initBuf(b *Buf) *Buf {
	p.allocs.Add(1)
	if b == nil {
		b = &Buf{pool: p}
	}
	b.Meta = Meta{L2: -1, L3: -1, L4: -1, CsumStart: -1}
	b.state = stateLive
	return b
}

// free returns b and, when b held its last reference, its chunk c, under
// one lock.
func (p *Pool) free(b *Buf, c *chunk) {
	last := c.release()
	p.allocs.Add(-1)
	b.state = stateFree
	b.Next = nil
	if p.Debug {
		if last {
			c.poison()
		}
		return
	}
	p.mu.Lock()
	if last {
		p.stashChunk(c)
	}
	p.stashBuf(b)
	p.mu.Unlock()
}

// TruesizeOf is the truesize of a Buf that Get(headroom, size) returns,
// without taking one (0 if none would fit): what a socket is charged for
// it, for limits that must be judged before allocating.
func TruesizeOf(headroom, size int) int {
	cls := classOf(headroom + size)
	if cls < 0 {
		return 0
	}
	return classSizes[cls] + bufOverhead
}

func classOf(size int) int {
	for i, s := range classSizes {
		if size <= s {
			return i
		}
	}
	return -1
}

func (p *Pool) getChunk(size int) *chunk {
	cls := classOf(size)
	if cls < 0 {
		return nil
	}
	var c *chunk
	if !p.Debug {
		p.mu.Lock()
		c = p.popChunk(cls)
		p.mu.Unlock()
	}
	return readyChunk(c, cls)
}

// release drops one reference and reports whether it was the last.
func (c *chunk) release() bool {
	switch r := c.refs.Add(-1); {
	case r > 0:
		return false
	case r < 0:
		panic("skb: chunk reference count below zero")
	}
	return true
}

// poison fills a dead chunk so that any later use shows (Debug pools).
func (c *chunk) poison() {
	for i := range c.data {
		c.data[i] = 0x6b // POISON_FREE, as the kernel's slab debugging
	}
}

func (p *Pool) putChunk(c *chunk) {
	if !c.release() {
		return
	}
	if p.Debug {
		c.poison()
		return
	}
	p.mu.Lock()
	p.stashChunk(c)
	p.mu.Unlock()
}
