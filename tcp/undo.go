package tcp

import (
	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/tcp/cc"
)

// Undo of spurious window reductions (tcp_try_undo_* in Linux's
// tcp_input.c). A reduction — fast recovery or an RTO — is a guess that
// data was lost. Two kinds of evidence can prove the guess wrong
// afterwards, and then the window and ssthresh from before the reduction
// come back:
//   - D-SACK (RFC 2883, RFC 3708): the receiver reports every
//     retransmission of the episode as a duplicate, so the originals
//     arrived (undo_retrans counts the retransmissions not yet reported).
//   - Timestamps (Eifel detection, RFC 3522): an ACK that echoes a TSval
//     older than the first retransmission was caused by an original
//     transmission (tcp_packet_delayed).
// F-RTO (frto.go) is a third kind, for timeouts only.

// undoState is tcp_sock's undo_marker, undo_retrans, prior_ssthresh,
// retrans_stamp, frto and dsack_dups.
type undoState struct {
	marker        uint32 // undo_marker: snd_una when the episode began
	markerSet     bool   // undo_marker != 0: the episode may still be undone
	retrans       int32  // undo_retrans: retransmissions not yet D-SACKed; -1 none; 0 all
	priorSsthresh uint32 // prior_ssthresh; 0 forbids undo (ECN proved congestion)
	stamp         uint32 // retrans_stamp: TSval clock at the episode's first retransmission
	stampSet      bool
	frto          bool   // F-RTO runs for the current timeout (tp->frto)
	sendNew       bool   // F-RTO step 2b: new data may go out past records marked lost
	dsackDups     uint64 // segments D-SACKed so far (dsack_dups)
	ecr           uint32 // TSecr of the ACK being processed
	sawTS         bool   // that ACK carried timestamps
}

// ackFlag is what one ACK showed (the FLAG_* bits tcp_ack collects).
type ackFlag uint16

const (
	flagSndUnaAdvanced   ackFlag = 1 << iota // snd_una moved (FLAG_SND_UNA_ADVANCED)
	flagDataSacked                           // new data SACKed (FLAG_DATA_SACKED)
	flagOrigSackAcked                        // never-retransmitted data at or below high_seq (S)ACKed
	flagRetransDataAcked                     // retransmitted data cumulatively ACKed
	flagDSACKing                             // a D-SACK block that counted (FLAG_DSACKING_ACK)
	flagECE                                  // ECN-Echo on an ECN connection (FLAG_ECE)
	flagDSACKTLP                             // a D-SACK for the tail loss probe (FLAG_DSACK_TLP)
	flagLostRetrans                          // RACK found a retransmission lost (FLAG_LOST_RETRANS)
	flagSackReneging                         // the ACK stops at a SACKed record (FLAG_SACK_RENEGING)
	flagRenegTimer                           // the reneging timer is armed: leave the RTO alone
	flagNotDup                               // data, a window update or new data acknowledged (FLAG_NOT_DUP)
)

// setCAState is tcp_set_ca_state.
func (c *Conn) setCAState(st cc.CAState) {
	c.caState = st
	c.ca.SetState(&c.snd, st)
}

// currentSsthresh is tcp_current_ssthresh: what ssthresh would be worth
// restoring — during a reduction the target, otherwise three quarters of
// cwnd if that is more.
func (c *Conn) currentSsthresh() uint32 {
	if c.caState == cc.CWR || c.caState == cc.Recovery {
		return c.snd.Ssthresh
	}
	return max(c.snd.Ssthresh, c.snd.Cwnd>>1+c.snd.Cwnd>>2)
}

// segsOf is a byte count in segments, rounded up (tcp_skb_pcount).
func (c *Conn) segsOf(n uint32) uint32 { return (n + uint32(c.mss) - 1) / uint32(c.mss) }

// retransOut is retrans_out: retransmissions in flight, in segments.
func (c *Conn) retransOut() uint32 {
	var n uint32
	for i := range c.txq {
		if s := &c.txq[i]; s.retrans && !s.sacked {
			n += c.segsOf(s.end - s.start)
		}
	}
	return n
}

// anyRetransDone is tcp_any_retrans_done: retransmissions in flight, or
// a head that was retransmitted once.
func (c *Conn) anyRetransDone() bool {
	return c.retransOut() > 0 || len(c.txq) > 0 && c.txq[0].everRetrans
}

// retransStampCleanup is tcp_retrans_stamp_cleanup: with nothing
// retransmitted outstanding, the next episode starts its own clock.
func (c *Conn) retransStampCleanup() {
	if c.undo.stampSet && !c.anyRetransDone() {
		c.undo.stampSet = false
	}
}

// initUndo is tcp_init_undo, at the start of an episode: retransmissions
// still in flight may draw D-SACKs later and count, a retransmitted tail
// loss probe among them, so that its D-SACK alone cannot undo a
// reduction that repaired another, real loss.
func (c *Conn) initUndo() {
	c.undo.marker, c.undo.markerSet = c.sndUna, true
	c.undo.retrans = int32(c.retransOut())
	if c.tlp.active && c.tlp.retrans {
		c.undo.retrans++
	}
	if c.undo.retrans == 0 {
		c.undo.retrans = -1 // 0 would mean "everything D-SACKed"
	}
}

// retransmitted accounts one retransmission of n bytes (tcp_retransmit_skb):
// the episode's clock starts at the first, and undo_retrans counts them.
func (c *Conn) retransmitted(n uint32) {
	if !c.undo.stampSet {
		c.undo.stamp, c.undo.stampSet = c.tsNow(), true
	}
	c.undo.retrans = max(c.undo.retrans, 0) + int32(c.segsOf(n))
}

// packetDelayed is tcp_packet_delayed: the ACK echoes a timestamp from
// before the first retransmission, so an original got through; or
// nothing was retransmitted at all.
func (c *Conn) packetDelayed() bool {
	if c.undo.stampSet {
		return c.undo.sawTS && c.undo.ecr != 0 && seqLT(c.undo.ecr, c.undo.stamp)
	}
	if !c.sackOK && !seqLT(c.sndUna, c.recover) {
		return false // tcp_is_non_sack_preventing_reopen cleared the stamp
	}
	return c.state != SynSent
}

// mayUndo is tcp_may_undo.
func (c *Conn) mayUndo() bool {
	return c.undo.markerSet && (c.undo.retrans == 0 || c.packetDelayed())
}

// undoCwndReduction is tcp_undo_cwnd_reduction: the algorithm's undo_cwnd
// (max of cwnd and the window before the reduction, for CUBIC and Reno)
// and the ssthresh from before; with unmarkLoss nothing stays marked
// lost, and RACK looks at the queue afresh on the next ACK.
func (c *Conn) undoCwndReduction(unmarkLoss bool) {
	if unmarkLoss {
		for i := range c.txq {
			c.txq[i].lost = false
		}
	}
	if c.undo.priorSsthresh != 0 {
		c.snd.Cwnd = c.ca.UndoCwnd(&c.snd)
		if c.undo.priorSsthresh > c.snd.Ssthresh {
			c.snd.Ssthresh = c.undo.priorSsthresh
			c.ecnQueueCWR = false // tcp_ecn_withdraw_cwr
		}
	}
	c.undo.markerSet = false
	c.rack.advanced = true
}

// nonSACKPreventingReopen is tcp_is_non_sack_preventing_reopen: without
// SACK the state holds until something above high_seq is acknowledged,
// or a further duplicate ACK would start a false fast retransmit (RFC
// 6582).
func (c *Conn) nonSACKPreventingReopen() bool {
	if c.sackOK || c.sndUna != c.recover {
		return false
	}
	if !c.anyRetransDone() {
		c.undo.stampSet = false
	}
	return true
}

// tryUndoRecovery is tcp_try_undo_recovery, when high_seq is acknowledged
// in Recovery or Loss; true means the state holds (non-SACK).
func (c *Conn) tryUndoRecovery() bool {
	if c.mayUndo() {
		c.undoCwndReduction(false)
		if c.caState == cc.Loss {
			c.countUndo(&c.Info.LossUndo, &c.t.Stats.TCPLossUndo)
		} else {
			c.countUndo(&c.Info.FullUndo, &c.t.Stats.TCPFullUndo)
		}
	} else if c.rack.reoPersist > 0 {
		c.rack.reoPersist--
	}
	if c.nonSACKPreventingReopen() {
		return true
	}
	c.setCAState(cc.Open)
	return false
}

// tryUndoDSACK is tcp_try_undo_dsack: every retransmission of the episode
// was D-SACKed. The reordering window keeps its width for longer.
func (c *Conn) tryUndoDSACK() bool {
	if !c.undo.markerSet || c.undo.retrans != 0 {
		return false
	}
	c.rack.reoPersist = min(rackRecoveryThres, c.rack.reoPersist+1)
	c.undoCwndReduction(false)
	c.countUndo(&c.Info.DSACKUndo, &c.t.Stats.TCPDSACKUndo)
	return true
}

// tryUndoPartial is tcp_try_undo_partial, on an ACK that advanced in
// Recovery: a hole filled by a delayed original rather than by the
// retransmission is reordering. With retransmissions still out it only
// holds off further marking and retransmission (true); otherwise it
// undoes and leaves Recovery.
func (c *Conn) tryUndoPartial(priorUna uint32) bool {
	if !c.undo.markerSet || !c.packetDelayed() {
		return false
	}
	if fack := c.highestSacked(); seqLT(priorUna, fack) {
		c.reorderSeen(fack - priorUna)
	}
	if c.retransOut() > 0 {
		return true
	}
	if !c.anyRetransDone() {
		c.undo.stampSet = false
	}
	c.undoCwndReduction(true)
	c.countUndo(&c.Info.PartialUndo, &c.t.Stats.TCPPartialUndo)
	c.tryKeepOpen()
	return false
}

// tryKeepOpen is tcp_try_keep_open: Disorder while records are SACKed
// or marked lost, or retransmissions are about, else Open; entering
// either starts a new high_seq.
func (c *Conn) tryKeepOpen() {
	st := cc.Open
	if c.leftOut() || c.anyRetransDone() {
		st = cc.Disorder
	}
	if c.caState != st {
		c.setCAState(st)
		c.recover = c.sndNxt
	}
}

// leftOut is tcp_left_out: records SACKed or marked lost.
func (c *Conn) leftOut() bool {
	for i := range c.txq {
		if s := &c.txq[i]; s.sacked || s.lost {
			return true
		}
	}
	return false
}

// tryUndoLoss is tcp_try_undo_loss, in Loss: after an ACK that advanced
// (Eifel or D-SACK evidence), or unconditionally for F-RTO's verdict.
func (c *Conn) tryUndoLoss(frto bool) bool {
	if !frto && !c.mayUndo() {
		return false
	}
	c.undoCwndReduction(true)
	c.countUndo(&c.Info.LossUndo, &c.t.Stats.TCPLossUndo)
	if frto {
		c.countUndo(&c.Info.SpuriousRTOs, &c.t.Stats.TCPSpuriousRTOs)
	}
	c.retries = 0
	if c.nonSACKPreventingReopen() {
		return true
	}
	if frto || c.sackOK {
		c.setCAState(cc.Open)
	}
	return true
}

func (c *Conn) countUndo(conn, ns *uint64) {
	*conn++
	*ns++
}

// dsackUndo accounts a D-SACK block [b.Start, b.End) of segs segments
// against undo_retrans (tcp_check_dsack, tcp_sacktag_one): below snd_una
// it is counted blindly, above only for records that were retransmitted.
// A block ending at or below undo_marker belongs to an earlier episode.
func (c *Conn) dsackUndo(b header.SACKBlock, segs uint32) {
	if !c.undo.markerSet || c.undo.retrans <= 0 || !seqLT(c.undo.marker, b.End) {
		return
	}
	if seqLEQ(b.End, c.sndUna) {
		c.undo.retrans = max(c.undo.retrans-int32(segs), 0)
		return
	}
	var n uint32
	for i := range c.txq {
		s := &c.txq[i]
		if !s.everRetrans || !seqLT(c.undo.marker, s.end) {
			continue
		}
		lo, hi := s.start, s.end
		if seqLT(lo, b.Start) {
			lo = b.Start
		}
		if seqLT(b.End, hi) {
			hi = b.End
		}
		if seqLT(lo, hi) {
			n += hi - lo
		}
	}
	c.undo.retrans = max(c.undo.retrans-int32(c.segsOf(n)), 0)
}

// dsackSeen is tcp_dsack_seen: the segments a D-SACK block reports, or
// 0 when it is dubious — more duplicates reported than were ever
// retransmitted (network duplication, not our retransmissions).
func (c *Conn) dsackSeen(b header.SACKBlock) uint32 {
	if !seqLT(b.Start, b.End) {
		return 0
	}
	segs := max(c.segsOf(b.End-b.Start), 1)
	if b.End-b.Start <= uint32(c.mss) && c.tlp.active && b.End == c.tlp.end {
		c.ackFlags |= flagDSACKTLP // even when dubious, as Linux
	}
	c.undo.dsackDups += uint64(segs)
	if c.undo.dsackDups > c.Info.Retransmits {
		return 0
	}
	c.ackFlags |= flagDSACKing
	return segs
}
