package cc

import "time"

// HyStart (hybrid slow start) parameters, Linux's defaults.
const (
	hystartLowWindow  = 16    // only above this cwnd
	hystartAckDeltaUS = 2000  // ACKs closer than this form a train
	hystartMinSamples = 8     // RTT samples per round before judging delay
	hystartDelayMinUS = 4000  // delay-increase threshold bounds
	hystartDelayMaxUS = 16000 //
	gsoMaxSize        = 65536 // sk_gso_max_size, for the ACK-delay cushion
	ackDelayCapUS     = 1000  // the cushion is at most 1 ms
)

// hystart finds the point to leave slow start before losses do, from two
// signals per round trip: a train of closely spaced ACKs lasting longer
// than half the minimum RTT (the pipe is full), or the round's minimum RTT
// rising clearly above the connection's (a queue is building).
type hystart struct {
	roundStart uint32 // µs clock at the start of the round
	endSeq     uint32 // the round ends when this is acknowledged
	lastAck    uint32 // µs clock of the last ACK of the current train
	currRTT    uint32 // minimum RTT of the round, µs
	sampleCnt  uint8
}

// reset starts a new round (bictcp_hystart_reset).
func (h *hystart) reset(s *Sender) {
	h.roundStart = clockUS(s.Now)
	h.lastAck = h.roundStart
	h.endSeq = s.SndNxt
	h.currRTT = ^uint32(0)
	h.sampleCnt = 0
}

// update feeds one RTT sample (µs) and reports whether slow start should
// end; if so it has set Ssthresh to Cwnd (hystart_update).
func (h *hystart) update(s *Sender, delay, delayMin uint32) bool {
	if int32(s.SndUna-h.endSeq) > 0 {
		h.reset(s)
	}
	if s.Cwnd < hystartLowWindow {
		return false
	}
	found := false
	now := clockUS(s.Now)
	if int32(now-h.lastAck) <= hystartAckDeltaUS {
		h.lastAck = now
		// Without pacing, a train longer than half the minimum RTT
		// means the ACKs of a full pipe are coming back.
		threshold := (delayMin + ackDelay(s)) >> 1
		if int32(now-h.roundStart) > int32(threshold) {
			found = true
		}
	}
	if h.currRTT > delay {
		h.currRTT = delay
	}
	if h.sampleCnt < hystartMinSamples {
		h.sampleCnt++
	} else if h.currRTT > delayMin+min(max(delayMin>>3, hystartDelayMinUS), hystartDelayMaxUS) {
		found = true
	}
	if found {
		s.Ssthresh = s.Cwnd
	}
	return found
}

// ackDelay is the cushion for TSO/GRO aggregation the ACK-train test
// allows (hystart_ack_delay): the time to send four 64 KiB super-packets
// at the pacing rate, at most 1 ms. The pacing rate is Linux's default
// estimate, cwnd·MSS/SRTT scaled by 200% in early slow start and 120%
// after (tcp_update_pacing_rate); with no RTT yet there is none.
func ackDelay(s *Sender) uint32 {
	if s.SRTT <= 0 || s.MSS <= 0 {
		return 0
	}
	ratio := uint64(120)
	if s.Cwnd < s.Ssthresh/2 {
		ratio = 200
	}
	// gso·4/rate with rate = MSS·cwnd·ratio/SRTT, arranged to stay in
	// 64 bits for any window.
	srttUS := uint64(s.SRTT / time.Microsecond)
	den := uint64(s.MSS) * uint64(s.Cwnd) * ratio
	if den == 0 {
		return 0
	}
	return uint32(min(ackDelayCapUS, gsoMaxSize*4*100*min(srttUS, 1<<32)/den))
}
