package executor

import (
	"testing"
	"time"
)

// BenchmarkSimTimerInsertFire: arm one timer among 10,000 pending and run
// it: the cost of one event in the discrete-event scheduler.
func BenchmarkSimTimerInsertFire(b *testing.B) {
	s := NewSim(1)
	e := s.Executor("x")
	for i := range 10000 {
		e.AfterFunc(time.Hour+time.Duration(i), func() {})
	}
	t := e.NewTimer(func() {})
	b.ReportAllocs()
	for b.Loop() {
		t.Reset(time.Microsecond)
		s.Step()
	}
}

// BenchmarkSimTimerReset: re-arming a pending timer (TCP's retransmit timer
// on every ACK) with 10,000 others pending.
func BenchmarkSimTimerReset(b *testing.B) {
	s := NewSim(1)
	e := s.Executor("x")
	for i := range 10000 {
		e.AfterFunc(time.Duration(i)*time.Microsecond, func() {})
	}
	t := e.NewTimer(func() {})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		t.Reset(time.Duration(i%10000) * time.Microsecond)
	}
}

// BenchmarkSimKick: the cross-namespace wake-up used by veth (napi_schedule).
func BenchmarkSimKick(b *testing.B) {
	s := NewSim(1)
	e := s.Executor("x")
	t := e.NewTimer(func() {})
	b.ReportAllocs()
	for b.Loop() {
		e.Kick(t)
		s.Step()
	}
}

// BenchmarkLoopKick: a kick from another goroutine into a real-time loop.
func BenchmarkLoopKick(b *testing.B) {
	l := NewLoop("x")
	defer l.Close()
	t := l.NewTimer(func() {})
	b.ReportAllocs()
	for b.Loop() {
		l.Kick(t)
	}
}

// BenchmarkLoopDo: a synchronous call into a real-time loop from another
// goroutine, what every socket operation costs.
func BenchmarkLoopDo(b *testing.B) {
	l := NewLoop("x")
	defer l.Close()
	n := 0
	f := func() { n++ }
	b.ReportAllocs()
	for b.Loop() {
		l.Do(f)
	}
}
