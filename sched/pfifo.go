package sched

import (
	"time"

	"github.com/usnet/usnet/skb"
)

// PFIFO is a packet FIFO bounded by Limit packets (tail drop), Linux's
// pfifo; a device's default limit is its txqueuelen.
type PFIFO struct {
	Limit   int
	q       ring
	Drops   uint64
	Backlog int // bytes queued
}

// NewPFIFO returns a FIFO holding at most limit packets.
func NewPFIFO(limit int) *PFIFO { return &PFIFO{Limit: max(limit, 1)} }

func (p *PFIFO) Kind() string { return "pfifo" }

func (p *PFIFO) Enqueue(b *skb.Buf, _ time.Duration) bool {
	if p.q.len() >= p.Limit {
		p.Drops++
		b.Free()
		return false
	}
	p.q.push(b)
	p.Backlog += b.Len()
	return true
}

func (p *PFIFO) Dequeue(time.Duration) *skb.Buf {
	b := p.q.pop()
	if b != nil {
		p.Backlog -= b.Len()
	}
	return b
}

func (p *PFIFO) Next() (time.Duration, bool) { return 0, false }

func (p *PFIFO) Reset() {
	for b := p.q.pop(); b != nil; b = p.q.pop() {
		b.Free()
	}
	p.Backlog = 0
}

func (p *PFIFO) Len() int { return p.q.len() }

// ring is a growable circular queue of buffers (no allocation once grown).
type ring struct {
	buf  []*skb.Buf
	r, n int
}

func (q *ring) len() int { return q.n }

func (q *ring) push(b *skb.Buf) {
	if q.n == len(q.buf) {
		nb := make([]*skb.Buf, max(16, 2*len(q.buf)))
		for i := 0; i < q.n; i++ {
			nb[i] = q.buf[(q.r+i)%len(q.buf)]
		}
		q.buf, q.r = nb, 0
	}
	q.buf[(q.r+q.n)%len(q.buf)] = b
	q.n++
}

func (q *ring) peek() *skb.Buf {
	if q.n == 0 {
		return nil
	}
	return q.buf[q.r]
}

func (q *ring) pop() *skb.Buf {
	if q.n == 0 {
		return nil
	}
	b := q.buf[q.r]
	q.buf[q.r] = nil
	q.r = (q.r + 1) % len(q.buf)
	q.n--
	return b
}
