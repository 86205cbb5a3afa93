package cc

import (
	"testing"
	"time"
)

// hystartSender is a connection in initial slow start with a window large
// enough for HyStart, one round (up to SndNxt 1000) under way.
func hystartSender(t *testing.T, cwnd uint32) (*Sender, *Cubic) {
	t.Helper()
	s := &Sender{Cwnd: cwnd, Ssthresh: InfiniteSsthresh, MSS: 1448, CwndLimited: true,
		Now: time.Second, SndNxt: 1000}
	c := new(Cubic)
	c.Init(s)
	return s, c
}

// feed delivers RTT samples spaced gap apart, each acknowledging one
// more segment; it returns how many were taken before slow start ended
// (n if it did not).
func feed(s *Sender, c *Cubic, n int, gap, rtt time.Duration) int {
	for i := range n {
		s.Now += gap
		s.SndUna++
		c.PktsAcked(s, 1, rtt)
		if !s.InSlowStart() {
			return i
		}
	}
	return n
}

// nextRound acknowledges past the round's end_seq so the next sample
// starts a new HyStart round.
func nextRound(s *Sender) {
	s.SndUna = s.SndNxt + 1
	s.SndNxt += 1000
}

func TestHyStartDelayIncrease(t *testing.T) {
	for _, tc := range []struct {
		rtt  time.Duration
		exit bool
	}{
		{15 * time.Millisecond, true},  // 10 ms + 5 ms > 10 ms + 4 ms threshold
		{13 * time.Millisecond, false}, // under the threshold
		{10 * time.Millisecond, false}, // flat
		{100 * time.Millisecond, true}, // far above
	} {
		s, c := hystartSender(t, 32)
		// Samples 5 ms apart: no ACK train, only the delay signal.
		if i := feed(s, c, 20, 5*time.Millisecond, 10*time.Millisecond); i != 20 {
			t.Fatalf("left slow start in the base round at sample %d", i)
		}
		nextRound(s)
		i := feed(s, c, 20, 5*time.Millisecond, tc.rtt)
		if got := i < 20; got != tc.exit {
			t.Errorf("rtt %v: exit %v after %d samples, want exit %v", tc.rtt, got, i, tc.exit)
			continue
		}
		if tc.exit {
			// The round's minimum is judged after 8 samples.
			if i != hystartMinSamples {
				t.Errorf("rtt %v: exit at sample %d, want %d", tc.rtt, i, hystartMinSamples)
			}
			if s.Ssthresh != s.Cwnd {
				t.Errorf("ssthresh %d, want cwnd %d", s.Ssthresh, s.Cwnd)
			}
		}
	}
}

func TestHyStartDelayNeedsWholeRound(t *testing.T) {
	// One high sample among low ones: the round's minimum stays low.
	s, c := hystartSender(t, 32)
	feed(s, c, 10, 5*time.Millisecond, 10*time.Millisecond)
	nextRound(s)
	feed(s, c, 1, 5*time.Millisecond, 10*time.Millisecond)
	if i := feed(s, c, 20, 5*time.Millisecond, 30*time.Millisecond); i != 20 {
		t.Errorf("exited on a round whose minimum RTT did not rise (sample %d)", i)
	}
}

func TestHyStartAckTrain(t *testing.T) {
	s, c := hystartSender(t, 32)
	// One sample to learn the 20 ms path delay, then a new round whose
	// ACKs arrive 1 ms apart: a train longer than delay_min/2 (plus the
	// 1 ms aggregation cushion) means the pipe is full.
	s.SRTT = 20 * time.Millisecond
	feed(s, c, 1, 5*time.Millisecond, 20*time.Millisecond)
	nextRound(s)
	s.Now += 5 * time.Millisecond
	s.SndUna++
	c.PktsAcked(s, 1, 20*time.Millisecond) // starts the round
	i := feed(s, c, 40, time.Millisecond, 20*time.Millisecond)
	// threshold (20 ms + 1 ms)/2 = 10.5 ms: exit on the 11th ACK (i = 10).
	if i != 10 {
		t.Errorf("ack train exit after %d samples, want 10", i)
	}
	if s.Ssthresh != 32 {
		t.Errorf("ssthresh %d, want 32", s.Ssthresh)
	}
}

func TestHyStartAckTrainBroken(t *testing.T) {
	// ACKs 3 ms apart are no train, however long the round.
	s, c := hystartSender(t, 32)
	feed(s, c, 1, 5*time.Millisecond, 20*time.Millisecond)
	nextRound(s)
	if i := feed(s, c, 40, 3*time.Millisecond, 20*time.Millisecond); i != 40 {
		t.Errorf("spaced ACKs ended slow start at sample %d", i)
	}
}

func TestHyStartLowWindow(t *testing.T) {
	s, c := hystartSender(t, hystartLowWindow-1)
	feed(s, c, 10, 5*time.Millisecond, 10*time.Millisecond)
	nextRound(s)
	if i := feed(s, c, 20, time.Millisecond, 100*time.Millisecond); i != 20 {
		t.Errorf("HyStart acted below hystart_low_window (sample %d)", i)
	}
}

func TestHyStartEndsSlowStartOnFullPipe(t *testing.T) {
	// End to end on the ack-clock model: ACKs come back spread over the
	// whole RTT, as from a saturated bottleneck, so once cwnd reaches
	// hystart_low_window the ACK train outlasts delay_min/2 and slow
	// start ends there instead of overshooting by doubling.
	m := newClock(t, "cubic", 10, 20*time.Millisecond)
	for range 10 {
		m.round()
		if !m.s.InSlowStart() {
			break
		}
	}
	if m.s.InSlowStart() || m.s.Ssthresh < hystartLowWindow || m.s.Ssthresh > 2*2*hystartLowWindow {
		t.Errorf("slow start did not end near the low window: cwnd %d ssthresh %d", m.s.Cwnd, m.s.Ssthresh)
	}
	t.Logf("HyStart exit at cwnd %d", m.s.Ssthresh)
}
