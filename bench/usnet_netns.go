package bench

import (
	"fmt"
	"runtime"
	"time"

	"github.com/usnet/usnet/stack"
)

// usnetNamespaces creates n usnet namespaces with lo up on one simulated
// stack and charges the heap growth to them.
func usnetNamespaces(n int) Runner {
	return func(env *Env) (Figures, string, error) {
		n := Pick(env, n, 100)
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		s, err := stack.NewSim(1)
		if err != nil {
			return nil, "", err
		}
		t0 := time.Now()
		for i := range n {
			ns, err := s.Add(fmt.Sprintf("ns%d", i))
			if err != nil {
				return nil, "", err
			}
			if err := ns.Lo.Up(); err != nil {
				return nil, "", err
			}
		}
		el := time.Since(t0)
		runtime.GC()
		runtime.ReadMemStats(&m1)
		runtime.KeepAlive(s)
		return Figures{"rate": float64(n) / el.Seconds(), "memory": float64(m1.HeapAlloc-m0.HeapAlloc) / float64(n)},
			fmt.Sprintf("%d namespaces on stack.NewSim; memory = Go heap growth per namespace", n), nil
	}
}
