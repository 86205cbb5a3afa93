package cc

import (
	"testing"
	"time"
)

func benchCongAvoid(b *testing.B, name string) {
	alg, _ := New(name)
	s := &Sender{Cwnd: 1000, Ssthresh: 700, MSS: 1448, CwndLimited: true, Now: time.Second}
	alg.Init(s)
	alg.PktsAcked(s, 1, 10*time.Millisecond)
	s.Ssthresh = alg.SSThresh(s)
	s.Cwnd = s.Ssthresh
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		s.Now += 10 * time.Microsecond
		s.SndUna++
		alg.PktsAcked(s, 1, 10*time.Millisecond)
		alg.CongAvoid(s, s.SndUna, 1)
		if s.Cwnd > 100000 || i%1000000 == 0 { // stay in a realistic range
			s.Ssthresh = alg.SSThresh(s)
			s.Cwnd = s.Ssthresh
		}
	}
}

func BenchmarkCubicCongAvoid(b *testing.B) { benchCongAvoid(b, "cubic") }
func BenchmarkRenoCongAvoid(b *testing.B)  { benchCongAvoid(b, "reno") }

func TestCongAvoidAllocatesNothing(t *testing.T) {
	for _, n := range Names() {
		alg, _ := New(n)
		s := &Sender{Cwnd: 100, Ssthresh: 50, CwndLimited: true, MSS: 1448}
		alg.Init(s)
		if a := testing.AllocsPerRun(1000, func() {
			s.Now += time.Millisecond
			alg.PktsAcked(s, 1, 10*time.Millisecond)
			alg.CongAvoid(s, 0, 1)
		}); a != 0 {
			t.Errorf("%s: %v allocs per ACK", n, a)
		}
	}
}
