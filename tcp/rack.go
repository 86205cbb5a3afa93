package tcp

import (
	"time"

	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/tcp/cc"
)

// RACK-TLP loss detection (RFC 8985, tcp_recovery = 1, Linux's
// tcp_recovery.c). Every transmission — a GSO super-packet, a
// retransmitted MSS, the FIN — gets a record with its send time; the
// records are the retransmission queue's skbs. A record is lost when a
// record sent after it has been delivered (ACKed or SACKed) and more than
// one RTT plus a reordering window has passed since it was sent. The
// window is zero until reordering is seen (so the first recovery starts
// as quickly as the three-dupACK rule would), then min_rtt/4, grown a
// step per D-SACK round up to SRTT, as Linux adapts it.

// txSeg is one transmission record (an skb in tcp_rtx_queue).
type txSeg struct {
	start, end  uint32
	sent        time.Duration // last (re)transmission time (skb_mstamp)
	fin         bool
	sacked      bool // TCPCB_SACKED_ACKED
	lost        bool // TCPCB_LOST
	retrans     bool // a retransmission is in flight (TCPCB_SACKED_RETRANS)
	everRetrans bool // TCPCB_EVER_RETRANS
}

// maxTxSegs bounds the record list; past it new data extends the last
// record (coarser timing, same correctness).
const maxTxSegs = 1 << 16

const (
	defaultReordering = 3   // tcp_reordering
	maxReordering     = 300 // tcp_max_reordering
	rackRecoveryThres = 16  // TCP_RACK_RECOVERY_THRESH
)

// rack is tcp_sock.rack plus the reordering state RACK reads.
type rack struct {
	xmit       time.Duration // send time of the latest delivered record
	endSeq     uint32
	rtt        time.Duration
	advanced   bool
	reoSteps   uint32
	reoPersist uint32
	dsackSeen  bool
	lastDeliv  uint32
	reordSeen  bool
	reordering uint32
}

// recordSent appends a record for [start, end) sent now.
func (c *Conn) recordSent(start, end uint32, fin bool) {
	now := c.t.exec.Now()
	if n := len(c.txq); n > 0 && n >= maxTxSegs && c.txq[n-1].end == start && !c.txq[n-1].fin {
		c.txq[n-1].end, c.txq[n-1].sent = end, now
		return
	}
	c.txq = append(c.txq, txSeg{start: start, end: end, sent: now, fin: fin})
}

// sentAfter is tcp_skb_sent_after: sent later, or at the same time with
// a higher sequence.
func sentAfter(t1, t2 time.Duration, seq1, seq2 uint32) bool {
	return t1 > t2 || t1 == t2 && seqLT(seq2, seq1)
}

// rackAdvance is tcp_rack_advance for a delivered record.
func (c *Conn) rackAdvance(s *txSeg) {
	rtt := c.t.exec.Now() - s.sent
	if s.everRetrans && rtt < c.minRTT {
		return // may be the original's ACK: ambiguous
	}
	c.rack.advanced = true
	c.rack.rtt = rtt
	if sentAfter(s.sent, c.rack.xmit, s.end, c.rack.endSeq) {
		c.rack.xmit, c.rack.endSeq = s.sent, s.end
	}
}

// split makes a record boundary at seq (tcp_fragment) and returns the
// index of the first record that starts at or after seq. When the list is
// full a record straddling seq stays whole and counts as starting after
// seq if atEnd (so a SACK never covers bytes it did not name), before it
// otherwise.
func (c *Conn) split(seq uint32, atEnd bool) int {
	for i := range c.txq {
		s := &c.txq[i]
		if seqLEQ(seq, s.start) {
			return i
		}
		if seqLT(seq, s.end) {
			if len(c.txq) >= maxTxSegs {
				if atEnd {
					return i
				}
				return i + 1
			}
			r := *s
			s.end, r.start = seq, seq
			c.txq = append(c.txq, txSeg{})
			copy(c.txq[i+2:], c.txq[i+1:])
			c.txq[i+1] = r
			return i + 1
		}
	}
	return len(c.txq)
}

// txAcked drops the records the cumulative ACK covers; it returns the
// bytes newly delivered that had not been SACKed.
func (c *Conn) txAcked(ack uint32) uint32 {
	var n uint32
	fack := c.highestSacked()
	k := 0
	for k < len(c.txq) && seqLEQ(c.txq[k].end, ack) {
		s := &c.txq[k]
		if s.everRetrans {
			c.ackFlags |= flagRetransDataAcked
		} else if !s.sacked && seqLEQ(s.end, c.recover) {
			c.ackFlags |= flagOrigSackAcked
		}
		if !s.sacked {
			n += s.end - s.start
			c.rackAdvance(s)
			if !s.everRetrans && seqLT(s.start, fack) {
				c.reorderSeen(fack - s.start)
			}
		}
		k++
	}
	if k > 0 {
		c.txq = append(c.txq[:0], c.txq[k:]...)
	}
	if len(c.txq) > 0 && seqLT(c.txq[0].start, ack) {
		if s := &c.txq[0]; !s.everRetrans && !s.sacked && seqLEQ(s.end, c.recover) {
			c.ackFlags |= flagOrigSackAcked
		}
		n += ack - c.txq[0].start
		c.txq[0].start = ack
	}
	if len(c.txq) > 0 && c.txq[0].sacked {
		// The receiver acknowledges up to data it SACKed, not over it:
		// it may have dropped its out-of-order queue (reneging).
		c.ackFlags |= flagSackReneging
	}
	return n
}

// highestSacked is tcp_highest_sack_seq (snd_una when nothing is SACKed).
func (c *Conn) highestSacked() uint32 {
	h := c.sndUna
	for i := range c.txq {
		if c.txq[i].sacked {
			h = c.txq[i].end
		}
	}
	return h
}

// txSacked marks [a, b) SACKed and returns the bytes newly SACKed.
func (c *Conn) txSacked(a, b uint32) uint32 {
	fack := c.highestSacked()
	i := c.split(a, false)
	j := c.split(b, true)
	var n uint32
	for k := i; k < j && k < len(c.txq); k++ {
		s := &c.txq[k]
		if s.sacked {
			continue
		}
		s.sacked, s.lost, s.retrans = true, false, false
		if !s.everRetrans && seqLEQ(s.end, c.recover) {
			c.ackFlags |= flagOrigSackAcked
		}
		n += s.end - s.start
		c.rackAdvance(s)
		if !s.everRetrans && seqLT(s.start, fack) {
			c.reorderSeen(fack - s.start)
		}
	}
	return n
}

// reorderSeen is tcp_check_sack_reordering: a never-retransmitted record
// below the highest SACK was delivered late.
func (c *Conn) reorderSeen(dist uint32) {
	c.rack.reordSeen = true
	c.Info.ReordSeen++
	if m := (dist + uint32(c.mss) - 1) / uint32(c.mss); m > c.rack.reordering {
		c.rack.reordering = min(m, maxReordering)
	}
}

// sackedSegs is sacked_out in segments.
func (c *Conn) sackedSegs() uint32 {
	var n uint32
	for i := range c.txq {
		if c.txq[i].sacked {
			n += c.txq[i].end - c.txq[i].start
		}
	}
	return (n + uint32(c.mss) - 1) / uint32(c.mss)
}

// reoWnd is tcp_rack_reo_wnd.
func (c *Conn) reoWnd() time.Duration {
	if !c.rack.reordSeen {
		if c.caState >= cc.Recovery || c.sackedSegs() >= c.rack.reordering {
			return 0
		}
	}
	return min(c.minRTT/4*time.Duration(max(c.rack.reoSteps, 1)), c.srtt)
}

// updateReoWnd is tcp_rack_update_reo_wnd, once per ACK; deliveredBefore
// is the delivered count before this ACK.
func (c *Conn) updateReoWnd(deliveredBefore uint32) {
	if deliveredBefore == 0 {
		return
	}
	if seqLT(deliveredBefore, c.rack.lastDeliv) {
		c.rack.dsackSeen = false // at most one step per round
	}
	if c.rack.dsackSeen {
		c.rack.reoSteps = min(c.rack.reoSteps+1, 0xff)
		c.rack.dsackSeen = false
		c.rack.lastDeliv = c.snd.Delivered
		c.rack.reoPersist = rackRecoveryThres
	} else if c.rack.reoPersist == 0 {
		c.rack.reoSteps = 1
	}
}

// rackDetectLoss marks lost the records RACK says are (tcp_rack_detect_loss)
// and returns the time until the next one would be, or 0; it returns the
// bytes newly marked lost, and whether some of them were retransmissions
// in flight, lost again (tcp_mark_skb_lost: TCPLostRetransmit, counted
// in segments).
func (c *Conn) rackDetectLoss() (lost uint32, lostRetrans bool, wait time.Duration) {
	now := c.t.exec.Now()
	reo := c.reoWnd()
	for i := range c.txq {
		s := &c.txq[i]
		if s.sacked || s.lost && !s.retrans {
			continue
		}
		if !sentAfter(c.rack.xmit, s.sent, c.rack.endSeq, s.end) {
			continue
		}
		remaining := s.sent + c.rack.rtt + reo - now
		if remaining <= 0 {
			if s.retrans {
				n := uint64(c.segsOf(s.end - s.start))
				c.Info.LostRetransmits += n
				c.t.Stats.TCPLostRetransmit += n
				lostRetrans = true
			}
			s.lost, s.retrans = true, false
			lost += s.end - s.start
		} else {
			wait = max(wait, remaining)
		}
	}
	return lost, lostRetrans, wait
}

// rackMarkLost runs detection when an ACK advanced RACK's state
// (tcp_rack_mark_lost) and arms the reordering timer for records not yet
// past their deadline. A retransmission found lost is flagged for the
// state machine (FLAG_LOST_RETRANS, tcp_identify_packet_loss).
func (c *Conn) rackMarkLost() uint32 {
	if !c.rack.advanced || !c.sackOK {
		return 0
	}
	c.rack.advanced = false
	lost, lostRetrans, wait := c.rackDetectLoss()
	if wait > 0 {
		c.reoTimer.Reset(wait + 2*time.Millisecond) // + TCP_TIMEOUT_MIN
	}
	if lostRetrans {
		c.ackFlags |= flagLostRetrans
	}
	return lost
}

// onReoTimeout is tcp_rack_reo_timeout: the reordering window of some
// record ran out without its delivery.
func (c *Conn) onReoTimeout() {
	if !c.Established() && c.state != Closing && c.state != LastAck {
		return
	}
	lost, _, wait := c.rackDetectLoss()
	if wait > 0 {
		c.reoTimer.Reset(wait + 2*time.Millisecond)
	}
	if lost > 0 {
		// From Loss too: the lost records are retransmissions or data
		// sent after the timeout, and Recovery's PRR clocks out their
		// repair (tcp_rack_reo_timeout).
		if c.caState != cc.Recovery {
			c.enterRecovery(false)
			c.cwndReduction(1, false, true) // PRR lets the fast retransmit out
		}
		c.xmitRetransmitQueue()
		c.output()
	}
	if c.sndUna != c.sndNxt && !c.rtoTimer.Pending() {
		c.armRTO()
	}
}

// hasLost reports lost records awaiting retransmission (lost_out above
// retrans_out).
func (c *Conn) hasLost() bool {
	for i := range c.txq {
		if s := &c.txq[i]; s.lost && !s.retrans && !s.sacked {
			return true
		}
	}
	return false
}

// markAllLost is tcp_timeout_mark_lost: after an RTO every record not
// SACKed is lost.
func (c *Conn) markAllLost() {
	if len(c.txq) > 0 && c.txq[0].sacked {
		// The timeout confirms the reneging the ACKs suggested
		// (tcp_timeout_mark_lost): forget every SACK.
		c.t.Stats.TCPSACKReneging++
		for i := range c.txq {
			c.txq[i].sacked = false
		}
	}
	for i := range c.txq {
		if s := &c.txq[i]; !s.sacked {
			s.lost, s.retrans = true, false
		}
	}
}

// markHeadLost marks the first record lost (NewReno's fast retransmit).
func (c *Conn) markHeadLost() {
	if len(c.txq) > 0 && !c.txq[0].sacked {
		c.txq[0].lost, c.txq[0].retrans = true, false
	}
}

// xmitRetransmitQueue retransmits lost records while the pipe leaves
// room in cwnd (tcp_xmit_retransmit_queue), one MSS at a time.
func (c *Conn) xmitRetransmitQueue() {
	rt, ok := c.route()
	if !ok {
		return
	}
	pipe := c.pipe()
	for i := 0; i < len(c.txq); i++ {
		if pipe >= c.cwndBytes() {
			return
		}
		s := &c.txq[i]
		if !s.lost || s.retrans || s.sacked {
			continue
		}
		if !s.fin && s.end-s.start > uint32(c.mss) {
			c.split(s.start+uint32(c.mss), true)
			s = &c.txq[i]
		}
		c.t.Stats.RetransSegs++
		c.Info.Retransmits++
		c.rttTiming = false // Karn
		if s.fin {
			c.xmit(rt, s.start, header.TCPFlagFIN|header.TCPFlagACK, nil, nil)
		} else {
			if !c.xmitData(rt, s.start, header.TCPFlagACK, int(s.end-s.start)) {
				return
			}
		}
		s.retrans, s.everRetrans, s.sent = true, true, c.t.exec.Now()
		c.retransmitted(s.end - s.start)
		pipe += s.end - s.start
		c.prrOut += (s.end - s.start + uint32(c.mss) - 1) / uint32(c.mss)
	}
}
