package tcp

import (
	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/skb"
)

// The send side keeps its bytes in skbs, as Linux's write and
// retransmission queues do: Send copies the application's data into
// packet buffers sized for one GSO segment each (tcp_sendmsg's size_goal),
// and a segment that covers one such skb exactly is transmitted as a
// clone of it, the headers pushed into its headroom, so the data is not
// copied again (tcp_transmit_skb). A segment that starts inside an skb or
// spans several is gathered into a new buffer; a segment that takes only
// the front of an skb splits it first (tso_fragment). An skb whose data a
// clone still shares (in flight, or queued at an in-process receiver) is
// never written and never cloned again: its retransmission is a copy, as
// Linux copies a cloned skb.
//
// The queue is charged in truesize, the memory its skbs pin (Linux's
// sk_wmem_queued, compared with sk_sndbuf — sndCap — in buffer.go): a
// new skb is charged when it is queued (tcp_skb_entail) or split off
// (tso_fragment) and uncharged when acknowledged data frees it. Clones in
// flight are not charged again. A GSO-sized skb costs its payload plus a
// few percent; a one-byte write costs a whole small buffer (768 bytes).

// sndQueue is a FIFO of skbs holding the bytes from sndUna on.
type sndQueue struct {
	ring  []*skb.Buf // power-of-two ring
	head  int
	n     int
	bytes int
	mem   int // truesize of the skbs queued (sk_wmem_queued)
	// A cursor for find: position ci and the offset of its first byte.
	// Lookups mostly move forward, at sndNxt.
	ci, coff int
}

// Len returns the bytes queued.
func (q *sndQueue) Len() int { return q.bytes }

// Mem returns the truesize queued.
func (q *sndQueue) Mem() int { return q.mem }

func (q *sndQueue) at(i int) *skb.Buf { return q.ring[(q.head+i)&(len(q.ring)-1)] }

func (q *sndQueue) set(i int, b *skb.Buf) { q.ring[(q.head+i)&(len(q.ring)-1)] = b }

func (q *sndQueue) last() *skb.Buf {
	if q.n == 0 {
		return nil
	}
	return q.at(q.n - 1)
}

func (q *sndQueue) grow() {
	if q.n < len(q.ring) {
		return
	}
	nr := make([]*skb.Buf, max(2*len(q.ring), 16))
	for i := range q.n {
		nr[i] = q.at(i)
	}
	q.ring, q.head = nr, 0
}

// insert puts b at position i, moving the later skbs back.
func (q *sndQueue) insert(i int, b *skb.Buf) {
	q.grow()
	for j := q.n; j > i; j-- {
		q.set(j, q.at(j-1))
	}
	q.set(i, b)
	q.n++
	q.bytes += b.Len()
	q.mem += b.Truesize()
	if q.ci >= i {
		q.ci++ // the same skb, one place further
	}
}

// find returns the position of the skb holding byte off (< Len) and the
// offset of that byte inside it.
func (q *sndQueue) find(off int) (int, int) {
	if off < q.coff || q.ci >= q.n {
		q.ci, q.coff = 0, 0
	}
	for {
		l := q.at(q.ci).Len()
		if off < q.coff+l {
			return q.ci, off - q.coff
		}
		q.coff += l
		q.ci++
	}
}

// ack drops n acknowledged bytes from the front.
func (q *sndQueue) ack(n int) {
	for n > 0 && q.n > 0 {
		b := q.at(0)
		l := b.Len()
		if l > n {
			b.Pull(n)
			q.bytes -= n
			if q.ci > 0 {
				q.coff -= n
			}
			return
		}
		n -= l
		q.bytes -= l
		q.mem -= b.Truesize()
		b.Free()
		q.set(0, nil)
		q.head = (q.head + 1) & (len(q.ring) - 1)
		q.n--
		if q.ci > 0 {
			q.ci--
			q.coff -= l
		}
	}
}

// purge frees everything.
func (q *sndQueue) purge() {
	for i := range q.n {
		q.at(i).Free()
		q.set(i, nil)
	}
	*q = sndQueue{}
}

// sizeGoal is the payload an skb of the queue holds: one GSO segment as
// the route's device takes it (tcp_send_mss's size_goal), remembered from
// the last transmission so that Send needs no route lookup.
func (c *Conn) sizeGoal() int {
	return max(c.xmitGoal, c.mss)
}

// sndAppend copies p to the end of the queue, as tcp_sendmsg does: into
// the last skb while it is unsent, unshared and below the size goal,
// whatever the buffer holds, then into new skbs, each only while the
// queued truesize is below the send buffer (sk_stream_memory_free). It
// returns how much it queued.
func (c *Conn) sndAppend(p []byte) int {
	q := &c.sndq
	goal := c.sizeGoal()
	done := 0
	unsentFrom := int(c.sndNxt - c.sndUna)
	for done < len(p) {
		if t := q.last(); t != nil && q.bytes-t.Len() >= unsentFrom && t.Len() < goal && t.Tailroom() > 0 && !t.Shared() {
			k := min(len(p)-done, goal-t.Len(), t.Tailroom())
			t.Append(p[done : done+k])
			q.bytes += k
			done += k
			continue
		}
		if !c.sndMemFree(false) {
			break
		}
		b := c.t.pool.Get(skb.DefaultHeadroom, min(len(p)-done, goal))
		if b == nil {
			break
		}
		k := min(len(p)-done, goal, b.Tailroom())
		b.Append(p[done : done+k])
		done += k
		q.grow()
		q.set(q.n, b)
		q.n++
		q.bytes += k
		q.mem += b.Truesize()
	}
	return done
}

// sndFits reports whether sndAppend would queue all n bytes: SendOOB's
// all-or-nothing test, so that the urgent mark lands on the last byte.
func (c *Conn) sndFits(n int) bool {
	q := &c.sndq
	goal := c.sizeGoal()
	notsent := uint64(c.notsent())
	if t := q.last(); t != nil && q.bytes-t.Len() >= int(c.sndNxt-c.sndUna) && t.Len() < goal && !t.Shared() {
		k := min(n, goal-t.Len(), t.Tailroom())
		n -= k
		notsent += uint64(k)
	}
	mem := q.mem
	for n > 0 {
		if mem >= c.sndCap || notsent >= c.notsentLowat() {
			return false
		}
		k := min(n, goal)
		mem += skb.TruesizeOf(skb.DefaultHeadroom, k)
		notsent += uint64(k)
		n -= k
	}
	return true
}

// splitSnd cuts the skb at position i after its first at bytes
// (tso_fragment), copying the smaller part into a new skb: the rest
// behind it, or the front before it, the old skb keeping the other part
// in its buffer. Either way the copy and the truesize charged for it are
// as small as they can be. It reports false when the pool has no buffer.
func (c *Conn) splitSnd(i, at int) bool {
	q := &c.sndq
	s := q.at(i)
	rest := s.Len() - at
	if rest <= at {
		nb := c.t.pool.Get(skb.DefaultHeadroom, rest)
		if nb == nil {
			return false
		}
		nb.Append(s.Bytes()[at:])
		s.Trim(at)
		q.bytes -= rest
		q.insert(i+1, nb)
		return true
	}
	nb := c.t.pool.Get(skb.DefaultHeadroom, at)
	if nb == nil {
		return false
	}
	nb.Append(s.Bytes()[:at])
	s.Pull(at)
	q.bytes -= at
	cursorHere := q.ci == i
	q.insert(i, nb)
	if cursorHere {
		q.ci = i // the new skb starts where the old one did
	}
	return true
}

// sndSegment returns a buffer holding the n queued bytes from offset off,
// with headroom for the headers: a clone of the skb that holds exactly
// those bytes when there is one (after a split if needed) and nothing
// shares it, else a copy.
func (c *Conn) sndSegment(off, n int) *skb.Buf {
	q := &c.sndq
	if n <= 0 || off < 0 || off+n > q.bytes {
		return nil
	}
	i, in := q.find(off)
	if s := q.at(i); in == 0 && !s.Shared() && s.Headroom() >= skb.DefaultHeadroom {
		if n < s.Len() && !c.splitSnd(i, n) {
			return nil
		}
		if s = q.at(i); n == s.Len() {
			return s.Clone()
		}
	}
	b := c.t.pool.Get(skb.DefaultHeadroom, n)
	if b == nil {
		return nil
	}
	for n > 0 {
		s := q.at(i)
		k := min(s.Len()-in, n)
		b.Append(s.Bytes()[in : in+k])
		n -= k
		i++
		in = 0
	}
	return b
}

// xmitData sends the n queued bytes at sequence seq as one segment (or a
// GSO super-packet); it reports false if it could not build it.
func (c *Conn) xmitData(rt *ipv4.Route, seq uint32, flags header.TCPFlags, n int) bool {
	b := c.sndSegment(int(seq-c.sndUna), n)
	if b == nil {
		return false
	}
	c.xmitBuf(rt, b, seq, flags, nil)
	return true
}
