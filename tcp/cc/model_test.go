package cc

import (
	"testing"
	"time"
)

// ackClock is a fluid model of a bulk sender on virtual time: each round
// trip it sends a full window, and the window's ACKs come back evenly
// spread over the next RTT, one segment each.
type ackClock struct {
	s   *Sender
	alg Algorithm
	rtt time.Duration
}

func newClock(t testing.TB, name string, cwnd uint32, rtt time.Duration) *ackClock {
	t.Helper()
	alg, err := New(name)
	if err != nil {
		t.Fatal(err)
	}
	s := &Sender{Cwnd: cwnd, Ssthresh: InfiniteSsthresh, MSS: 1448, CwndLimited: true, Now: time.Second}
	alg.Init(s)
	return &ackClock{s: s, alg: alg, rtt: rtt}
}

// round runs one RTT: cwnd segments sent, then acknowledged one by one.
func (m *ackClock) round() {
	s := m.s
	n := s.Cwnd
	start := s.Now
	s.SndNxt = s.SndUna + n
	s.InFlight = n
	for i := uint32(1); i <= n; i++ {
		s.Now = start + m.rtt*time.Duration(i)/time.Duration(n)
		s.SndUna++
		s.InFlight--
		s.Delivered++
		m.alg.PktsAcked(s, 1, m.rtt)
		m.alg.CongAvoid(s, s.SndUna, 1)
	}
}

// runUntil runs rounds until the executor time reaches t.
func (m *ackClock) runUntil(t time.Duration) {
	for m.s.Now < t {
		m.round()
	}
}

// loss is a fast-retransmit loss repaired in one round trip: ssthresh
// from the algorithm, cwnd down to it once recovery ends (PRR's outcome).
func (m *ackClock) loss() {
	s := m.s
	m.alg.SetState(s, Recovery)
	s.Ssthresh = m.alg.SSThresh(s)
	s.Cwnd = s.Ssthresh
	s.CwndCnt = 0
	m.alg.SetState(s, Open)
}
