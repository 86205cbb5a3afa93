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

// sackBlocks fills o with the D-SACK block, if one is due, and then the
// receiver's SACK blocks in their most-recently-used order, as many as
// the option room takes (three with timestamps).
func (c *Conn) sackBlocks(o *header.TCPOptions) {
	var blocks [header.TCPMaxSACKBlocks]header.SACKBlock
	n := 0
	if c.dsackOn {
		// A D-SACK block goes first (RFC 2883) and is reported once.
		blocks[0] = header.SACKBlock{Start: c.dsack.start, End: c.dsack.end}
		n, c.dsackOn = 1, false
	}
	if len(c.ooo) > 0 {
		for i := 0; i < c.nsacks && n < len(blocks); i++ {
			blocks[n] = header.SACKBlock{Start: c.sacks[i].start, End: c.sacks[i].end}
			n++
		}
	}
	if o.HasTimestamps && n > 3 {
		n = 3 // 40 bytes of options: timestamps leave room for three
	}
	o.NumSACK = n
	o.SACK = blocks
}

// The receiver's SACK blocks (tp->selective_acks): up to four ranges of
// the out-of-order queue, the one the latest arrival touched first (RFC
// 2018 4), kept as Linux keeps them — an arrival that extends a block
// moves it to the front, one that extends none opens a new block there
// and, with four already, the least recently used is forgotten; its data
// stays queued but goes unreported until a later arrival touches it.
// Blocks that rcv_nxt reaches are dropped.

const sackBlocksExpected = 2 // TCP_SACK_BLOCKS_EXPECTED

// sackExtend is tcp_sack_extend: [seq, end) overlapping or touching b
// widens it.
func sackExtend(b *seqRange, seq, end uint32) bool {
	if !seqLEQ(b.start, end) || !seqLEQ(seq, b.end) {
		return false
	}
	if seqLT(seq, b.start) {
		b.start = seq
	}
	if seqLT(b.end, end) {
		b.end = end
	}
	return true
}

// sackNewOfo is tcp_sack_new_ofo_skb, for an out-of-order arrival at
// [seq, end) (end past a FIN). An ACK held back by SACK compression goes
// out first when the arrival touches a block beyond the first two or
// opens a new one next to two or more: it carries blocks the change
// would push out of the sender's view.
func (c *Conn) sackNewOfo(seq, end uint32) {
	n := c.nsacks
	for i := 0; i < n; i++ {
		if !sackExtend(&c.sacks[i], seq, end) {
			continue
		}
		if i >= sackBlocksExpected {
			c.compSendNow()
		}
		b := c.sacks[i]
		copy(c.sacks[1:i+1], c.sacks[:i])
		c.sacks[0] = b
		c.sackCoalesce()
		return
	}
	if n >= sackBlocksExpected {
		c.compSendNow()
	}
	if n == len(c.sacks) {
		n-- // forget the least recently used
	}
	copy(c.sacks[1:n+1], c.sacks[:n])
	c.sacks[0] = seqRange{seq, end}
	c.nsacks = n + 1
}

// sackCoalesce is tcp_sack_maybe_coalesce: the first block, just grown,
// swallows the blocks it now overlaps or touches.
func (c *Conn) sackCoalesce() {
	for i := 1; i < c.nsacks; {
		if sackExtend(&c.sacks[0], c.sacks[i].start, c.sacks[i].end) {
			copy(c.sacks[i:c.nsacks], c.sacks[i+1:c.nsacks])
			c.nsacks--
			continue
		}
		i++
	}
}

// sackRemove is tcp_sack_remove, after rcv_nxt advanced: blocks it
// reached go, all of them once the out-of-order queue is empty.
func (c *Conn) sackRemove() {
	if len(c.ooo) == 0 {
		c.nsacks = 0
		return
	}
	for i := 0; i < c.nsacks; {
		if !seqLT(c.rcvNxt, c.sacks[i].start) {
			copy(c.sacks[i:c.nsacks], c.sacks[i+1:c.nsacks])
			c.nsacks--
			continue
		}
		i++
	}
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
