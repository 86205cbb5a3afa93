package tcp

import (
	"github.com/usnet/usnet/header"
)

// Selective acknowledgments (RFC 2018) and SACK-based loss recovery
// (RFC 6675): the receiver reports what its out-of-order queue holds; the
// sender keeps a scoreboard of SACKed ranges, counts what is really in
// flight (the "pipe") and retransmits the holes that three segments' worth
// of SACKed data above have shown lost.

type seqRange struct{ start, end uint32 }

// sackBlocks fills o with up to four blocks describing the out-of-order
// queue, the range holding the latest arrival first (RFC 2018 4).
func (c *Conn) sackBlocks(o *header.TCPOptions) {
	var blocks [header.TCPMaxSACKBlocks]header.SACKBlock
	n, first := 0, -1
	if c.dsackOn {
		// A D-SACK block goes first (RFC 2883) and is reported once.
		blocks[0] = header.SACKBlock{Start: c.dsack.start, End: c.dsack.end}
		n, c.dsackOn = 1, false
	}
	skip := n
	for i := 0; i < len(c.ooo); {
		// end_seq counts a FIN: an out-of-order FIN is SACKed too.
		s := c.ooo[i].seq
		e := c.ooo[i].end()
		i++
		for i < len(c.ooo) && seqLEQ(c.ooo[i].seq, e) {
			if ne := c.ooo[i].end(); seqLT(e, ne) {
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
	if first > skip {
		f := blocks[first]
		copy(blocks[skip+1:first+1], blocks[skip:first])
		blocks[skip] = f
	}
	if o.HasTimestamps && n > 3 {
		n = 3 // 40 bytes of options: timestamps leave room for three
	}
	o.NumSACK = n
	o.SACK = blocks
}

// sackUpdate applies the peer's SACK blocks to the retransmission queue
// (tcp_sacktag_write_queue) and returns the bytes newly SACKed. A first
// block starting below the ACK or inside the second block is a D-SACK
// (RFC 2883): a duplicate arrived. Unless dubious, it may widen RACK's
// reordering window and counts against the retransmissions of an undo
// episode (undo.go).
func (c *Conn) sackUpdate(o *header.TCPOptions, ack uint32) uint32 {
	var n uint32
	for i := 0; i < o.NumSACK; i++ {
		b := o.SACK[i]
		if i == 0 && seqLT(b.Start, b.End) && (seqLT(b.Start, ack) ||
			o.NumSACK > 1 && seqLEQ(o.SACK[1].Start, b.Start) && seqLEQ(b.End, o.SACK[1].End)) {
			c.Info.DSACKs++
			if segs := c.dsackSeen(b); segs > 0 {
				// Only once reordering is known may a D-SACK widen
				// RACK's window (tcp_dsack_seen), and not one for a
				// probe: the timer sent it, not RACK.
				if c.rack.reordSeen && c.ackFlags&flagDSACKTLP == 0 {
					c.rack.dsackSeen = true
				}
				c.dsackUndo(b, segs)
			}
			continue
		}
		if !seqLT(b.Start, b.End) || !seqLT(c.sndUna, b.End) || seqLT(c.sndMax, b.End) {
			continue // stale or bogus: ignore
		}
		if seqLT(b.Start, c.sndUna) {
			b.Start = c.sndUna
		}
		n += c.txSacked(b.Start, b.End)
	}
	return n
}

// pipe is the bytes in flight (tcp_packets_in_flight: packets_out -
// sacked_out - lost_out + retrans_out, in bytes).
func (c *Conn) pipe() uint32 {
	var p uint32
	for i := range c.txq {
		s := &c.txq[i]
		if s.sacked {
			continue
		}
		l := s.end - s.start
		if !s.lost {
			p += l
		}
		if s.retrans {
			p += l
		}
	}
	if !c.sackOK {
		// Without SACK each duplicate ACK stands for a segment that left
		// the network (tcp_add_reno_sacks).
		p -= min(p, uint32(c.dupAcks)*uint32(c.mss))
	}
	return p
}

// dsackSet records a duplicate range for the next ACK (tcp_dsack_set),
// replacing one not sent yet.
func (c *Conn) dsackSet(a, b uint32) {
	if !c.sackOK || !seqLT(a, b) {
		return
	}
	if seqLT(a, c.rcvNxt) {
		c.t.Stats.TCPDSACKOldSent++
	} else {
		c.t.Stats.TCPDSACKOfoSent++
	}
	c.dsack, c.dsackOn = seqRange{a, b}, true
}

// dsackExtend widens the pending D-SACK range by an overlapping or
// adjacent one, or sets it if there is none (tcp_dsack_extend).
func (c *Conn) dsackExtend(a, b uint32) {
	if !c.dsackOn {
		c.dsackSet(a, b)
		return
	}
	d := &c.dsack
	if seqLEQ(a, d.end) && seqLEQ(d.start, b) {
		if seqLT(a, d.start) {
			d.start = a
		}
		if seqLT(d.end, b) {
			d.end = b
		}
	}
}
