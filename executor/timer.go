package executor

import "time"

// Timer runs a function on its executor at a set time. Its methods must be
// called on the executor that owns it. A Timer is reusable: protocol code
// embeds one per purpose (retransmit, delayed ACK...) and re-arms it, which
// allocates nothing.
type Timer struct {
	when time.Duration
	seq  uint64
	idx  int // position in the heap, -1 when not queued
	f    func()
	q    queue
	// kicked is set while the timer sits in a cross-goroutine inbox.
	kicked bool
}

// queue is what owns armed timers: a Sim or a Loop.
type queue interface {
	now() time.Duration
	arm(t *Timer)
	disarm(t *Timer)
}

// Reset arms the timer to fire d from now, replacing any earlier setting.
// It reports whether the timer was pending.
func (t *Timer) Reset(d time.Duration) bool {
	was := t.disarmIfPending()
	if d < 0 {
		d = 0
	}
	t.when = t.q.now() + d
	t.q.arm(t)
	return was
}

// ResetAt arms the timer for the absolute executor time at.
func (t *Timer) ResetAt(at time.Duration) bool {
	was := t.disarmIfPending()
	t.when = max(at, t.q.now())
	t.q.arm(t)
	return was
}

// Stop disarms the timer; it reports whether it was pending.
func (t *Timer) Stop() bool { return t.disarmIfPending() }

// Pending reports whether the timer is armed.
func (t *Timer) Pending() bool { return t.idx >= 0 }

// When returns the time the timer fires (meaningful while Pending).
func (t *Timer) When() time.Duration { return t.when }

func (t *Timer) disarmIfPending() bool {
	if t.idx < 0 {
		return false
	}
	t.q.disarm(t)
	return true
}

// timerHeap is a binary min-heap ordered by (when, seq): seq is a counter
// assigned when a timer is armed, the deterministic tie-break.
type timerHeap struct {
	ts  []*Timer
	seq uint64
}

func (h *timerHeap) less(i, j int) bool {
	a, b := h.ts[i], h.ts[j]
	return a.when < b.when || (a.when == b.when && a.seq < b.seq)
}

func (h *timerHeap) swap(i, j int) {
	h.ts[i], h.ts[j] = h.ts[j], h.ts[i]
	h.ts[i].idx = i
	h.ts[j].idx = j
}

func (h *timerHeap) push(t *Timer) {
	h.seq++
	t.seq = h.seq
	t.idx = len(h.ts)
	h.ts = append(h.ts, t)
	h.up(t.idx)
}

func (h *timerHeap) remove(t *Timer) {
	i := t.idx
	last := len(h.ts) - 1
	if i != last {
		h.swap(i, last)
	}
	h.ts[last] = nil
	h.ts = h.ts[:last]
	t.idx = -1
	if i != last {
		h.down(i)
		h.up(i)
	}
}

func (h *timerHeap) peek() *Timer {
	if len(h.ts) == 0 {
		return nil
	}
	return h.ts[0]
}

func (h *timerHeap) pop() *Timer {
	t := h.ts[0]
	h.remove(t)
	return t
}

func (h *timerHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			return
		}
		h.swap(i, p)
		i = p
	}
}

func (h *timerHeap) down(i int) {
	n := len(h.ts)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h.less(r, l) {
			m = r
		}
		if !h.less(m, i) {
			return
		}
		h.swap(i, m)
		i = m
	}
}
