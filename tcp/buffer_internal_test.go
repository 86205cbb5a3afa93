package tcp

import (
	"testing"

	"github.com/usnet/usnet/skb"
)

// TestWriteSpaceRule steps a full send queue down one skb at a time, as
// ACKs free them: the waiting writer is woken exactly when the free room
// reaches half of what is still queued (a third of the buffer freed), and
// once. With TCP_NOTSENT_LOWAT the unsent bytes must also be below half
// of it.
func TestWriteSpaceRule(t *testing.T) {
	pool := skb.NewPool()
	c := &Conn{t: &Table{pool: pool}, state: Established, mss: 1000, xmitGoal: 1000, sndCap: 30000, sndLocked: true}
	wakes := 0
	c.OnWritable = func() { wakes++ }
	n := c.sndAppend(make([]byte, 100000))
	ts := skb.TruesizeOf(skb.DefaultHeadroom, 1000)
	if n != 1000*((30000+ts-1)/ts) || c.sndq.Mem() != n/1000*ts {
		t.Fatalf("took %d bytes, %d of truesize", n, c.sndq.Mem())
	}
	c.sndNoSpace = true
	c.sndMax = c.sndUna + uint32(n) // all sent
	for c.sndq.Len() > 0 {
		c.sndq.ack(1000)
		c.sndUna += 1000
		mem := c.sndq.Mem()
		c.checkSpace()
		want := 0
		if c.sndCap-mem >= mem/2 {
			want = 1
		}
		if wakes != want {
			t.Fatalf("wmem_queued %d of %d: %d wake-ups, want %d", mem, c.sndCap, wakes, want)
		}
	}

	// TCP_NOTSENT_LOWAT 5000: 6000 unsent bytes keep the writer out even
	// with the buffer nearly empty; 2000 (twice that is below 5000) let
	// it in.
	c.sndAppend(make([]byte, 6000))
	c.SetNotsentLowat(5000)
	c.sndNoSpace, wakes = true, 0
	c.checkSpace()
	if wakes != 0 || c.Writable() {
		t.Fatalf("woken with 6000 bytes unsent")
	}
	if c.sndFits(1) {
		t.Fatalf("a byte fits with 6000 unsent and TCP_NOTSENT_LOWAT 5000")
	}
	c.sndMax = c.sndUna + 4000
	c.checkSpace()
	if wakes != 1 || c.notsent() != 2000 {
		t.Fatalf("%d wake-ups with %d unsent", wakes, c.notsent())
	}
	c.sndq.purge()
}
