package tcp

import "github.com/usnet/usnet/tcp/cc"

// F-RTO (RFC 5682 with SACK, net.ipv4.tcp_frto = 2; tcp_process_loss).
// A retransmission timeout may be spurious: a delay spike holds the ACKs
// back past the RTO while nothing is lost. Go-back-N would then resend
// the whole window for nothing and the window would restart from one
// segment. So after the timeout only the head is retransmitted; then
//   - an ACK or SACK of data that was never retransmitted (sent before
//     the timeout) proves the originals arrived: the timeout was spurious,
//     the reduction is undone and the rest is not retransmitted (step 3b);
//   - an ACK that advances snd_una, but only over the retransmission,
//     lets two new segments out instead of retransmissions (step 2b), so
//     the next ACK can tell;
//   - a duplicate ACK or SACK after that shows a real loss, and
//     conventional recovery goes on (step 3a).
// Linux's conditions hold: F-RTO runs for a timeout on data (not a SYN)
// that arrives outside Recovery and Loss, or that repeats on the same
// snd_una; it never runs after the first timeout inside fast recovery.

// rexmit is what to send after an ACK in recovery (REXMIT_*).
type rexmit uint8

const (
	rexmitNone rexmit = iota
	rexmitLost        // retransmit the records marked lost
	rexmitNew         // F-RTO step 2b: new data first
)

// frtoEnabled is the tp->frto condition of tcp_enter_loss: newRecovery
// says the timeout struck outside Recovery and Loss; c.retries counts
// this timeout too, so more than one means it repeats.
func (c *Conn) frtoEnabled(newRecovery bool) bool {
	return c.t.Sysctl.FRTO != 0 && (newRecovery || c.retries > 1)
}

// processLoss handles an ACK in Loss (tcp_process_loss); dupack is a
// pure duplicate ACK.
func (c *Conn) processLoss(f ackFlag, dupack bool) rexmit {
	recovered := !seqLT(c.sndUna, c.recover)
	if f&flagSndUnaAdvanced != 0 && c.tryUndoLoss(false) {
		return rexmitNone
	}
	if c.undo.frto {
		if f&flagOrigSackAcked != 0 && c.tryUndoLoss(true) {
			return rexmitNone // step 3b: never-retransmitted data got through
		}
		if seqLT(c.recover, c.sndNxt) {
			if f&flagDataSacked != 0 || dupack {
				c.undo.frto = false // step 3a: the loss was real
			}
		} else if f&flagSndUnaAdvanced != 0 && !recovered {
			c.recover = c.sndNxt
			// Step 2b: new data, if there is some and the peer's window
			// takes it; the send happens once cwnd has grown for this ACK.
			if int(c.sndNxt-c.sndUna) < c.sndq.Len() && seqLT(c.sndNxt, c.sndUna+c.sndWnd) {
				return rexmitNew
			}
			c.undo.frto = false
		}
	}
	if recovered {
		c.tryUndoRecovery() // step 2a, and the end of a real loss episode
		return rexmitNone
	}
	return rexmitLost
}

// xmitRecovery sends what the ACK's processing asked for
// (tcp_xmit_recovery), after the window was updated.
func (c *Conn) xmitRecovery(r rexmit) {
	switch r {
	case rexmitNone:
		return
	case rexmitNew:
		c.undo.sendNew = true
		c.output()
		c.undo.sendNew = false
		if seqLT(c.recover, c.sndNxt) {
			return
		}
		c.undo.frto = false
	}
	if c.caState == cc.Recovery || c.caState == cc.Loss {
		c.xmitRetransmitQueue()
	}
}
