package tcp

import "github.com/usnet/usnet/skb"

// The receive side keeps the packets themselves, as Linux's
// sk_receive_queue and out-of-order queue do: a received skb (often a GRO
// or in-process GSO super-packet of up to 64 KiB) is trimmed to its
// payload and queued by reference, so each byte is copied once, from the
// packet into the reader's buffer. Memory is charged in truesize against
// the receive buffer (sk_rmem_alloc against sk_rcvbuf): a packet that
// would pin too much for its payload is copied into a buffer of its own
// size instead (tcp_collapse), and a small payload goes into the tailroom
// of the last queued packet when it fits (tcp_try_coalesce). The
// advertised window still counts payload bytes (autotune.go).

// rcvQueue is a FIFO of payload-only skbs.
type rcvQueue struct {
	ring  []*skb.Buf // power-of-two ring; grows while the buffer allows
	head  int
	n     int // skbs queued
	bytes int // payload bytes queued
}

// Len returns the payload bytes queued.
func (q *rcvQueue) Len() int { return q.bytes }

func (q *rcvQueue) last() *skb.Buf {
	if q.n == 0 {
		return nil
	}
	return q.ring[(q.head+q.n-1)&(len(q.ring)-1)]
}

func (q *rcvQueue) push(b *skb.Buf) {
	if q.n == len(q.ring) {
		nr := make([]*skb.Buf, max(2*len(q.ring), 16))
		for i := range q.n {
			nr[i] = q.ring[(q.head+i)&(len(q.ring)-1)]
		}
		q.ring, q.head = nr, 0
	}
	q.ring[(q.head+q.n)&(len(q.ring)-1)] = b
	q.n++
	q.bytes += b.Len()
}

// consume takes up to n bytes from the front, copying them to p unless p
// is nil, and returns how many it took and the truesize it released.
func (q *rcvQueue) consume(p []byte, n int) (took, freed int) {
	for took < n && q.n > 0 {
		b := q.ring[q.head]
		k := min(b.Len(), n-took)
		if p != nil {
			copy(p[took:took+k], b.Bytes())
		}
		b.Pull(k)
		took += k
		if b.Len() == 0 {
			freed += b.Truesize()
			b.Free()
			q.ring[q.head] = nil
			q.head = (q.head + 1) & (len(q.ring) - 1)
			q.n--
		}
	}
	q.bytes -= took
	return took, freed
}

// purge frees everything queued.
func (q *rcvQueue) purge() {
	for q.n > 0 {
		q.ring[q.head].Free()
		q.ring[q.head] = nil
		q.head = (q.head + 1) & (len(q.ring) - 1)
		q.n--
	}
	q.ring, q.head, q.bytes = nil, 0, 0
}

// rcvSpace is the receive buffer in truesize terms (sk_rcvbuf): twice the
// window, the default scaling ratio of autotune.go.
func (c *Conn) rcvSpace() int { return spaceFromWin(c.rcvCap) }

// payloadBuf returns an skb holding exactly p, the payload of the segment
// being received: the received packet itself by reference when its
// truesize fits the receive buffer and p fills at least half of it, else
// a copy in a buffer of p's size class, whose tailroom later small
// payloads fill (queueRcv). nil only if p is empty or the pool has no
// buffer for it.
func (c *Conn) payloadBuf(p []byte) *skb.Buf {
	if len(p) == 0 {
		return nil
	}
	if c.rcvMem > c.rcvSpace() {
		c.clampWindow() // tcp_prune_queue's first step
	}
	if rb := c.t.rxBuf; rb != nil {
		// p lies inside rb's data (it was sliced from it), so the
		// difference of the capacities is its offset.
		off := cap(rb.Bytes()) - cap(p)
		ts := rb.Truesize()
		if off >= 0 && off+len(p) <= rb.Len() && c.rcvMem+ts <= c.rcvSpace() && 2*len(p) >= ts {
			b := rb.Clone()
			b.Pull(off)
			b.Trim(len(p))
			c.rcvMem += ts
			return b
		}
	}
	b := c.t.pool.Get(0, len(p))
	if b == nil {
		return nil
	}
	b.Append(p)
	c.rcvMem += b.Truesize()
	return b
}

// queueRcv appends in-order payload to the receive queue.
func (c *Conn) queueRcv(p []byte) {
	if len(p) == 0 {
		return
	}
	if last := c.rcvq.last(); last != nil && len(p) <= last.Tailroom() && !last.Shared() {
		last.Append(p) // tcp_try_coalesce
		c.rcvq.bytes += len(p)
		return
	}
	if b := c.payloadBuf(p); b != nil {
		c.rcvq.push(b)
	}
}

// queueRcvBuf appends b (payload only, charged already) to the receive
// queue, taking it over.
func (c *Conn) queueRcvBuf(b *skb.Buf) {
	if last := c.rcvq.last(); last != nil && b.Len() <= last.Tailroom() && !last.Shared() {
		last.Append(b.Bytes())
		c.rcvq.bytes += b.Len()
		c.rcvMem -= b.Truesize()
		b.Free()
		return
	}
	c.rcvq.push(b)
}

// readRcv copies up to len(p) queued bytes to p (or drops them when p is
// nil, n bytes at most) and returns how many.
func (c *Conn) readRcv(p []byte, n int) int {
	took, freed := c.rcvq.consume(p, n)
	c.rcvMem -= freed
	return took
}

// purgeOOO frees the out-of-order queue (a FIN held alone has no buffer).
func (c *Conn) purgeOOO() {
	for i := range c.ooo {
		c.freeOOO(c.ooo[i])
		c.ooo[i] = oooSeg{}
	}
	c.ooo = nil
}

// purgeRcv frees both receive queues: the application will read no more
// (close, as tcp_close purges sk_receive_queue) or nothing can arrive.
func (c *Conn) purgeRcv() {
	c.rcvq.purge()
	c.purgeOOO()
	c.rcvMem = 0
}
