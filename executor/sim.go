package executor

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// SimEpoch is the wall-clock time that virtual time 0 maps to in captures:
// fixed, so that capture files repeat byte for byte.
var SimEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Sim is a discrete-event scheduler shared by every namespace of a
// simulated world. It is driven by one goroutine (the one calling Run*);
// all executor code runs on that goroutine. Post and Kick from other
// goroutines are accepted while the simulation is stopped and are ordered
// by arrival, but a deterministic program makes every call from the driving
// goroutine.
type Sim struct {
	seed  uint64
	clock time.Duration
	heap  timerHeap

	mu    sync.Mutex
	inbox []*Timer // kicked timers and posted functions, in call order
	// kicked says inbox may be non-empty, so that a step with nothing
	// kicked (most of them) takes no lock; spare is the drained inbox's
	// array, reused by the next one.
	kicked atomic.Bool
	spare  []*Timer

	events uint64
}

// NewSim returns a scheduler at virtual time 0.
func NewSim(seed uint64) *Sim { return &Sim{seed: seed} }

// Seed returns the world seed.
func (s *Sim) Seed() uint64 { return s.seed }

// Now returns the virtual time.
func (s *Sim) Now() time.Duration { return s.clock }

// Events returns the number of events run so far.
func (s *Sim) Events() uint64 { return s.events }

// Executor returns a new executor view named name (a namespace's), with a
// random source derived from the seed and the name.
func (s *Sim) Executor(name string) Executor {
	return &simExec{s: s, name: name, rnd: newRand(s.seed, name)}
}

func (s *Sim) now() time.Duration { return s.clock }
func (s *Sim) arm(t *Timer)       { s.heap.push(t) }
func (s *Sim) disarm(t *Timer)    { s.heap.remove(t) }

// drain moves kicked timers into the heap at the current time, in order.
func (s *Sim) drain() {
	if !s.kicked.Load() {
		return
	}
	s.mu.Lock()
	in := s.inbox
	s.inbox = s.spare[:0]
	s.kicked.Store(false)
	s.mu.Unlock()
	for _, t := range in {
		t.kicked = false
		if t.idx >= 0 {
			s.heap.remove(t)
		}
		t.when = s.clock
		s.heap.push(t)
	}
	clear(in)
	s.spare = in
}

// Step runs the next event, advancing virtual time to it, and reports
// whether there was one.
func (s *Sim) Step() bool {
	s.drain()
	t := s.heap.peek()
	if t == nil {
		return false
	}
	s.heap.pop()
	s.clock = t.when
	s.events++
	t.f()
	return true
}

// RunUntil runs events up to and including virtual time end, then sets the
// clock to end.
func (s *Sim) RunUntil(end time.Duration) {
	for {
		s.drain()
		t := s.heap.peek()
		if t == nil || t.when > end {
			break
		}
		s.Step()
	}
	if s.clock < end {
		s.clock = end
	}
}

// RunFor runs the simulation for d of virtual time.
func (s *Sim) RunFor(d time.Duration) { s.RunUntil(s.clock + d) }

// RunWhile runs events while cond holds and events remain, and reports
// whether cond still holds (false: it was met).
func (s *Sim) RunWhile(cond func() bool) bool {
	for cond() {
		if !s.Step() {
			return cond()
		}
	}
	return false
}

type simExec struct {
	s    *Sim
	name string
	rnd  *rand.Rand
}

func (e *simExec) Name() string       { return e.name }
func (e *simExec) Now() time.Duration { return e.s.clock }
func (e *simExec) Epoch() time.Time   { return SimEpoch }
func (e *simExec) Rand() *rand.Rand   { return e.rnd }

func (e *simExec) NewTimer(f func()) *Timer { return &Timer{idx: -1, f: f, q: e.s} }

func (e *simExec) InitTimer(t *Timer, f func()) { *t = Timer{idx: -1, f: f, q: e.s} }

func (e *simExec) AfterFunc(d time.Duration, f func()) *Timer {
	t := e.NewTimer(f)
	t.Reset(d)
	return t
}

func (e *simExec) Post(f func()) { e.Kick(e.NewTimer(f)) }

func (e *simExec) Kick(t *Timer) {
	s := e.s
	s.mu.Lock()
	if !t.kicked {
		t.kicked = true
		s.inbox = append(s.inbox, t)
		s.kicked.Store(true)
	}
	s.mu.Unlock()
}

// Do runs f at once: in simulation the caller is the driving goroutine.
func (e *simExec) Do(f func()) { f() }
