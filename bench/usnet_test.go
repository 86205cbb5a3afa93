package bench

import (
	"testing"
	"time"
)

// The dumbbell delivers data over every path and the bottleneck holds the
// goodput under its 100 Mb/s.
func TestDumbbellSmall(t *testing.T) {
	r, err := runDumbbell(3, 300*time.Millisecond, 1)
	if err != nil {
		t.Fatal(err)
	}
	if r.Sim != 300*time.Millisecond {
		t.Fatalf("simulated %v", r.Sim)
	}
	goodput := float64(r.RxBytes) * 8 / r.Sim.Seconds()
	if goodput < 10e6 || goodput > dbNeckRate {
		t.Fatalf("bottleneck goodput %.1f Mb/s", goodput/1e6)
	}
	if _, err := runDumbbell(0, time.Second, 1); err == nil {
		t.Fatal("0 pairs accepted")
	}
}

// Every usnet runner runs in smoke mode and returns the metrics its
// scenario declares.
func TestUsnetRunnersSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	env, err := NewEnv(t.TempDir(), true)
	if err != nil {
		t.Fatal(err)
	}
	defer env.Cleanup()
	for _, sc := range Scenarios() {
		if sc.Usnet == nil {
			t.Errorf("%s: no usnet runner", sc.Name)
			continue
		}
		mark := env.mark()
		f, _, err := sc.Usnet(env)
		env.cleanupTo(mark)
		if err != nil {
			t.Errorf("%s: %v", sc.Name, err)
			continue
		}
		for _, m := range sc.Metrics {
			if _, ok := f[m.Name]; !ok {
				t.Errorf("%s: no %s figure", sc.Name, m.Name)
			}
		}
	}
}

// BenchmarkDumbbell10 runs the 10-pair dumbbell for one simulated second
// per op (for profiling: go test -bench Dumbbell -cpuprofile).
func BenchmarkDumbbell10(b *testing.B) {
	for range b.N {
		r, err := runDumbbell(10, time.Second, 1)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(r.Sim.Seconds()/r.Wall.Seconds(), "sim-s/wall-s")
	}
}
