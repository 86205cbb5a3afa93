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
	a, err := cc.New(c.t.Sysctl.CongestionControl)
	if err != nil {
		a, _ = cc.New(cc.Default)
	}
	c.ca = a
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
	s.InFlight = (c.sndNxt - c.sndUna + uint32(c.mss) - 1) / uint32(c.mss)
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
	c.snd.Delivered += acked
	c.syncSender()
	c.ca.PktsAcked(&c.snd, acked, rtt)
	c.ca.CongAvoid(&c.snd, c.sndUna, acked)
	c.cwndLimited = false
}

// enterRecovery is fast retransmit's window reduction (tcp_enter_recovery):
// the algorithm's ssthresh becomes cwnd at once (RFC 6675; Linux spreads
// the reduction with PRR). Without SACK the caller adds NewReno's
// inflation.
func (c *Conn) enterRecovery() {
	c.syncSender()
	c.priorCwnd = c.snd.Cwnd
	c.snd.Ssthresh = c.ca.SSThresh(&c.snd)
	c.caState = cc.Recovery
	c.ca.SetState(&c.snd, cc.Recovery)
	c.snd.Cwnd = c.snd.Ssthresh
	c.highRxt = c.sndUna
	c.snd.CwndCnt = 0
	c.recover = c.sndMax
	c.Info.Recoveries++
}

// exitRecovery ends a reduction (tcp_end_cwnd_reduction): cwnd = ssthresh.
func (c *Conn) exitRecovery() {
	c.snd.Cwnd = max(min(c.snd.Cwnd, c.snd.Ssthresh), 1)
	c.caState = cc.Open
	c.ca.SetState(&c.snd, cc.Open)
	c.ca.CwndEvent(&c.snd, cc.EvCompleteCWR)
}

// enterLoss is the RTO's reaction (tcp_enter_loss): a new ssthresh unless
// this timeout only backs off an earlier one, cwnd one segment.
func (c *Conn) enterLoss() {
	c.syncSender()
	if c.caState != cc.Loss || c.retries <= 1 {
		c.priorCwnd = c.snd.Cwnd
		c.snd.Ssthresh = c.ca.SSThresh(&c.snd)
		c.ca.CwndEvent(&c.snd, cc.EvLoss)
	}
	c.snd.Cwnd, c.snd.CwndCnt = 1, 0
	c.caState = cc.Loss
	c.ca.SetState(&c.snd, cc.Loss)
	c.recover = c.sndMax
	c.highRxt = c.sndUna
}
