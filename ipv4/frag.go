package ipv4

import (
	"net/netip"
	"time"

	"github.com/usnet/usnet/executor"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
)

// fragKey identifies a datagram being reassembled (ipq's key).
type fragKey struct {
	src, dst netip.Addr
	id       uint16
	proto    uint8
}

// fragQueue holds the fragments of one datagram, sorted by offset,
// without overlaps.
type fragQueue struct {
	key   fragKey
	frags []*skb.Buf // sorted by offset
	offs  []int      // payload offset of each
	ends  []int      // payload end of each
	total int        // payload length once the last fragment arrived, else -1
	have  int        // payload bytes held
	mem   int
	first bool // the offset-0 fragment arrived (for the ICMP on timeout)
	dev   *netdev.Device
	timer *executor.Timer
	dead  bool
}

// reassembly is the namespace's fragment cache (struct fqdir), bounded by
// ipfrag_high_thresh bytes and expiring queues after ipfrag_time.
type reassembly struct {
	l      *Layer
	queues map[fragKey]*fragQueue
	mem    int
}

func newReassembly(l *Layer) *reassembly {
	return &reassembly{l: l, queues: map[fragKey]*fragQueue{}}
}

// maxDatagram is the largest datagram reassembly accepts.
const maxDatagram = 65535

// add files a fragment and returns the reassembled datagram when it is
// complete (its header with offset 0 and MF clear), or nil. Linux's rules:
// an overlap discards the whole queue (RFC 5722 applied to IPv4 since
// 4.19), an exact duplicate is dropped alone, a datagram over 64 KiB and
// fragments beyond the memory bound are dropped.
func (r *reassembly) add(b *skb.Buf, dev *netdev.Device) *skb.Buf {
	l := r.l
	h := hdr(b.Bytes())
	l.Stats.ReasmReqds++
	key := fragKey{h.src(), h.dst(), h.id(), h.proto()}
	ihl := h.ihl()
	off := int(h.fragOff()&offMask) * 8
	end := off + h.totLen() - ihl
	mf := h.fragOff()&flagMF != 0
	q := r.queues[key]
	if q == nil {
		if r.mem+b.Len() > l.Sysctl.IPFragHighThresh {
			l.Stats.ReasmFails++
			b.Free()
			return nil
		}
		q = &fragQueue{key: key, total: -1, dev: dev}
		q.timer = l.exec.AfterFunc(time.Duration(l.Sysctl.IPFragTime), func() { r.expire(q) })
		r.queues[key] = q
	}
	if end > maxDatagram || (mf && (end-off)%8 != 0) || end < off {
		r.kill(q)
		l.Stats.ReasmFails++
		b.Free()
		return nil
	}
	if !mf {
		if (q.total >= 0 && q.total != end) || (len(q.ends) > 0 && q.ends[len(q.ends)-1] > end) {
			r.kill(q)
			l.Stats.ReasmFails++
			b.Free()
			return nil
		}
		q.total = end
	} else if q.total >= 0 && end > q.total {
		r.kill(q)
		l.Stats.ReasmFails++
		b.Free()
		return nil
	}
	// Find the position; reject overlaps.
	i := 0
	for i < len(q.offs) && q.offs[i] < off {
		i++
	}
	if i < len(q.offs) && q.offs[i] == off && q.ends[i] == end {
		b.Free() // exact duplicate
		return nil
	}
	if (i > 0 && q.ends[i-1] > off) || (i < len(q.offs) && q.offs[i] < end) {
		r.kill(q)
		l.Stats.ReasmFails++
		b.Free()
		return nil
	}
	if r.mem+b.Len() > l.Sysctl.IPFragHighThresh {
		r.kill(q)
		l.Stats.ReasmFails++
		b.Free()
		return nil
	}
	q.frags = append(q.frags, nil)
	q.offs = append(q.offs, 0)
	q.ends = append(q.ends, 0)
	copy(q.frags[i+1:], q.frags[i:])
	copy(q.offs[i+1:], q.offs[i:])
	copy(q.ends[i+1:], q.ends[i:])
	q.frags[i], q.offs[i], q.ends[i] = b, off, end
	q.have += end - off
	q.mem += b.Len()
	r.mem += b.Len()
	if off == 0 {
		q.first = true
	}
	if q.total < 0 || q.have != q.total {
		return nil
	}
	return r.join(q)
}

// join builds the whole datagram from a complete queue.
func (r *reassembly) join(q *fragQueue) *skb.Buf {
	l := r.l
	first := hdr(q.frags[0].Bytes())
	ihl := first.ihl()
	out := l.pool.Get(skb.DefaultHeadroom, ihl+q.total)
	if out == nil {
		r.kill(q)
		l.Stats.ReasmFails++
		return nil
	}
	out.Meta = q.frags[0].Meta
	out.L2, out.L4, out.CsumStart = -1, -1, -1
	out.Csum = skb.CsumNone
	out.Append(first[:ihl])
	for _, f := range q.frags {
		fh := hdr(f.Bytes())
		out.Append(f.Bytes()[fh.ihl():])
	}
	out.SetL3()
	h := hdr(out.Bytes())
	n := ihl + q.total
	h[2], h[3] = byte(n>>8), byte(n)
	h[6], h[7] = 0, 0
	h.setChecksum()
	r.kill(q)
	l.Stats.ReasmOKs++
	return out
}

// kill frees a queue's fragments and forgets it (inet_frag_kill).
func (r *reassembly) kill(q *fragQueue) {
	if q.dead {
		return
	}
	q.dead = true
	q.timer.Stop()
	for _, f := range q.frags {
		f.Free()
	}
	r.mem -= q.mem
	q.frags = nil
	delete(r.queues, q.key)
}

// expire is ip_expire: count, and send "fragment reassembly time exceeded"
// if the first fragment had arrived.
func (r *reassembly) expire(q *fragQueue) {
	if q.dead {
		return
	}
	l := r.l
	l.Stats.ReasmFails++
	l.Stats.ReasmTimeout++
	if q.first && len(q.frags) > 0 && q.frags[0] != nil {
		l.icmpSend(q.frags[0], q.dev, icmpTimeExceeded, 1, 0)
	}
	r.kill(q)
}

// FragsPending returns the number of datagrams being reassembled and the bytes
// held.
func (l *Layer) FragsPending() (queues, bytes int) { return len(l.frags.queues), l.frags.mem }

func (r *reassembly) destroy() {
	for _, q := range r.queues {
		r.kill(q)
	}
}
