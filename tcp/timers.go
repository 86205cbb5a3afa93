package tcp

import (
	"syscall"
	"time"
)

// armRTO (re)starts the retransmission timer.
func (c *Conn) armRTO() { c.rtoTimer.Reset(c.rto) }

// armRTOIfIdle starts it unless it runs already.
func (c *Conn) armRTOIfIdle() {
	if !c.rtoTimer.Pending() {
		c.armRTO()
	}
}

// rttSample updates SRTT, RTTVAR and RTO (RFC 6298 2.2/2.3).
func (c *Conn) rttSample(r time.Duration) {
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
	c.rto = min(max(c.srtt+max(4*c.rttvar, time.Millisecond), rtoMin), rtoMax)
	c.Info.RTT, c.Info.RTTVar, c.Info.RTO = c.srtt, c.rttvar, c.rto
}

// onRTO is the retransmission timeout (tcp_retransmit_timer).
func (c *Conn) onRTO() {
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
		if inflight == 0 && c.sndWnd == 0 && len(c.sndBuf) > 0 {
			// Zero-window probe: one byte beyond the window.
			rt, ok := c.route()
			if ok {
				c.xmit(&rt, c.sndUna, 0x10, c.sndBuf[:1], nil)
			}
			c.rto = min(c.rto*2, rtoMax)
			c.armRTO()
			c.retries--
			return
		}
		if inflight == 0 {
			return
		}
		// Loss: back to one segment, go back N (RFC 5681 3.1).
		c.ssthresh = max(inflight/2, uint32(2*c.mss))
		c.cwnd = uint32(c.mss)
		c.inRecovery = false
		c.dupAcks = 0
		c.retransmitHead()
		c.sndNxt = c.sndUna + uint32(min(c.mss, len(c.sndBuf)))
		if len(c.sndBuf) == 0 && c.finSent {
			c.sndNxt = c.sndUna + 1
		} else if c.finSent {
			c.finSent = false
		}
	}
	c.rto = min(c.rto*2, rtoMax)
	c.armRTO()
}
