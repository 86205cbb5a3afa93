package skb

import (
	"fmt"
	"sync/atomic"
)

// PacketType classifies a received frame as Linux's skb->pkt_type does.
type PacketType uint8

// Values as in include/uapi/linux/if_packet.h.
const (
	PacketHost      PacketType = 0 // addressed to us
	PacketBroadcast PacketType = 1 // link-layer broadcast
	PacketMulticast PacketType = 2 // link-layer multicast
	PacketOtherHost PacketType = 3 // to someone else (promiscuous)
	PacketOutgoing  PacketType = 4 // our own outgoing frame (taps only)
	PacketLoopback  PacketType = 5 // looped back to us
)

// Checksum states of a buffer (skb->ip_summed).
const (
	CsumNone        uint8 = iota // nothing known: software must verify
	CsumUnnecessary              // verified already (by a device or a trusted in-process link)
	CsumPartial                  // L4 checksum not filled in yet (at CsumStart+CsumOffset); trusted on receive, completed by a device that needs it
)

// GSO types (skb_shinfo->gso_type), the kinds of large segments a Buf may
// carry when GSOSize > 0.
const (
	GSONone  uint8 = 0
	GSOTCPv4 uint8 = 1
	GSOTCPv6 uint8 = 2
	GSOUDP   uint8 = 3
)

// chunk is the shared, reference-counted data area of one or more Bufs.
type chunk struct {
	data []byte
	refs atomic.Int32
	cls  int8 // size class in the owning pool
}

// Meta is the per-packet metadata that travels with a Buf between layers.
// It is copied by Clone; it never aliases the data.
type Meta struct {
	Ifindex    int        // device it arrived on (rx) or leaves by (tx)
	Protocol   uint16     // EtherType of the L3 payload (skb->protocol)
	PktType    PacketType // rx classification
	Mark       uint32     // fwmark
	Priority   uint32     // tc/qdisc priority
	Hash       uint32     // flow hash (0: not computed)
	L2, L3, L4 int32      // header positions in the chunk (skb->mac_header...), -1 when unknown
	Csum       uint8      // CsumNone, CsumUnnecessary or CsumPartial
	CsumStart  int32      // for CsumPartial: position of the L4 header in the chunk
	CsumOffset int16      // for CsumPartial: checksum field offset within L4
	GSOSize    uint16     // segment payload size when the Buf is a large segment
	GSOType    uint8
	Stamp      int64 // namespace clock time (ns) of receive or transmit
}

// Buf is one packet: a window into a chunk plus metadata.
type Buf struct {
	Meta
	c    *chunk
	head int // first byte of the packet in c.data
	tail int // one past the last byte
	pool *Pool
	// state guards against misuse: live or freed.
	state uint32
	// Next links Bufs in queues that want an intrusive list (qdiscs,
	// reassembly). Layers that use it clear it before handing the Buf on.
	Next *Buf
}

const (
	stateFree uint32 = iota
	stateLive
)

func (b *Buf) check() {
	if b.state != stateLive {
		panic(fmt.Sprintf("skb: use of freed buffer %p", b))
	}
}

// Bytes returns the packet data. The slice is valid until the Buf is freed
// or its window changes.
func (b *Buf) Bytes() []byte {
	b.check()
	return b.c.data[b.head:b.tail]
}

// Len returns the packet length.
func (b *Buf) Len() int { b.check(); return b.tail - b.head }

// Headroom returns the free bytes in front of the packet.
func (b *Buf) Headroom() int { b.check(); return b.head }

// Tailroom returns the free bytes behind the packet.
func (b *Buf) Tailroom() int { b.check(); return len(b.c.data) - b.tail }

// Truesize is the memory the packet pins (skb->truesize): its whole data
// chunk plus the Buf itself, whatever part of the chunk it uses. Socket
// queues charge it against their buffer limits, as Linux does.
func (b *Buf) Truesize() int { b.check(); return len(b.c.data) + bufOverhead }

// bufOverhead approximates the Buf's own size in Truesize.
const bufOverhead = 256

// Shared reports whether another Buf references the same data.
func (b *Buf) Shared() bool { b.check(); return b.c.refs.Load() > 1 }

// Push prepends n bytes (uninitialised) to the packet and returns them, as
// skb_push. It returns nil when the headroom is too small; callers then
// use Expand.
func (b *Buf) Push(n int) []byte {
	b.check()
	if n < 0 || n > b.head {
		return nil
	}
	b.head -= n
	return b.c.data[b.head : b.head+n]
}

// Pull removes n bytes from the front of the packet and returns them, as
// skb_pull. It returns nil (and changes nothing) if the packet is shorter.
func (b *Buf) Pull(n int) []byte {
	b.check()
	if n < 0 || n > b.tail-b.head {
		return nil
	}
	p := b.c.data[b.head : b.head+n]
	b.head += n
	return p
}

// Put appends n bytes to the packet and returns them, as skb_put; nil if
// the tailroom is too small.
func (b *Buf) Put(n int) []byte {
	b.check()
	if n < 0 || b.tail+n > len(b.c.data) {
		return nil
	}
	p := b.c.data[b.tail : b.tail+n]
	b.tail += n
	return p
}

// Append copies p to the end of the packet; it reports false if the
// tailroom is too small.
func (b *Buf) Append(p []byte) bool {
	dst := b.Put(len(p))
	if dst == nil {
		return false
	}
	copy(dst, p)
	return true
}

// Trim shortens the packet to n bytes, as skb_trim (for example to drop
// Ethernet padding behind an IPv4 datagram).
func (b *Buf) Trim(n int) {
	b.check()
	if n >= 0 && n < b.tail-b.head {
		b.tail = b.head + n
	}
}

// Reserve moves an empty Buf's start n bytes further in, to leave headroom
// (skb_reserve). It panics on a non-empty Buf: that is a programming error.
func (b *Buf) Reserve(n int) {
	b.check()
	if b.tail != b.head || b.head+n > len(b.c.data) || n < 0 {
		panic("skb: Reserve on non-empty buffer or beyond capacity")
	}
	b.head += n
	b.tail += n
}

// Pos returns the position of the packet start within its chunk. Header
// positions in Meta (L2, L3, L4, CsumStart) are chunk positions, so they stay
// valid across Push and Pull, as skb->network_header does.
func (b *Buf) Pos() int32 { b.check(); return int32(b.head) }

// SetL2, SetL3 and SetL4 record that the corresponding header starts at the
// current packet start.
func (b *Buf) SetL2() { b.L2 = b.Pos() }

// SetL3 records the network header at the current packet start.
func (b *Buf) SetL3() { b.L3 = b.Pos() }

// SetL4 records the transport header at the current packet start.
func (b *Buf) SetL4() { b.L4 = b.Pos() }

// From returns the bytes from chunk position pos to the end of the packet,
// for example b.From(b.L3) for the network header and what follows. It
// returns nil when pos is unset or outside the buffer.
func (b *Buf) From(pos int32) []byte {
	b.check()
	if pos < 0 || int(pos) > b.tail {
		return nil
	}
	return b.c.data[pos:b.tail]
}

// Clone returns a new Buf sharing b's data, with a copy of its metadata and
// window (skb_clone). Neither Buf may write the shared bytes without Unshare.
func (b *Buf) Clone() *Buf {
	b.check()
	n := b.pool.getBuf()
	n.Meta = b.Meta
	n.c = b.c
	n.c.refs.Add(1)
	n.head, n.tail = b.head, b.tail
	return n
}

// Unshare makes sure b owns its data exclusively, copying it into a new
// chunk with the same headroom if it is shared (skb_cow_data). It reports
// false only when the pool cannot provide a chunk big enough.
func (b *Buf) Unshare() bool {
	b.check()
	if b.c.refs.Load() == 1 {
		return true
	}
	return b.realloc(b.head, len(b.c.data)-b.tail)
}

// Expand guarantees at least headroom bytes in front and tailroom bytes
// behind the packet, copying the data into a bigger chunk if needed
// (pskb_expand_head). The Buf owns its data afterwards.
func (b *Buf) Expand(headroom, tailroom int) bool {
	b.check()
	if b.head >= headroom && len(b.c.data)-b.tail >= tailroom && b.c.refs.Load() == 1 {
		return true
	}
	return b.realloc(max(headroom, b.head), max(tailroom, len(b.c.data)-b.tail))
}

func (b *Buf) realloc(headroom, tailroom int) bool {
	n := b.tail - b.head
	c := b.pool.getChunk(headroom + n + tailroom)
	if c == nil {
		return false
	}
	// Copy from the chunk start, not the packet start: pulled headers
	// (b.L2, b.L3 ...) must stay readable, as pskb_expand_head keeps them.
	// Callers only ever grow the headroom, so shift >= 0.
	shift := int32(headroom - b.head)
	copy(c.data[shift:], b.c.data[:b.tail])
	for _, p := range []*int32{&b.L2, &b.L3, &b.L4, &b.CsumStart} {
		if *p >= 0 {
			*p += shift
		}
	}
	b.pool.putChunk(b.c)
	b.c = c
	b.head = headroom
	b.tail = headroom + n
	return true
}

// Free releases b: its metadata goes back to the pool and the data chunk
// too once no clone references it. Freeing a freed Buf panics.
func (b *Buf) Free() {
	if b.state != stateLive {
		panic(fmt.Sprintf("skb: double free of buffer %p", b))
	}
	c := b.c
	b.c = nil
	b.pool.free(b, c)
}
