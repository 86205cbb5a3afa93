package cc

import "time"

// SlowStart grows Cwnd by one segment per acked segment, up to Ssthresh,
// and returns the acked segments left over for congestion avoidance
// (tcp_slow_start).
func SlowStart(s *Sender, acked uint32) uint32 {
	cwnd := min(s.Cwnd+acked, s.Ssthresh)
	acked -= cwnd - s.Cwnd
	s.Cwnd = min(cwnd, s.clamp())
	return acked
}

// CongAvoidAI is additive increase: Cwnd grows by one segment every w
// acked segments, counted in CwndCnt (tcp_cong_avoid_ai).
func CongAvoidAI(s *Sender, w, acked uint32) {
	if w == 0 { // not reachable from the algorithms here; never divide by it
		w = 1
	}
	// Credit earned while w was larger is spent gently: one segment.
	if s.CwndCnt >= w {
		s.CwndCnt = 0
		s.Cwnd++
	}
	s.CwndCnt += acked
	if s.CwndCnt >= w {
		d := s.CwndCnt / w
		s.CwndCnt -= d * w
		s.Cwnd += d
	}
	s.Cwnd = min(s.Cwnd, s.clamp())
}

// priorCwnd remembers the window at loss entry (tp->prior_cwnd), which the
// TCP state machine sets right before it calls the ssthresh op; keeping it
// here spares the Sender a field only undo reads.
type priorCwnd uint32

func (p *priorCwnd) record(s *Sender) { *p = priorCwnd(s.Cwnd) }

// undo is tcp_reno_undo_cwnd: never shrink on undo.
func (p priorCwnd) undo(s *Sender) uint32 { return max(s.Cwnd, uint32(p)) }

// Reno is NewReno's window arithmetic: slow start, then one segment per
// RTT, halving on loss (tcp_reno_*).
type Reno struct {
	prior priorCwnd
}

// Name returns "reno".
func (*Reno) Name() string { return "reno" }

// Init does nothing: Reno keeps no state beyond the Sender's.
func (r *Reno) Init(*Sender) { r.prior = 0 }

// SSThresh halves the window, keeping at least two segments
// (tcp_reno_ssthresh).
func (r *Reno) SSThresh(s *Sender) uint32 {
	r.prior.record(s)
	return max(s.Cwnd>>1, 2)
}

// CongAvoid is tcp_reno_cong_avoid.
func (*Reno) CongAvoid(s *Sender, _, acked uint32) {
	if acked, ok := slowStartFirst(s, acked); ok {
		CongAvoidAI(s, s.Cwnd, acked)
	}
}

// slowStartFirst is how every cong_avoid begins: no growth unless the
// window limits the sender, then slow start up to ssthresh. It returns
// the ACKed segments left for congestion avoidance, and false when there
// is nothing more to do.
func slowStartFirst(s *Sender, acked uint32) (uint32, bool) {
	if !s.CwndLimited {
		return 0, false
	}
	if s.InSlowStart() {
		acked = SlowStart(s, acked)
		return acked, acked != 0
	}
	return acked, true
}

// SetState does nothing for Reno.
func (*Reno) SetState(*Sender, CAState) {}

// CwndEvent does nothing for Reno.
func (*Reno) CwndEvent(*Sender, Event) {}

// PktsAcked does nothing for Reno.
func (*Reno) PktsAcked(*Sender, uint32, time.Duration) {}

// UndoCwnd is tcp_reno_undo_cwnd: the larger of the current window and the
// one before the loss.
func (r *Reno) UndoCwnd(s *Sender) uint32 { return r.prior.undo(s) }
