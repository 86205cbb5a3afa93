package tcp_test

import (
	"time"

	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/sched"
	"github.com/usnet/usnet/skb"
)

// wireSeg is one TCP segment as it entered a device's qdisc.
type wireSeg struct {
	at       time.Duration
	flags    header.TCPFlags
	seq, ack uint32
	n        int    // payload bytes (all of a GSO super-packet)
	gso      uint16 // GSO segment size, 0 for a plain segment
	opts     header.TCPOptions
}

// wire wraps a netem delay line on a transmit side: it records every TCP
// segment offered to it and drops those drop picks.
type wire struct {
	*sched.Netem
	segs []wireSeg
	drop func(s *wireSeg) bool
}

func (q *wire) Enqueue(b *skb.Buf, now time.Duration) bool {
	if b.L3 >= 0 {
		ip := b.From(b.L3)
		if len(ip) >= 20 && ip[9] == 6 {
			t := header.TCP(ip[int(ip[0]&0xf)*4:])
			if len(t) >= 20 {
				s := wireSeg{at: now, flags: t.Flags(), seq: t.Seq(), ack: t.Ack(), n: len(t) - t.HeaderLen(), gso: b.GSOSize}
				t.ParseOptions(&s.opts)
				q.segs = append(q.segs, s)
				if q.drop != nil && q.drop(&s) {
					b.Free()
					return false
				}
			}
		}
	}
	return q.Netem.Enqueue(b, now)
}

// wires installs a wire with the given one-way delay on both directions
// and returns a's and b's.
func (w *world) wires(delay time.Duration) (qa, qb *wire) {
	cfg := sched.NetemConfig{Delay: delay, Limit: 100000}
	qa = &wire{Netem: sched.NewNetem(cfg, w.a.Exec().Rand(), w.st.Pool())}
	qb = &wire{Netem: sched.NewNetem(cfg, w.b.Exec().Rand(), w.st.Pool())}
	w.a.Exec().Do(func() { w.da.SetQdisc(qa) })
	w.b.Exec().Do(func() { w.db.SetQdisc(qb) })
	return qa, qb
}

// data returns the segments that carry payload.
func (q *wire) data() []wireSeg {
	var r []wireSeg
	for _, s := range q.segs {
		if s.n > 0 {
			r = append(r, s)
		}
	}
	return r
}
