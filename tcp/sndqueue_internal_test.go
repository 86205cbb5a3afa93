package tcp

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/usnet/usnet/skb"
)

// TestSndQueueSegments appends writes of random sizes, then takes
// segments at random offsets and lengths — whole skbs (clones), fronts
// of skbs (split, then clones), ranges across skbs (copies), ranges in
// an skb a clone still shares (copies) — and acknowledges random
// amounts: every segment holds exactly the stream's bytes, the queue is
// charged exactly its skbs' truesize, and no buffer is left once the
// queue is purged. The pool poisons freed memory, so a
// use after free or a write into shared data shows as wrong bytes.
func TestSndQueueSegments(t *testing.T) {
	pool := skb.NewPool()
	pool.Debug = true
	c := &Conn{t: &Table{pool: pool}, mss: 1000, xmitGoal: 8000, sndCap: 1 << 30}
	rnd := rand.New(rand.NewPCG(1, 2))
	var stream []byte // stream[0] is the byte at sndUna
	held := []*skb.Buf{}
	for round := range 300 {
		p := make([]byte, rnd.IntN(20000))
		for i := range p {
			p[i] = byte(rnd.Uint32())
		}
		if n := c.sndAppend(p); n != len(p) {
			t.Fatalf("round %d: appended %d of %d", round, n, len(p))
		}
		stream = append(stream, p...)
		if c.sndq.Len() != len(stream) {
			t.Fatalf("round %d: queue %d bytes, stream %d", round, c.sndq.Len(), len(stream))
		}
		for range 4 {
			if len(stream) == 0 {
				break
			}
			off := rnd.IntN(len(stream))
			if rnd.IntN(2) == 0 {
				// Aligned to an skb start, as output sends.
				_, in := c.sndq.find(off)
				off -= in
			}
			n := 1 + rnd.IntN(min(len(stream)-off, 20000))
			b := c.sndSegment(off, n)
			if b == nil {
				t.Fatalf("round %d: no segment at %d+%d", round, off, n)
			}
			if b.Headroom() < skb.DefaultHeadroom {
				t.Fatalf("round %d: headroom %d", round, b.Headroom())
			}
			if !bytes.Equal(b.Bytes(), stream[off:off+n]) {
				t.Fatalf("round %d: segment %d+%d differs", round, off, n)
			}
			// Headers go in front, as xmitBuf does; some segments stay
			// in flight for a while (held), as at a receiver.
			copy(b.Push(40), make([]byte, 40))
			held = append(held, b)
		}
		for len(held) > 8 {
			j := rnd.IntN(len(held))
			held[j].Pull(40)
			held[j].Free()
			held = append(held[:j], held[j+1:]...)
		}
		acked := rnd.IntN(len(stream)/2 + 1)
		c.sndq.ack(acked)
		// The charge is the truesize of what the queue holds, splits
		// and partial acknowledgments included.
		mem := 0
		for i := range c.sndq.n {
			mem += c.sndq.at(i).Truesize()
		}
		if c.sndq.Mem() != mem {
			t.Fatalf("round %d: wmem_queued %d, the skbs' truesize %d", round, c.sndq.Mem(), mem)
		}
		stream = stream[acked:]
		c.sndUna += uint32(acked)
		c.sndNxt = c.sndUna + uint32(rnd.IntN(len(stream)+1))
	}
	// The queue still holds the stream after all that.
	var all []byte
	for i := range c.sndq.n {
		all = append(all, c.sndq.at(i).Bytes()...)
	}
	if !bytes.Equal(all, stream) {
		t.Fatal("queue content differs from the stream")
	}
	for _, b := range held {
		b.Free()
	}
	c.sndq.purge()
	if n := pool.Live(); n != 0 {
		t.Fatalf("%d buffers live", n)
	}
}
