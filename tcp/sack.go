package tcp

import (
	"github.com/usnet/usnet/header"
)

// Selective acknowledgments (RFC 2018) and SACK-based loss recovery
// (RFC 6675): the receiver reports what its out-of-order queue holds; the
// sender keeps a scoreboard of SACKed ranges, counts what is really in
// flight (the "pipe") and retransmits the holes that three segments' worth
// of SACKed data above have shown lost.

// maxSACKRanges bounds the scoreboard; a peer reporting more scattered
// ranges than this only loses precision, not correctness.
const maxSACKRanges = 64

type seqRange struct{ start, end uint32 }

// sackBlocks fills o with up to four blocks describing the out-of-order
// queue, the range holding the latest arrival first (RFC 2018 4).
func (c *Conn) sackBlocks(o *header.TCPOptions) {
	var blocks [header.TCPMaxSACKBlocks]header.SACKBlock
	n, first := 0, -1
	for i := 0; i < len(c.ooo); {
		s := c.ooo[i].seq
		e := s + uint32(len(c.ooo[i].data))
		i++
		for i < len(c.ooo) && seqLEQ(c.ooo[i].seq, e) {
			if ne := c.ooo[i].seq + uint32(len(c.ooo[i].data)); seqLT(e, ne) {
				e = ne
			}
			i++
		}
		if s == e {
			continue
		}
		contains := seqLEQ(s, c.lastOOO) && seqLT(c.lastOOO, e)
		if n < len(blocks) {
			blocks[n] = header.SACKBlock{Start: s, End: e}
			if contains {
				first = n
			}
			n++
		} else if contains {
			blocks[n-1] = header.SACKBlock{Start: s, End: e}
			first = n - 1
		}
	}
	if first > 0 {
		f := blocks[first]
		copy(blocks[1:first+1], blocks[:first])
		blocks[0] = f
	}
	if o.HasTimestamps && n > 3 {
		n = 3 // 40 bytes of options: timestamps leave room for three
	}
	o.NumSACK = n
	o.SACK = blocks
}

// sackUpdate merges the peer's SACK blocks into the scoreboard and drops
// what the cumulative ACK covers (tcp_sacktag_write_queue).
func (c *Conn) sackUpdate(o *header.TCPOptions) {
	for i := 0; i < o.NumSACK; i++ {
		b := o.SACK[i]
		if !seqLT(b.Start, b.End) || !seqLT(c.sndUna, b.End) || seqLT(c.sndMax, b.End) {
			continue // D-SACK, stale or bogus: ignore
		}
		if seqLT(b.Start, c.sndUna) {
			b.Start = c.sndUna
		}
		c.sackInsert(seqRange{b.Start, b.End})
	}
	c.sackTrim()
}

func (c *Conn) sackInsert(r seqRange) {
	s := c.sacked
	i := 0
	for i < len(s) && seqLT(s[i].end, r.start) {
		i++
	}
	j := i
	for j < len(s) && seqLEQ(s[j].start, r.end) {
		if seqLT(s[j].start, r.start) {
			r.start = s[j].start
		}
		if seqLT(r.end, s[j].end) {
			r.end = s[j].end
		}
		j++
	}
	if i == j && len(s) >= maxSACKRanges {
		return
	}
	// replace s[i:j] with r
	if i == j {
		s = append(s, seqRange{})
		copy(s[i+1:], s[i:])
	} else {
		s = append(s[:i+1], s[j:]...)
	}
	s[i] = r
	c.sacked = s
}

// sackTrim drops scoreboard ranges at or below snd_una.
func (c *Conn) sackTrim() {
	k := 0
	for k < len(c.sacked) && seqLEQ(c.sacked[k].end, c.sndUna) {
		k++
	}
	if k > 0 {
		c.sacked = append(c.sacked[:0], c.sacked[k:]...)
	}
	if len(c.sacked) > 0 && seqLT(c.sacked[0].start, c.sndUna) {
		c.sacked[0].start = c.sndUna
	}
}

func (c *Conn) sackedBytes() uint32 {
	var n uint32
	for _, r := range c.sacked {
		n += r.end - r.start
	}
	return n
}

// lostHead reports whether RFC 6675's IsLost holds for snd_una: more than
// (DupThresh-1)·MSS bytes SACKed above it.
func (c *Conn) lostHead() bool {
	return c.sackOK && c.sackedBytes() > 2*uint32(c.mss)
}

// walkHoles calls f for each unSACKed hole below the highest SACKed byte,
// with whether the hole counts as lost.
func (c *Conn) walkHoles(f func(a, b uint32, lost bool) bool) {
	above := c.sackedBytes()
	s := c.sndUna
	for _, r := range c.sacked {
		if seqLT(s, r.start) {
			if !f(s, r.start, above > 2*uint32(c.mss)) {
				return
			}
		}
		above -= r.end - r.start
		s = r.end
	}
}

// pipe is RFC 6675's estimate of the bytes in flight.
func (c *Conn) pipe() uint32 {
	if len(c.sacked) == 0 {
		return c.sndNxt - c.sndUna
	}
	var p uint32
	c.walkHoles(func(a, b uint32, lost bool) bool {
		switch {
		case !lost:
			p += b - a
		case seqLT(a, c.highRxt):
			p += min(b, c.highRxt) - a // retransmitted once
		}
		return true
	})
	if last := c.sacked[len(c.sacked)-1].end; seqLT(last, c.sndNxt) {
		p += c.sndNxt - last
	}
	return p
}

// nextLost returns the next lost hole not yet retransmitted (NextSeg rule 1).
func (c *Conn) nextLost() (seq uint32, n int, ok bool) {
	if seqLT(c.highRxt, c.sndUna) {
		c.highRxt = c.sndUna
	}
	c.walkHoles(func(a, b uint32, lost bool) bool {
		if !lost {
			return true
		}
		s := a
		if seqLT(s, c.highRxt) {
			s = c.highRxt
		}
		if seqLT(s, b) {
			seq, n, ok = s, int(min(b-s, uint32(c.mss))), true
			return false
		}
		return true
	})
	return
}

// sackRecover retransmits lost holes while the pipe leaves room in cwnd,
// then lets output send new data.
func (c *Conn) sackRecover() {
	rt, ok := c.route()
	if !ok {
		return
	}
	for c.pipe()+uint32(c.mss) <= c.cwndBytes() {
		seq, n, ok := c.nextLost()
		if !ok {
			break
		}
		off := int(seq - c.sndUna)
		if off+n > len(c.sndBuf) {
			break
		}
		c.t.Stats.RetransSegs++
		c.Info.Retransmits++
		c.rttTiming = false // Karn
		c.xmit(rt, seq, header.TCPFlagACK, c.sndBuf[off:off+n], nil)
		c.highRxt = seq + uint32(n)
	}
}

// skipSACKed moves snd_nxt past a SACKed range after a go-back-N rewind:
// the receiver holds those bytes.
func (c *Conn) skipSACKed() {
	for _, r := range c.sacked {
		if seqLEQ(r.start, c.sndNxt) && seqLT(c.sndNxt, r.end) {
			c.sndNxt = r.end
			return
		}
	}
}
