package executor

import (
	"crypto/rand"
	"encoding/binary"
	mrand "math/rand/v2"
	"sync"
	"time"
)

// Loop is a real-time executor: one goroutine that runs posted functions,
// kicked timers and expired timers, in that order each round. It is one of
// the few places in usnet that reads the wall clock.
type Loop struct {
	name  string
	start time.Time
	epoch time.Time
	rnd   *mrand.Rand
	heap  timerHeap
	// cur is the time of the running event, read from the clock when
	// the event first asks (curSet): Now and the timers armed by the
	// event use it instead of reading the clock each time (tens of
	// nanoseconds a read here, and TCP asks several times per segment),
	// as Linux's TCP reads one clock per event (tcp_mstamp); an event
	// that never asks, as most socket calls, reads no clock at all.
	cur    time.Duration
	curSet bool

	calls sync.Pool // of *call, for Do

	mu     sync.Mutex
	inbox  []*Timer
	wake   chan struct{}
	done   chan struct{}
	closed bool
}

// NewLoop starts a real-time executor named name.
func NewLoop(name string) *Loop {
	var seed [8]byte
	_, _ = rand.Read(seed[:])
	now := time.Now()
	l := &Loop{
		name:  name,
		start: now,
		epoch: now,
		rnd:   newRand(binary.LittleEndian.Uint64(seed[:]), name),
		wake:  make(chan struct{}, 1),
		done:  make(chan struct{}),
	}
	go l.run()
	return l
}

// Close stops the loop after the events already queued; timers still armed
// never fire. It waits until the loop goroutine has exited.
func (l *Loop) Close() {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		<-l.done
		return
	}
	l.closed = true
	l.mu.Unlock()
	l.signal()
	<-l.done
}

func (l *Loop) Name() string       { return l.name }
func (l *Loop) Now() time.Duration { return l.now() }
func (l *Loop) Epoch() time.Time   { return l.epoch }
func (l *Loop) Rand() *mrand.Rand  { return l.rnd }

func (l *Loop) now() time.Duration {
	if !l.curSet {
		l.cur, l.curSet = l.clock(), true
	}
	return l.cur
}

func (l *Loop) clock() time.Duration { return time.Since(l.start) }
func (l *Loop) arm(t *Timer)         { l.heap.push(t) }
func (l *Loop) disarm(t *Timer)      { l.heap.remove(t) }

func (l *Loop) NewTimer(f func()) *Timer { return &Timer{idx: -1, f: f, q: l} }

func (l *Loop) InitTimer(t *Timer, f func()) { *t = Timer{idx: -1, f: f, q: l} }

func (l *Loop) AfterFunc(d time.Duration, f func()) *Timer {
	t := l.NewTimer(f)
	t.Reset(d)
	return t
}

func (l *Loop) Post(f func()) { l.Kick(l.NewTimer(f)) }

func (l *Loop) Kick(t *Timer) {
	l.mu.Lock()
	if t.kicked || l.closed {
		l.mu.Unlock()
		return
	}
	t.kicked = true
	first := len(l.inbox) == 0
	l.inbox = append(l.inbox, t)
	l.mu.Unlock()
	if first {
		l.signal()
	}
}

// Do runs f on the loop and waits for it. On a closed loop f does not
// run, and Do returns once the loop goroutine has exited: a function
// posted before Close always runs before the loop exits, so waiting for
// the exit (not just checking the flag) guarantees f is not still
// running when Do returns.
func (l *Loop) Do(f func()) {
	c, _ := l.calls.Get().(*call)
	if c == nil {
		c = &call{done: make(chan struct{}, 1)}
		c.t = Timer{idx: -1, f: c.run, q: l}
	}
	c.f = f
	l.Kick(&c.t)
	select {
	case <-c.done:
		c.f = nil
		l.calls.Put(c)
	case <-l.done:
		// The loop exited: f ran (its signal is left in done) or never
		// will. Either way the call is not reused.
	}
}

// call is one Do in flight, pooled so that a synchronous call allocates
// nothing: socket operations make one per read or write.
type call struct {
	t    Timer
	f    func()
	done chan struct{}
}

func (c *call) run() {
	c.f()
	c.done <- struct{}{}
}

func (l *Loop) signal() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (l *Loop) run() {
	defer close(l.done)
	var spare []*Timer
	idle := time.NewTimer(time.Hour)
	defer idle.Stop()
	idleAt := time.Hour // when idle fires, on the clock's scale; -1 once it has
	for {
		l.mu.Lock()
		in := l.inbox
		l.inbox = spare[:0]
		closed := l.closed
		l.mu.Unlock()
		for i, t := range in {
			l.mu.Lock()
			t.kicked = false
			l.mu.Unlock()
			if t.idx >= 0 {
				l.heap.remove(t)
			}
			l.curSet = false
			t.f()
			in[i] = nil
		}
		spare = in
		now := time.Duration(-1) // the clock, when read since the events ran
		if l.heap.peek() != nil {
			now = l.clock()
			fired := false
			for t := l.heap.peek(); t != nil && t.when <= now; t = l.heap.peek() {
				l.heap.pop()
				l.cur, l.curSet = now, true
				t.f()
				fired = true
			}
			if fired {
				now = -1 // the timers took time: read the clock again to sleep
			}
		}
		if closed {
			return
		}
		l.mu.Lock()
		pending := len(l.inbox) > 0
		l.mu.Unlock()
		if pending {
			continue
		}
		if now < 0 {
			now = l.clock()
		}
		wake := now + time.Hour
		if t := l.heap.peek(); t != nil {
			if t.when <= now {
				continue
			}
			wake = t.when
		}
		// The idle timer is moved only when it would fire too late: one
		// that fires early (the timer it was set for was stopped) costs a
		// spurious round, a Reset on every sleep costs more.
		if idleAt < 0 || wake < idleAt {
			idle.Reset(wake - now)
			idleAt = wake
		}
		select {
		case <-l.wake:
		case <-idle.C:
			idleAt = -1
		}
	}
}
