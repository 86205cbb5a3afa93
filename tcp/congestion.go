package tcp

import (
	"time"

	"github.com/usnet/usnet/tcp/cc"
)

// Congestion control glue (tcp_cong_control, tcp_enter_recovery,
// tcp_enter_loss): the window arithmetic itself is the tcp/cc algorithm's;
// this file decides when to call it. Windows are in segments, as in
// Linux; cwndBytes converts for the send loop.

// caInit binds the namespace's default algorithm (tcp_congestion_control)
// once the MSS is known.
func (c *Conn) caInit() {
	// The SYN's options re-initialize the algorithm made with the
	// connection: the same one is kept (Init resets it whole).
	if c.ca == nil || c.ca.Name() != c.t.Sysctl.CongestionControl {
		a, err := cc.New(c.t.Sysctl.CongestionControl)
		if err != nil {
			a, _ = cc.New(cc.Default)
		}
		c.ca = a
	}
	c.snd = cc.Sender{Cwnd: initCwnd, Ssthresh: cc.InfiniteSsthresh, MSS: c.mss}
	c.ca.Init(&c.snd)
}

// SetCongestion switches the algorithm (TCP_CONGESTION): ENOENT for an
// unknown name.
func (c *Conn) SetCongestion(name string) error {
	a, err := cc.New(name)
	if err != nil {
		return err
	}
	c.ca = a
	c.ca.Init(&c.snd)
	return nil
}

// Congestion returns the algorithm's name.
func (c *Conn) Congestion() string { return c.ca.Name() }

func (c *Conn) cwndBytes() uint32 { return c.snd.Cwnd * uint32(c.mss) }

// syncSender refreshes the fields the algorithm reads.
func (c *Conn) syncSender() {
	s := &c.snd
	s.MSS = c.mss
	s.InFlight = c.pipeSegs()
	s.SRTT, s.MinRTT = c.srtt, c.minRTT
	s.Now = c.t.exec.Now()
	s.SndNxt, s.SndUna = c.sndNxt, c.sndUna
	// tcp_is_cwnd_limited: in slow start, a window up to twice what is
	// in flight counts as used.
	s.CwndLimited = c.cwndLimited || s.InSlowStart() && s.Cwnd < 2*c.maxInflight
}

// caAcked runs on an ACK that advanced snd_una by newly bytes outside
// recovery; rtt < 0 is "no sample".
func (c *Conn) caAcked(newly uint32, rtt time.Duration) {
	acked := max((newly+uint32(c.mss)/2)/uint32(c.mss), 1)
	c.syncSender()
	c.ca.PktsAcked(&c.snd, acked, rtt)
	c.ca.CongAvoid(&c.snd, c.sndUna, acked)
	c.cwndLimited = false
}

// enterRecovery starts fast recovery (tcp_enter_recovery,
// tcp_init_cwnd_reduction): the algorithm's ssthresh is the target, and
// PRR (RFC 6937, tcp_cwnd_reduction) walks cwnd down to it over the
// recovery round instead of cutting at once. A new undo episode begins
// (undo.go); ssthresh from before is kept for it unless ECN echoed
// congestion on this ACK.
// A reduction under way for ECN (CWR) continues: the window is not cut
// twice, and there is nothing to undo.
func (c *Conn) enterRecovery(ece bool) {
	c.retransStampCleanup() // the clock starts with this fast retransmit
	c.undo.priorSsthresh = 0
	c.initUndo()
	if c.caState != cc.CWR && c.caState != cc.Recovery {
		if !ece {
			c.undo.priorSsthresh = c.currentSsthresh()
		}
		c.initCwndReduction()
		c.recover = c.sndMax
	}
	c.setCAState(cc.Recovery)
	c.Info.Recoveries++
}

// initCwndReduction is tcp_init_cwnd_reduction: the algorithm's ssthresh
// becomes the target of a reduction PRR walks down to, from the current
// window; the episode ends once snd_nxt of now is acknowledged. A tail
// loss probe episode ends with it.
func (c *Conn) initCwndReduction() {
	c.syncSender()
	c.recover = c.sndNxt
	c.tlp.active = false
	c.snd.CwndCnt = 0
	c.priorCwnd = c.snd.Cwnd
	c.prrDelivered, c.prrOut = 0, 0
	c.snd.Ssthresh = c.ca.SSThresh(&c.snd)
	if c.ecnOK {
		c.ecnQueueCWR = true
	}
}

// pipeSegs is tcp_packets_in_flight in segments.
func (c *Conn) pipeSegs() uint32 {
	return (c.pipe() + uint32(c.mss) - 1) / uint32(c.mss)
}

// cwndReduction is PRR's per-ACK step (tcp_cwnd_reduction): newly is the
// segments this ACK delivered (ACKed or SACKed), snduna whether it moved
// snd_una, lost whether it marked anything newly lost.
func (c *Conn) cwndReduction(newly uint32, snduna, lost bool) {
	if newly == 0 || c.priorCwnd == 0 {
		return
	}
	pipe := c.pipeSegs()
	c.prrDelivered += newly
	var sndcnt int64
	delta := int64(c.snd.Ssthresh) - int64(pipe)
	if delta < 0 {
		sndcnt = int64((uint64(c.snd.Ssthresh)*uint64(c.prrDelivered)+uint64(c.priorCwnd)-1)/uint64(c.priorCwnd)) - int64(c.prrOut)
	} else {
		sndcnt = max(int64(c.prrDelivered)-int64(c.prrOut), int64(newly))
		if snduna && !lost {
			sndcnt++
		}
		sndcnt = min(delta, sndcnt)
	}
	if c.prrOut == 0 {
		sndcnt = max(sndcnt, 1) // the fast retransmit goes out at once
	}
	c.snd.Cwnd = uint32(max(int64(pipe)+sndcnt, 1))
}

// endCwndReduction ends a reduction (tcp_end_cwnd_reduction): cwnd =
// ssthresh, unless the reduction was undone.
func (c *Conn) endCwndReduction() {
	if c.snd.Ssthresh < cc.InfiniteSsthresh && (c.caState == cc.CWR || c.undo.markerSet) {
		c.snd.Cwnd = max(c.snd.Ssthresh, 1)
	}
	c.ca.CwndEvent(&c.snd, cc.EvCompleteCWR)
}

// enterLoss is the RTO's reaction (tcp_enter_loss): every record not
// SACKed lost, cwnd one segment, and a new ssthresh (with a new undo
// episode) unless this window was reduced already — a timeout inside fast
// recovery, or one that only backs off an earlier timeout. F-RTO
// (frto.go) then judges whether the timeout was spurious.
func (c *Conn) enterLoss() {
	newRecovery := c.caState < cc.Recovery
	c.markAllLost()
	c.syncSender()
	if c.caState <= cc.Disorder || !seqLT(c.sndUna, c.recover) || c.caState == cc.Loss && c.retries <= 1 {
		c.undo.priorSsthresh = c.currentSsthresh()
		c.priorCwnd = c.snd.Cwnd
		c.snd.Ssthresh = c.ca.SSThresh(&c.snd)
		c.ca.CwndEvent(&c.snd, cc.EvLoss)
		c.initUndo()
	}
	c.snd.Cwnd, c.snd.CwndCnt = c.pipeSegs()+1, 0
	c.setCAState(cc.Loss)
	c.recover = c.sndNxt
	c.tlp.active = false // after initUndo counted a probe in flight
	c.ecnQueueCWR = c.ecnOK
	c.undo.frto = c.frtoEnabled(newRecovery)
}
