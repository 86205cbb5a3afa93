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
		c.state != SynSent && c.state != SynRecv
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

// sendTLP sends the probe (tcp_send_loss_probe): new data if the
// windows allow, else the last MSS of the highest record not SACKed.
func (c *Conn) sendTLP() {
	rt, ok := c.route()
	if !ok {
		return
	}
	c.tlpOut = true
	off := int(c.sndNxt - c.sndUna)
	if avail := c.sndq.Len() - off; avail > 0 && !c.finSent && c.sndNxt-c.sndUna+uint32(c.mss) <= c.sndWnd {
		n := min(c.mss, avail)
		if !c.xmitData(rt, c.sndNxt, header.TCPFlagACK, n) {
			return
		}
		c.recordSent(c.sndNxt, c.sndNxt+uint32(n), false)
		c.sndNxt += uint32(n)
		if seqLT(c.sndMax, c.sndNxt) {
			c.sndMax = c.sndNxt
		}
		c.Info.TLPs++
		return
	}
	// The highest record not SACKed; data before a lone FIN, whose
	// probe would draw an ACK without SACK information.
	i := len(c.txq) - 1
	for i >= 0 && (c.txq[i].sacked || c.txq[i].fin && i > 0) {
		i--
	}
	if i < 0 {
		return
	}
	if s := c.txq[i]; !s.fin && s.end-s.start > uint32(c.mss) {
		if j := c.split(s.end-uint32(c.mss), false); j < len(c.txq) && c.txq[j].end == s.end {
			i = j
		}
	}
	s := &c.txq[i]
	c.t.Stats.RetransSegs++
	c.Info.Retransmits++
	c.Info.TLPs++
	c.rttTiming = false
	if s.fin {
		c.xmit(rt, s.start, header.TCPFlagFIN|header.TCPFlagACK, nil, nil)
	} else {
		if !c.xmitData(rt, s.start, header.TCPFlagACK, int(s.end-s.start)) {
			return
		}
	}
	s.retrans, s.everRetrans, s.sent = true, true, c.t.exec.Now()
}
