package tcp

import (
	"time"

	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/tcp/cc"
)

// Tail loss probe (RFC 8985 7, tcp_schedule_loss_probe): when the tail of
// a flight is lost there are no later segments to produce SACKs, and only
// the RTO would notice. So, with SACK in use and no recovery under way,
// the retransmission timer first fires after a probe timeout of two SRTTs:
// one segment (new data if allowed, else the last one sent) goes out, its
// ACK or SACK reveals the loss, and fast recovery repairs it. The real
// RTO is armed afterwards.

// tlpEligible says whether the next timer should be a probe.
func (c *Conn) tlpEligible() bool {
	return c.sackOK && c.caState == cc.Open && !c.tlpOut && c.srtt > 0 && c.sndNxt != c.sndUna &&
		(c.state == Established || c.state == CloseWait)
}

// pto is the probe timeout: 2·SRTT, plus room for a delayed ACK when
// only one segment is out, never beyond the RTO.
func (c *Conn) pto() time.Duration {
	d := 2 * c.srtt
	if c.sndNxt-c.sndUna <= uint32(c.mss) {
		d += rtoMin
	} else {
		d += 2 * time.Millisecond // TCP_TIMEOUT_MIN
	}
	return min(d, c.rto)
}

// sendTLP sends the probe (tcp_send_loss_probe).
func (c *Conn) sendTLP() {
	rt, ok := c.route()
	if !ok {
		return
	}
	c.tlpOut = true
	off := int(c.sndNxt - c.sndUna)
	if avail := len(c.sndBuf) - off; avail > 0 && !c.finSent && c.sndNxt-c.sndUna+uint32(c.mss) <= c.sndWnd {
		n := min(c.mss, avail)
		c.xmit(rt, c.sndNxt, header.TCPFlagACK, c.sndBuf[off:off+n], nil)
		c.sndNxt += uint32(n)
		if seqLT(c.sndMax, c.sndNxt) {
			c.sndMax = c.sndNxt
		}
		c.Info.TLPs++
		return
	}
	n := min(c.mss, off, len(c.sndBuf))
	if n <= 0 {
		return
	}
	c.t.Stats.RetransSegs++
	c.Info.Retransmits++
	c.Info.TLPs++
	c.rttTiming = false
	c.xmit(rt, c.sndUna+uint32(min(off, len(c.sndBuf))-n), header.TCPFlagACK, c.sndBuf[min(off, len(c.sndBuf))-n:min(off, len(c.sndBuf))], nil)
}
