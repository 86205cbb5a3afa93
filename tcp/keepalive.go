package tcp

import (
	"syscall"
	"time"
)

// Keepalive (tcp_keepalive_timer): after KeepIdle without hearing from
// the peer, probe every KeepIntvl with a segment one byte below snd_una
// (which the peer must answer with an ACK); KeepCnt unanswered probes
// end the connection with ETIMEDOUT and an RST. The idle time counts
// from when keepalive is turned on if that is later: SO_KEEPALIVE arms the
// timer for the full idle time. No probes go out while data is
// queued or in flight: the retransmission timer covers that case.

// SetKeepAlive turns SO_KEEPALIVE on or off.
func (c *Conn) SetKeepAlive(on bool) {
	c.keepalive = on
	c.kaProbes = 0
	if !on {
		if c.kaTimer != nil {
			c.kaTimer.Stop()
		}
		return
	}
	if c.kaTimer == nil {
		c.kaTimer = c.t.newTimer(c.onKeepalive)
	}
	c.kaTimer.Reset(c.keepIdle())
}

// SetKeepAliveParams sets TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT;
// zero values keep the namespace defaults.
func (c *Conn) SetKeepAliveParams(idle, intvl time.Duration, cnt int) {
	c.kaIdle, c.kaIntvl, c.kaCnt = idle, intvl, cnt
	if c.keepalive {
		c.kaTimer.Reset(c.keepIdle())
	}
}

// KeepAlive reports whether SO_KEEPALIVE is on.
func (c *Conn) KeepAlive() bool { return c.keepalive }

// KeepAliveParams returns the idle time, interval and probe count in
// force (the socket's own or the namespace's defaults).
func (c *Conn) KeepAliveParams() (idle, intvl time.Duration, cnt int) {
	return c.keepIdle(), c.keepIntvl(), c.keepCnt()
}

func (c *Conn) keepIdle() time.Duration {
	if c.kaIdle > 0 {
		return c.kaIdle
	}
	return c.t.Sysctl.KeepaliveTime
}

func (c *Conn) keepIntvl() time.Duration {
	if c.kaIntvl > 0 {
		return c.kaIntvl
	}
	return c.t.Sysctl.KeepaliveIntvl
}

func (c *Conn) keepCnt() int {
	if c.kaCnt > 0 {
		return c.kaCnt
	}
	return c.t.Sysctl.KeepaliveProbes
}

func (c *Conn) onKeepalive() {
	switch c.state {
	case Established, CloseWait, FinWait1, FinWait2:
	default:
		return
	}
	if !c.keepalive {
		return
	}
	if c.sndNxt != c.sndUna || c.sndq.Len() > 0 {
		c.kaTimer.Reset(c.keepIdle())
		return
	}
	idle := c.t.exec.Now() - c.lastRcv
	if idle < c.keepIdle() && c.kaProbes == 0 {
		c.kaTimer.Reset(c.keepIdle() - idle)
		return
	}
	if c.kaProbes >= c.keepCnt() {
		// Linux resets the connection it gives up on, in case the peer
		// is alive after all and only the probes' answers were lost.
		c.sendRst(c.sndNxt)
		c.fail(syscall.ETIMEDOUT)
		return
	}
	rt, ok := c.route()
	if ok {
		c.xmit(rt, c.sndUna-1, 0x10, nil, nil)
	}
	c.kaProbes++
	c.kaTimer.Reset(c.keepIntvl())
}

// heard notes a segment from the peer (rcv_tstamp) for keepalive.
func (c *Conn) heard() {
	c.lastRcv = c.t.exec.Now()
	if c.kaProbes > 0 {
		c.kaProbes = 0
		c.kaTimer.Reset(c.keepIdle())
	}
}
