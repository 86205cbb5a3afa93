package bench

import (
	"sort"
	"time"

	"github.com/usnet/usnet/offload"
	"github.com/usnet/usnet/skb"
)

// wire is a transmit qdisc that makes a veth behave like the point-to-point
// link ns-3 models (PointToPointNetDevice + channel): a drop-tail queue of
// limit packets waiting for the transmitter, serialisation at rate, then
// a propagation delay. The packet being serialised and the ones already
// propagating do not count against the limit, as in ns-3, which is where
// this differs from netem with rate and delay (netem's limit counts every
// packet it holds, the delay line included). GSO super-packets are split
// into MTU-sized segments on entry, so the queue holds, drops and
// serialises wire-sized packets as ns-3's devices do; the receivers' GRO
// may merge them again.
//
// It lives in the bench module because it exists only to build the same
// topology as ns3/dumbbell.cc; it runs on the device's executor like any
// qdisc, so it takes no locks and allocates only when its queue grows.
type wire struct {
	rate  int64 // bits per second
	delay time.Duration
	limit int // packets waiting for the transmitter
	mtu   int
	seg   offload.Segmenter

	q       []wirePkt // FIFO: starts and departures never decrease
	head    int
	lastEnd time.Duration // when the transmitter is next free
	Drops   uint64
}

type wirePkt struct {
	start, dep time.Duration
	b          *skb.Buf
}

// wireHardLimit bounds the queue including the packets propagating, so a
// misconfigured delay cannot grow it without end.
const wireHardLimit = 1 << 16

func newWire(rate int64, delay time.Duration, limit, mtu int, pool *skb.Pool) *wire {
	return &wire{rate: rate, delay: delay, limit: limit, mtu: mtu, seg: offload.Segmenter{Pool: pool}}
}

func (w *wire) Kind() string { return "p2p-wire" }

// ethLen is the Ethernet header the frames carry in front of IPv4.
const ethLen = 14

func (w *wire) Enqueue(b *skb.Buf, now time.Duration) bool {
	if b.GSOSize == 0 || b.Len() <= w.mtu+ethLen {
		return w.add(b, now)
	}
	var eth [ethLen]byte
	copy(eth[:], b.Bytes())
	b.Pull(ethLen)
	ok := true
	w.seg.SegmentTCP4(b, w.mtu, func(s *skb.Buf) {
		copy(s.Push(ethLen), eth[:])
		s.SetL2()
		if !w.add(s, now) {
			ok = false
		}
	})
	return ok
}

// add queues one wire-sized frame or drops it when limit frames already
// wait for the transmitter.
func (w *wire) add(b *skb.Buf, now time.Duration) bool {
	live := w.q[w.head:]
	// Starts never decrease: the waiting frames are a suffix.
	first := sort.Search(len(live), func(i int) bool { return live[i].start > now })
	if len(live)-first >= w.limit || len(live) >= wireHardLimit {
		w.Drops++
		b.Free()
		return false
	}
	start := max(now, w.lastEnd)
	end := start + time.Duration(int64(b.Len())*8*int64(time.Second)/w.rate)
	w.lastEnd = end
	if w.head > 0 && len(w.q) == cap(w.q) {
		// Reuse the consumed front instead of growing.
		n := copy(w.q, w.q[w.head:])
		clear(w.q[n:])
		w.q = w.q[:n]
		w.head = 0
	}
	w.q = append(w.q, wirePkt{start: start, dep: end + w.delay, b: b})
	return true
}

func (w *wire) Dequeue(now time.Duration) *skb.Buf {
	if w.head == len(w.q) || w.q[w.head].dep > now {
		return nil
	}
	p := &w.q[w.head]
	b := p.b
	*p = wirePkt{}
	w.head++
	if w.head == len(w.q) {
		w.q, w.head = w.q[:0], 0
	}
	return b
}

func (w *wire) Next() (time.Duration, bool) {
	if w.head == len(w.q) {
		return 0, false
	}
	return w.q[w.head].dep, true
}

func (w *wire) Reset() {
	for _, p := range w.q[w.head:] {
		p.b.Free()
	}
	clear(w.q)
	w.q, w.head = w.q[:0], 0
}

func (w *wire) Len() int { return len(w.q) - w.head }
