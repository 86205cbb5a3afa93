package tcp

import (
	"time"

	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/tcp/cc"
)

// Tail loss probe (RFC 8985 7, tcp_schedule_loss_probe): when the tail of
// a flight is lost there are no later segments to produce SACKs, and only
// the RTO would notice. So, with SACK in use and no loss recovery under
// way (Open or CWR), the retransmission timer first fires after a probe
// timeout of two SRTTs: one segment (new data if allowed, else the last
// one sent) goes out, its ACK or SACK reveals the loss, and fast recovery
// repairs it. The real RTO is armed afterwards.
//
// A probe opens an episode (tlp_high_seq, RFC 8985 7.4) that ends with
// the ACK that tells what the probe found; until then no other probe goes
// out. A probe of new data ends it once acknowledged. A retransmitted
// probe may have repaired a real loss, which congestion control must hear
// about: an ACK beyond the episode's snd_nxt without a D-SACK for the
// probe means it did, and the window is reduced once (a CWR reduction
// done at once, TCPLossProbeRecovery); a D-SACK for the probe, or a pure
// duplicate ACK at the episode's end, means the original arrived too and
// nothing is reduced.

// tlpState is tcp_sock's tlp_high_seq and tlp_retrans.
type tlpState struct {
	active  bool   // tlp_high_seq != 0: an episode is open
	highSeq uint32 // snd_nxt when the probe went out
	retrans bool   // the probe was a retransmission (tlp_retrans)
	end     uint32 // the end of the probe's data (tlp_high_seq in Linux, which probes the last record)
}

// tlpEligible says whether the next timer should be a probe: in Open
// or CWR (tcp_schedule_loss_probe), not in Disorder, where the SACKs
// already in hand, not a probe, show the way. The state is the one the
// last dubious ACK left (tcp_try_keep_open), not judged afresh: CWR
// probes with records SACKed, and a state set Open by an undo probes
// until an ACK says otherwise.
func (c *Conn) tlpEligible() bool {
	return c.sackOK && (c.caState == cc.Open || c.caState == cc.CWR) && c.srtt > 0 && c.sndNxt != c.sndUna &&
		c.state != SynSent && c.state != SynRecv
}

// pto is the probe timeout: 2·SRTT, plus room for a delayed ACK when
// only one segment is out; the caller caps it by the RTO (armTimer).
func (c *Conn) pto() time.Duration {
	d := 2 * c.srtt
	if c.onePacketOut() {
		d += rtoMin
	} else {
		d += 2 * time.Millisecond // TCP_TIMEOUT_MIN
	}
	return d
}

// onePacketOut is packets_out == 1: one record of at most one segment
// outstanding. Segments are counted, not bytes, so data and a FIN sent
// on its own after it are two, as two skbs are in Linux.
func (c *Conn) onePacketOut() bool {
	if len(c.txq) == 0 {
		return c.sndNxt-c.sndUna <= uint32(c.mss)
	}
	if len(c.txq) > 1 {
		return false
	}
	s := &c.txq[0]
	n := s.end - s.start
	if s.fin {
		n--
	}
	return n <= uint32(c.mss)
}

// onPTO is the probe timer (tcp_send_loss_probe and its rearm): after a
// probe the RTO restarts from now; without one (an episode is open, or
// nothing could be sent) it fires when the head's RTO would have.
func (c *Conn) onPTO() {
	if c.sendTLP() {
		c.rtoTimer.Reset(c.rto)
		return
	}
	c.rtoTimer.Reset(max(c.rtoDelta(), time.Microsecond))
}

// sendTLP sends the probe: new data if the windows allow, else the last
// MSS of the highest record not SACKed. It reports whether one went out.
func (c *Conn) sendTLP() bool {
	if c.tlp.active {
		return false // at most one probe per episode
	}
	rt, ok := c.route()
	if !ok {
		return false
	}
	c.tlp.retrans = false
	off := int(c.sndNxt - c.sndUna)
	if avail := c.sndq.Len() - off; avail > 0 && !c.finSent && c.sndNxt-c.sndUna+uint32(c.mss) <= c.sndWnd {
		n := min(c.mss, avail)
		if !c.xmitData(rt, c.sndNxt, header.TCPFlagACK, n) {
			return false
		}
		c.recordSent(c.sndNxt, c.sndNxt+uint32(n), false)
		c.sndNxt += uint32(n)
		if seqLT(c.sndMax, c.sndNxt) {
			c.sndMax = c.sndNxt
		}
		c.tlp.end = c.sndNxt
		c.tlpSent()
		return true
	}
	// The highest record not SACKed, a lone FIN included, as Linux
	// probes the last skb of its retransmission queue: arriving out of
	// order, a FIN draws SACKs that show the data before it lost.
	i := len(c.txq) - 1
	for i >= 0 && c.txq[i].sacked {
		i--
	}
	if i < 0 {
		return false
	}
	if s := c.txq[i]; !s.fin && s.end-s.start > uint32(c.mss) {
		if j := c.split(s.end-uint32(c.mss), false); j < len(c.txq) && c.txq[j].end == s.end {
			i = j
		}
	}
	s := &c.txq[i]
	if s.fin {
		c.xmit(rt, s.start, header.TCPFlagFIN|header.TCPFlagACK, nil, nil)
	} else if !c.xmitData(rt, s.start, header.TCPFlagACK, int(s.end-s.start)) {
		return false
	}
	c.t.Stats.RetransSegs++
	c.Info.Retransmits++
	c.rttTiming = false
	// Like __tcp_retransmit_skb: ever retransmitted, but not a
	// retransmission in flight (retrans_out), so the pipe counts the
	// record once and a later loss of it is not a lost retransmission.
	s.everRetrans, s.sent = true, c.t.exec.Now()
	c.tlp.retrans, c.tlp.end = true, s.end
	c.tlpSent()
	return true
}

// tlpSent opens the episode and counts the probe (TCPLossProbes).
func (c *Conn) tlpSent() {
	c.tlp.active, c.tlp.highSeq = true, c.sndNxt
	c.Info.TLPs++
	c.t.Stats.TCPLossProbes++
}

// processTLPAck is tcp_process_tlp_ack, for an ACK of ack while an
// episode is open, after the ACK's SACK blocks and cumulative
// acknowledgment were applied; notDup says the segment carried data or a
// window update (FLAG_NOT_DUP).
func (c *Conn) processTLPAck(ack uint32, notDup bool) {
	if !c.tlp.active || seqLT(ack, c.tlp.highSeq) {
		return
	}
	f := c.ackFlags
	switch {
	case !c.tlp.retrans:
		c.tlp.active = false // new data probed and acknowledged
	case f&flagDSACKTLP != 0:
		c.tlp.active = false // original and probe both arrived: no loss
	case seqLT(c.tlp.highSeq, ack):
		// Data sent after the probe is acknowledged and no D-SACK for
		// the probe came first: it repaired a real loss. Reduce once,
		// as a CWR episode that ends at once.
		c.initCwndReduction()
		c.setCAState(cc.CWR)
		c.endCwndReduction()
		c.tryKeepOpen()
		c.Info.TLPRecoveries++
		c.t.Stats.TCPLossProbeRecovery++
	case f&(flagSndUnaAdvanced|flagDataSacked) == 0 && !notDup:
		c.tlp.active = false // pure duplicate ACK: both arrived
	}
}
