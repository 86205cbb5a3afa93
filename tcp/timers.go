package tcp

import (
	"syscall"
	"time"
)

// armRTO (re)starts the retransmission timer after an ACK, as a tail
// loss probe first when one is allowed (tlp.go): the RTO restarts from
// now, so the probe timeout is capped by a whole RTO
// (tcp_schedule_loss_probe with advancing_rto).
func (c *Conn) armRTO() { c.armTimer(c.rto) }

// armRTOIfIdle starts it after a send unless it runs already; a pending
// probe timer is re-armed for the new tail, capped by the time left to
// the RTO of the oldest outstanding segment (tcp_rto_delta_us), which
// sending new data does not move.
func (c *Conn) armRTOIfIdle() {
	if !c.rtoTimer.Pending() || c.ptoArmed {
		c.armTimer(c.rtoDelta())
	}
}

// armTimer arms the probe timer, no later than limit when limit is
// positive, or else the RTO.
func (c *Conn) armTimer(limit time.Duration) {
	if c.tlpEligible() {
		c.ptoArmed = true
		d := c.pto()
		if limit > 0 {
			d = min(d, limit)
		}
		c.rtoTimer.Reset(d)
		return
	}
	c.ptoArmed = false
	c.rtoTimer.Reset(c.rto)
}

// rtoDelta is tcp_rto_delta_us: how far in the future the RTO of the
// head of the retransmission queue lies (negative: overdue).
func (c *Conn) rtoDelta() time.Duration {
	if len(c.txq) == 0 {
		return c.rto
	}
	return c.txq[0].sent + c.rto - c.t.exec.Now()
}

// rttSample updates SRTT, RTTVAR and RTO (RFC 6298 2.2/2.3, with Linux's
// floor).
func (c *Conn) rttSample(r time.Duration) {
	if c.minRTT == 0 || r < c.minRTT {
		c.minRTT = r
	}
	if c.srtt == 0 {
		c.srtt, c.rttvar = r, r/2
	} else {
		d := c.srtt - r
		if d < 0 {
			d = -d
		}
		c.rttvar = (3*c.rttvar + d) / 4
		c.srtt = (7*c.srtt + r) / 8
	}
	// A zero sample (possible in virtual time) must still count as a
	// measurement: srtt 0 means "none yet". Linux keeps srtt_us >= 1.
	c.srtt = max(c.srtt, time.Microsecond)
	// Linux floors the variance term, not the sum, at TCP_RTO_MIN
	// (tcp_rtt_estimator's mdev_max), so RTO >= SRTT + 200 ms.
	c.rto = min(c.srtt+max(4*c.rttvar, rtoMin), rtoMax)
	c.Info.RTT, c.Info.RTTVar, c.Info.RTO = c.srtt, c.rttvar, c.rto
}

// rtoFallback is TCP_TIMEOUT_FALLBACK.
const rtoFallback = 3 * time.Second

// initRTO is tcp_init_metrics' rule at establishment (RFC 6298 5.7): a
// handshake that gave no RTT sample (its SYN or SYN-ACK was retransmitted
// and there are no timestamps) leaves the RTO at 3 s rather than the 1 s
// (or backed-off) value of the handshake, which proved too short once.
func (c *Conn) initRTO() {
	if c.srtt == 0 {
		c.rto = rtoFallback
		c.Info.RTO = c.rto
	}
}

// onRTO is the retransmission timeout (tcp_retransmit_timer).
func (c *Conn) onRTO() {
	if c.ptoArmed {
		c.ptoArmed = false
		c.onPTO()
		return
	}
	c.retries++
	switch c.state {
	case SynSent:
		if c.retries > c.t.Sysctl.SynRetries {
			c.t.Stats.AttemptFails++
			c.fail(syscall.ETIMEDOUT)
			return
		}
		c.sendSyn(false)
	case SynRecv:
		if c.retries > c.t.Sysctl.SynackRetries {
			c.destroy()
			return
		}
		c.sendSyn(true)
	case Closed, Listen, TimeWait:
		return
	default:
		if c.retries > c.t.Sysctl.Retries2 {
			c.fail(syscall.ETIMEDOUT)
			return
		}
		inflight := c.sndNxt - c.sndUna
		if inflight == 0 && c.sndWnd == 0 && c.sndq.Len() > 0 {
			// Zero-window probe (tcp_xmit_probe_skb): an old sequence
			// number with no data, which the peer must answer with an ACK
			// carrying its current window. Probes back off like
			// retransmissions but never give up while answered.
			rt, ok := c.route()
			if ok {
				c.xmit(rt, c.sndUna-1, 0x10, nil, nil)
			}
			c.rto = min(c.rto*2, rtoMax)
			c.armRTO()
			c.retries--
			return
		}
		if inflight == 0 {
			if c.sndq.Len() > 0 {
				// Data queued and none sent: the last send found no
				// route (tcp_probe_timer's probe0). Try again, backing
				// off; retries count toward tcp_retries2 as Linux's
				// unanswered probes do.
				c.rto = min(c.rto*2, rtoMax)
				c.output()
			}
			return
		}
		// Loss: back to one segment, every record not SACKed lost,
		// retransmitted from the head as the window opens (tcp_enter_loss).
		c.Info.Timeouts++
		c.enterLoss()
		c.dupAcks = 0
		c.reoTimer.Stop()
		c.xmitRetransmitQueue()
	}
	c.rto = min(c.rto*2, rtoMax)
	c.armRTO()
}

// initTimers sets up the timers every connection has, embedded in the
// Conn. Each runs a method that counts the firing (Table.fires) first.
func (c *Conn) initTimers() {
	e := c.t.exec
	e.InitTimer(&c.rtoTimer, c.rtoFired)
	e.InitTimer(&c.ackTimer, c.ackFired)
	e.InitTimer(&c.compTimer, c.compFired)
	e.InitTimer(&c.twTimer, c.twFired)
	e.InitTimer(&c.reoTimer, c.reoFired)
}

func (c *Conn) rtoFired() { c.t.fires++; c.onRTO() }
func (c *Conn) ackFired() { c.t.fires++; c.delackTimer() }
func (c *Conn) twFired()  { c.t.fires++; c.destroy() }
func (c *Conn) reoFired() { c.t.fires++; c.onReoTimeout() }
