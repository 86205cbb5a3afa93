package tcp

import (
	"time"

	"github.com/usnet/usnet/tcp/cc"
)

// The congestion state machine per ACK (tcp_fastretrans_alert): leave a
// state whose episode is over, try the undo rules the state allows, find
// lost segments, and start fast recovery when some are; or else open
// the connection again: Open, or Disorder while SACKed or lost records or
// retransmissions are about (tcp_try_to_open). Linux runs it for dubious
// ACKs only — duplicates, SACKs, D-SACKs, ECE, or any ACK outside Open —
// so a state changes on those alone.

// fastRetransAlert runs after the ACK's SACK blocks and cumulative
// acknowledgment were applied (c.ackFlags says what they showed). It
// returns the bytes newly marked lost and what to send.
func (c *Conn) fastRetransAlert(priorUna uint32, dupack bool) (lost uint32, r rexmit) {
	f := c.ackFlags
	ece := f&flagECE != 0
	dubious := f&flagNotDup == 0 || f&(flagDataSacked|flagECE|flagDSACKing) != 0 || c.caState != cc.Open
	if ece {
		c.undo.priorSsthresh = 0 // congestion is proven: no undo
	}
	if c.checkSackReneging() {
		return 0, rexmitNone
	}
	if c.caState == cc.Open {
		c.undo.stampSet = false
	} else if !seqLT(c.sndUna, c.recover) {
		switch c.caState {
		case cc.CWR:
			// Held until something above high_seq is acknowledged, so the
			// CWR flag has reached the receiver.
			if c.sndUna != c.recover {
				c.endCwndReduction()
				c.setCAState(cc.Open)
			}
		case cc.Recovery:
			if c.tryUndoRecovery() {
				return 0, rexmitNone
			}
			c.endCwndReduction()
		}
	}
	switch c.caState {
	case cc.Recovery:
		if f&flagSndUnaAdvanced != 0 && c.tryUndoPartial(priorUna) {
			return 0, rexmitNone
		}
		if c.tryUndoDSACK() {
			c.tryKeepOpen()
		}
		lost = c.identifyLoss(f)
		if c.caState != cc.Recovery {
			if !c.hasLost() {
				return lost, rexmitNone
			}
			c.enterRecovery(ece) // reordering undone, then a real loss
		}
		return lost, rexmitLost
	case cc.Loss:
		r = c.processLoss(f, dupack)
		lost = c.identifyLoss(f)
		if c.caState != cc.Open && c.ackFlags&flagLostRetrans == 0 {
			return lost, r
		}
		// Undone, or a retransmission was lost again: carry on as Open
		// would, into Recovery for the latter — PRR then clocks the
		// repair out on the SACKs instead of waiting for a second RTO.
	}
	if c.caState <= cc.Disorder {
		c.tryUndoDSACK()
	}
	lost += c.identifyLoss(f)
	if !c.hasLost() {
		if dubious {
			c.tryToOpen(ece)
		} else {
			c.retransStampCleanup()
		}
		return lost, rexmitNone
	}
	c.enterRecovery(ece)
	return lost, rexmitLost
}

// tryToOpen is tcp_try_to_open: ECE without a loss starts a CWR
// reduction; outside one, Open or Disorder as the records say.
func (c *Conn) tryToOpen(ece bool) {
	c.retransStampCleanup()
	if ece {
		c.enterCWR()
	}
	if c.caState != cc.CWR {
		c.tryKeepOpen()
	}
}

// identifyLoss marks lost records (tcp_identify_packet_loss): RACK with
// SACK, NewReno's head rule without.
func (c *Conn) identifyLoss(f ackFlag) uint32 {
	if len(c.txq) == 0 {
		return 0
	}
	if c.sackOK {
		return c.rackMarkLost()
	}
	// NewReno (tcp_newreno_mark_lost): three duplicate ACKs, or a partial
	// ACK in Recovery, mark the head lost. Unlike Linux the whole head
	// record goes, and again on every partial ACK: a record is a GSO
	// super-packet, and impairments drop it whole.
	if c.caState < cc.Recovery && c.dupAcks >= defaultReordering ||
		c.caState == cc.Recovery && f&flagSndUnaAdvanced != 0 && seqLT(c.sndUna, c.recover) {
		c.markHeadLost()
		return c.txq[0].end - c.txq[0].start
	}
	return 0
}

// checkSackReneging is tcp_check_sack_reneging: an ACK that advanced
// snd_una but stopped at a SACKed record suggests the receiver dropped
// what it SACKed. Rather than retransmit everything at once, wait a
// little for ACKs that set the scoreboard right: the retransmission timer
// fires after max(SRTT/2, 10 ms), and if the head is still SACKed then,
// the timeout forgets the SACKs (markAllLost).
func (c *Conn) checkSackReneging() bool {
	if c.ackFlags&(flagSackReneging|flagSndUnaAdvanced) != flagSackReneging|flagSndUnaAdvanced {
		return false
	}
	c.ptoArmed = false
	c.rtoTimer.Reset(max(c.srtt/2, 10*time.Millisecond))
	c.ackFlags |= flagRenegTimer
	return true
}
