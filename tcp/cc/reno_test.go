package cc

import (
	"errors"
	"syscall"
	"testing"
	"time"
)

func TestNew(t *testing.T) {
	for _, n := range Names() {
		a, err := New(n)
		if err != nil || a.Name() != n {
			t.Errorf("New(%q) = %v, %v", n, a, err)
		}
	}
	if _, err := New(Default); err != nil {
		t.Errorf("default %q: %v", Default, err)
	}
	if _, err := New("vegas"); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("unknown algorithm: %v, want ENOENT", err)
	}
	a, _ := New("cubic")
	b, _ := New("cubic")
	if a == b {
		t.Error("New must return a fresh instance per connection")
	}
}

func TestSlowStartLeftover(t *testing.T) {
	s := &Sender{Cwnd: 8, Ssthresh: 10}
	if left := SlowStart(s, 5); left != 3 || s.Cwnd != 10 {
		t.Errorf("SlowStart: cwnd %d left %d, want 10 and 3", s.Cwnd, left)
	}
	s = &Sender{Cwnd: 8, Ssthresh: 100, CwndClamp: 9}
	SlowStart(s, 5)
	if s.Cwnd != 9 {
		t.Errorf("clamped cwnd %d, want 9", s.Cwnd)
	}
}

func TestCongAvoidAI(t *testing.T) {
	s := &Sender{Cwnd: 10, CwndCnt: 9}
	CongAvoidAI(s, 10, 1)
	if s.Cwnd != 11 || s.CwndCnt != 0 {
		t.Errorf("cwnd %d cnt %d, want 11 0", s.Cwnd, s.CwndCnt)
	}
	// A stretch ACK of 25 at w=10: two segments, five credits left.
	s = &Sender{Cwnd: 10}
	CongAvoidAI(s, 10, 25)
	if s.Cwnd != 12 || s.CwndCnt != 5 {
		t.Errorf("stretch: cwnd %d cnt %d, want 12 5", s.Cwnd, s.CwndCnt)
	}
	// Credit from a larger w is spent as one segment, not many.
	s = &Sender{Cwnd: 10, CwndCnt: 50}
	CongAvoidAI(s, 10, 1)
	if s.Cwnd != 11 || s.CwndCnt != 1 {
		t.Errorf("old credit: cwnd %d cnt %d, want 11 1", s.Cwnd, s.CwndCnt)
	}
	s = &Sender{Cwnd: 10, CwndCnt: 9, CwndClamp: 10}
	CongAvoidAI(s, 10, 1)
	if s.Cwnd != 10 {
		t.Errorf("clamp ignored: cwnd %d", s.Cwnd)
	}
}

func TestRenoSlowStartDoublesPerRTT(t *testing.T) {
	m := newClock(t, "reno", 10, 50*time.Millisecond)
	for _, want := range []uint32{20, 40, 80, 160} {
		m.round()
		if m.s.Cwnd != want {
			t.Fatalf("cwnd %d after a round, want %d", m.s.Cwnd, want)
		}
	}
	// Slow start stops exactly at ssthresh and continues linearly.
	m.s.Ssthresh = 200
	m.round()
	if m.s.Cwnd != 200 {
		t.Fatalf("cwnd %d, want ssthresh 200", m.s.Cwnd)
	}
}

func TestRenoHalvingAndLinearGrowth(t *testing.T) {
	m := newClock(t, "reno", 100, 100*time.Millisecond)
	m.s.Ssthresh = 100
	m.loss()
	if m.s.Ssthresh != 50 || m.s.Cwnd != 50 {
		t.Fatalf("after loss ssthresh %d cwnd %d, want 50 50", m.s.Ssthresh, m.s.Cwnd)
	}
	for i := 1; i <= 20; i++ {
		m.round()
		if want := uint32(50 + i); m.s.Cwnd != want {
			t.Fatalf("round %d: cwnd %d, want %d (one segment per RTT)", i, m.s.Cwnd, want)
		}
	}
	m.loss()
	if m.s.Cwnd != 35 {
		t.Fatalf("second halving: cwnd %d, want 35", m.s.Cwnd)
	}
	if u := m.alg.UndoCwnd(m.s); u != 70 {
		t.Errorf("undo %d, want the window before the loss, 70", u)
	}
	// ssthresh never goes below two segments.
	m.s.Cwnd = 3
	if th := m.alg.SSThresh(m.s); th != 2 {
		t.Errorf("ssthresh at cwnd 3: %d, want 2", th)
	}
}

func TestNotCwndLimitedDoesNotGrow(t *testing.T) {
	for _, n := range Names() {
		m := newClock(t, n, 10, 10*time.Millisecond)
		m.s.CwndLimited = false
		m.round()
		if m.s.Cwnd != 10 {
			t.Errorf("%s: application-limited sender grew to %d", n, m.s.Cwnd)
		}
	}
}
