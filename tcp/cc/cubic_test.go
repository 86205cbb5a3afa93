package cc

import (
	"math"
	"math/big"
	"testing"
	"time"
)

// Real-number CUBIC constants the integer code approximates.
const (
	betaF = float64(cubicBeta) / betaScale
	cF    = float64(cubeRTTScale) / 1024
)

// cubicW is RFC 9438's W(t) = C·(t−K)³ + Wmax, K = ∛(Wmax·(1−β)/C).
func cubicW(wmax, t float64) float64 {
	k := math.Cbrt(wmax * (1 - betaF) / cF)
	return cF*math.Pow(t-k, 3) + wmax
}

func TestCubeRoot(t *testing.T) {
	cube := func(x uint64) *big.Int {
		b := new(big.Int).SetUint64(x)
		return b.Mul(b, b).Mul(b, new(big.Int).SetUint64(x))
	}
	check := func(a uint64) {
		r := uint64(cubeRoot(a))
		ba := new(big.Int).SetUint64(a)
		if cube(r).Cmp(ba) > 0 || cube(r+1).Cmp(ba) <= 0 {
			t.Fatalf("cubeRoot(%d) = %d", a, r)
		}
	}
	for _, a := range []uint64{0, 1, 7, 8, 26, 27, 63, 64, 1000, 999_999, 1 << 40, 1<<63 - 1, math.MaxUint64} {
		check(a)
	}
	for a := uint64(0); a < 100000; a += 7 {
		check(a)
	}
	for x := uint64(1); x < 1<<21; x = x*3 + 1 {
		check(x*x*x - 1)
		check(x * x * x)
	}
}

func TestCubicSsthreshIsBetaWmax(t *testing.T) {
	a, _ := New("cubic")
	c := a.(*Cubic)
	s := &Sender{Cwnd: 100, Ssthresh: InfiniteSsthresh}
	c.Init(s)
	if th := c.SSThresh(s); th != 100*717/1024 || c.lastMaxCwnd != 100 {
		t.Errorf("ssthresh %d Wmax %d, want %d and 100", th, c.lastMaxCwnd, 100*717/1024)
	}
	s.Cwnd = 2
	if th := c.SSThresh(s); th != 2 {
		t.Errorf("ssthresh at cwnd 2: %d, want the floor 2", th)
	}
}

func TestCubicFastConvergence(t *testing.T) {
	c := new(Cubic)
	s := &Sender{Cwnd: 1000}
	c.Init(s)
	c.SSThresh(s)
	if c.lastMaxCwnd != 1000 {
		t.Fatalf("Wmax %d, want 1000", c.lastMaxCwnd)
	}
	// The next loss comes below the last maximum: another flow took
	// bandwidth, so Wmax drops further, to (1+β)/2 of cwnd.
	s.Cwnd = 800
	c.SSThresh(s)
	if want := uint32(800 * (1024 + 717) / 2048); c.lastMaxCwnd != want {
		t.Errorf("fast convergence Wmax %d, want %d", c.lastMaxCwnd, want)
	}
	// A loss above the last maximum records cwnd as is.
	s.Cwnd = 900
	c.SSThresh(s)
	if c.lastMaxCwnd != 900 {
		t.Errorf("Wmax %d, want 900", c.lastMaxCwnd)
	}
}

// TestCubicFollowsCurve checks that after a loss the window traces
// W(t): concave up to the old maximum at t = K, then convex beyond it.
func TestCubicFollowsCurve(t *testing.T) {
	const rtt = 100 * time.Millisecond
	m := newClock(t, "cubic", 1000, rtt)
	c := m.alg.(*Cubic)
	m.alg.PktsAcked(m.s, 1, rtt) // the path's delay, learnt before the loss
	m.loss()
	if m.s.Cwnd != 700 || c.lastMaxCwnd != 1000 {
		t.Fatalf("after loss cwnd %d Wmax %d", m.s.Cwnd, c.lastMaxCwnd)
	}
	start := m.s.Now
	k := math.Cbrt(1000 * (1 - betaF) / cF)
	for _, at := range []float64{0.5, 2, 4, 6, 8, k, 10, 11, 12, 13, 15} {
		m.runUntil(start + time.Duration(at*float64(time.Second)))
		el := (m.s.Now - start).Seconds()
		want := cubicW(1000, el)
		got := float64(m.s.Cwnd)
		t.Logf("t=%.2fs cwnd %d W(t) %.1f", el, m.s.Cwnd, want)
		if math.Abs(got-want) > 0.005*want {
			t.Errorf("t=%.2fs: cwnd %d, W(t) = %.1f", el, m.s.Cwnd, want)
		}
	}
}

// TestCubicFriendlyRegion: at a short RTT and a small window the cubic
// curve grows too slowly, and the emulated Reno window (growing
// 3(1−β)/(1+β) segments per RTT) sets the pace.
func TestCubicFriendlyRegion(t *testing.T) {
	const rtt = time.Millisecond
	m := newClock(t, "cubic", 100, rtt)
	m.alg.PktsAcked(m.s, 1, rtt)
	m.loss()
	start := m.s.Now
	for range 100 {
		m.round()
	}
	el := (m.s.Now - start).Seconds()
	curve := cubicW(100, el)
	reno := 70 + 100*3*(1-betaF)/(1+betaF)
	t.Logf("after %.3fs: cwnd %d, cubic %.1f, reno-friendly %.1f", el, m.s.Cwnd, curve, reno)
	if math.Abs(float64(m.s.Cwnd)-reno) > 4 {
		t.Errorf("cwnd %d, want the Reno-friendly %.1f (cubic alone: %.1f)", m.s.Cwnd, reno, curve)
	}
}

// TestCubicIdleShiftsEpoch: after an application-limited pause the epoch
// moves forward by the idle time, so the window does not jump up the
// curve for time it did not use.
func TestCubicIdleShiftsEpoch(t *testing.T) {
	const rtt = 100 * time.Millisecond
	run := func(idle time.Duration, txStart bool) (*ackClock, uint32) {
		m := newClock(t, "cubic", 1000, rtt)
		m.alg.PktsAcked(m.s, 1, rtt)
		m.loss()
		start := m.s.Now
		m.runUntil(start + 2*time.Second)
		epoch := m.alg.(*Cubic).epochStart
		m.s.Now += idle // nothing sent, nothing acked
		if txStart {
			m.alg.CwndEvent(m.s, EvTxStart)
		}
		shift := m.alg.(*Cubic).epochStart - epoch
		m.runUntil(m.s.Now + 2*time.Second)
		return m, shift
	}
	busy, _ := run(0, false)
	paused, shift := run(5*time.Second, true)
	if shift < 4990 || shift > 5000 {
		t.Errorf("epoch moved by %d jiffies, want about the 5000 idle", shift)
	}
	if d := int(paused.s.Cwnd) - int(busy.s.Cwnd); d < -10 || d > 10 {
		t.Errorf("after idle cwnd %d, a sender that never paused has %d", paused.s.Cwnd, busy.s.Cwnd)
	}
	jumped, _ := run(5*time.Second, false)
	if jumped.s.Cwnd < busy.s.Cwnd+30 {
		t.Errorf("control: without EvTxStart cwnd %d should run ahead of %d", jumped.s.Cwnd, busy.s.Cwnd)
	}
	t.Logf("cwnd busy %d, idle+TxStart %d, idle without event %d", busy.s.Cwnd, paused.s.Cwnd, jumped.s.Cwnd)

	// The shift never moves the epoch into the future.
	c := paused.alg.(*Cubic)
	paused.s.Now += time.Hour
	now := jiffies(paused.s.Now)
	c.lastAck, c.epochStart = now-10, now-5
	c.CwndEvent(paused.s, EvTxStart)
	if c.epochStart != now {
		t.Errorf("epoch %d beyond now %d", c.epochStart, now)
	}
}

func TestCubicLossStateResets(t *testing.T) {
	m := newClock(t, "cubic", 100, 10*time.Millisecond)
	c := m.alg.(*Cubic)
	m.alg.PktsAcked(m.s, 1, 10*time.Millisecond)
	m.loss()
	m.round()
	m.alg.SetState(m.s, Loss)
	if c.lastMaxCwnd != 0 || c.epochStart != 0 || c.delayMin != 0 {
		t.Errorf("Loss did not reset: Wmax %d epoch %d delayMin %d", c.lastMaxCwnd, c.epochStart, c.delayMin)
	}
	m.s.Cwnd = 1
	if u := m.alg.UndoCwnd(m.s); u != 100 {
		t.Errorf("undo %d, want 100", u)
	}
}
