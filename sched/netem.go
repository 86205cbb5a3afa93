package sched

import (
	"math/rand/v2"
	"time"

	"github.com/usnet/usnet/skb"
)

// NetemConfig is what `tc qdisc add dev D root netem ...` sets.
type NetemConfig struct {
	Delay     time.Duration
	Jitter    time.Duration // uniform in [-Jitter, +Jitter]
	Loss      float64       // probability 0..1
	Duplicate float64
	Corrupt   float64 // flip one random bit; receivers' checksums catch it
	Reorder   float64 // probability a packet skips the delay (sent at once)
	Rate      int64   // bits per second, 0: unlimited
	Limit     int     // packets, 0: 1000
}

// Netem emulates a network path (net/sched/sch_netem.c). Packets wait in a
// time-ordered queue until their departure time; the device's watchdog
// dequeues them then. Random choices come from the rand it is given: the
// namespace's, so runs repeat.
type Netem struct {
	cfg     NetemConfig
	rnd     *rand.Rand
	pool    *skb.Pool
	q       []netemPkt // sorted by departure; FIFO for equal times
	lastDep time.Duration
	Stats   NetemStats
}

// NetemStats count what netem did.
type NetemStats struct {
	Sent, Dropped, Duplicated, Corrupted, Reordered, Overlimits uint64
}

type netemPkt struct {
	at time.Duration
	b  *skb.Buf
}

// NewNetem returns a netem qdisc drawing from rnd (the executor's Rand).
func NewNetem(cfg NetemConfig, rnd *rand.Rand, pool *skb.Pool) *Netem {
	if cfg.Limit <= 0 {
		cfg.Limit = 1000
	}
	return &Netem{cfg: cfg, rnd: rnd, pool: pool}
}

func (n *Netem) Kind() string { return "netem" }

func (n *Netem) chance(p float64) bool { return p > 0 && n.rnd.Float64() < p }

func (n *Netem) Enqueue(b *skb.Buf, now time.Duration) bool {
	if n.chance(n.cfg.Loss) {
		n.Stats.Dropped++
		b.Free()
		return false
	}
	if n.chance(n.cfg.Duplicate) {
		if d := b.Clone(); d != nil {
			n.Stats.Duplicated++
			n.insert(d, now, false)
		}
	}
	if n.chance(n.cfg.Corrupt) && b.Unshare() && b.Len() > 0 {
		data := b.Bytes()
		i := n.rnd.IntN(len(data) * 8)
		data[i/8] ^= 1 << (i % 8)
		b.Csum = skb.CsumNone // the receiver must check it now
		n.Stats.Corrupted++
	}
	return n.insert(b, now, n.chance(n.cfg.Reorder))
}

func (n *Netem) insert(b *skb.Buf, now time.Duration, skip bool) bool {
	if len(n.q) >= n.cfg.Limit {
		n.Stats.Overlimits++
		b.Free()
		return false
	}
	at := now
	if skip {
		n.Stats.Reordered++
	} else {
		at += n.cfg.Delay
		if n.cfg.Jitter > 0 {
			at += time.Duration(n.rnd.Int64N(int64(2*n.cfg.Jitter)+1)) - n.cfg.Jitter
		}
	}
	if n.cfg.Rate > 0 {
		// Serialisation: each packet departs after the previous one has
		// been "on the wire" for its size at the configured rate.
		tx := time.Duration(int64(b.Len()) * 8 * int64(time.Second) / n.cfg.Rate)
		at = max(at, n.lastDep) + tx
		n.lastDep = at
	}
	i := len(n.q)
	for i > 0 && n.q[i-1].at > at {
		i--
	}
	n.q = append(n.q, netemPkt{})
	copy(n.q[i+1:], n.q[i:])
	n.q[i] = netemPkt{at: at, b: b}
	return true
}

func (n *Netem) Dequeue(now time.Duration) *skb.Buf {
	if len(n.q) == 0 || n.q[0].at > now {
		return nil
	}
	b := n.q[0].b
	n.q[0] = netemPkt{}
	n.q = n.q[1:]
	n.Stats.Sent++
	return b
}

func (n *Netem) Next() (time.Duration, bool) {
	if len(n.q) == 0 {
		return 0, false
	}
	return n.q[0].at, true
}

func (n *Netem) Reset() {
	for _, p := range n.q {
		p.b.Free()
	}
	n.q = n.q[:0]
}

func (n *Netem) Len() int { return len(n.q) }
