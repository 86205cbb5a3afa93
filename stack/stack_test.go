package stack_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/stack"
)

func TestNewNamespaceHasLoopbackDown(t *testing.T) {
	s, err := stack.NewSim(1)
	if err != nil {
		t.Fatal(err)
	}
	ns, err := s.Add("blue")
	if err != nil {
		t.Fatal(err)
	}
	lo := ns.Dev.ByIndex(1)
	if lo == nil || lo.Name() != "lo" || lo.IsUp() || lo.OperState() != netdev.OperDown {
		t.Fatalf("lo = %v up=%v oper=%v", lo, lo != nil && lo.IsUp(), lo.OperState())
	}
	if lo.MTU() != 65536 || lo.Flags()&netdev.FlagLoopback == 0 {
		t.Fatalf("lo mtu %d flags %#x", lo.MTU(), lo.Flags())
	}
	lo.Up()
	if lo.OperState() != netdev.OperUnknown || !lo.IsRunning() {
		t.Fatalf("lo up: oper %v running %v (Linux: UNKNOWN, LOWER_UP)", lo.OperState(), lo.IsRunning())
	}
	if got := len(s.List()); got != 2 {
		t.Fatalf("%d namespaces, want default + blue", got)
	}
	if _, err := s.Add("blue"); err == nil {
		t.Fatal("duplicate namespace accepted")
	}
}

func TestDeleteTearsDownDevices(t *testing.T) {
	s, _ := stack.NewSim(1)
	ns, _ := s.Add("x")
	var events []string
	ns.Dev.Subscribe(func(ev netdev.Event, d *netdev.Device) { events = append(events, ev.String()+" "+d.Name()) })
	ns.Lo.Up()
	s.Delete("x")
	want := "[UP lo GOING_DOWN lo DOWN lo UNREGISTER lo]"
	if fmt.Sprint(events) != want {
		t.Fatalf("events %v, want %s", events, want)
	}
}

func TestRealtimeNamespacesAreIndependent(t *testing.T) {
	s, err := stack.NewRealtime()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if _, err := s.Add(fmt.Sprintf("n%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	for _, ns := range s.List() {
		ns.Exec().Do(func() { ns.Lo.Up() })
	}
	for i := range 20 {
		if err := s.Delete(fmt.Sprintf("n%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if len(s.List()) != 1 {
		t.Fatalf("%d namespaces left", len(s.List()))
	}
}

// BenchmarkNamespaceCreate creates namespaces with lo up in one
// simulation and reports the memory each costs.
func BenchmarkNamespaceCreate(b *testing.B) {
	s, _ := stack.NewSim(1)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	i := 0
	start := time.Now()
	for b.Loop() {
		ns, err := s.Add(fmt.Sprintf("ns%d", i))
		if err != nil {
			b.Fatal(err)
		}
		ns.Lo.Up()
		i++
	}
	el := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(i), "B/netns")
	b.ReportMetric(float64(i)/el.Seconds(), "netns/s")
	runtime.KeepAlive(s)
}
