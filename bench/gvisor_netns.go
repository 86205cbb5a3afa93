package bench

import (
	"fmt"
	"runtime"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip/link/loopback"
)

// gvisorNamespaces creates n gVisor stacks (IPv4, ARP, TCP, UDP), each
// with an enabled loopback NIC: gVisor's unit of isolation, the nearest
// thing it has to a network namespace.
func gvisorNamespaces(n int) Runner {
	return func(env *Env) (Figures, string, error) {
		n := Pick(env, n, 100)
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		t0 := time.Now()
		for i := range n {
			s, err := gvNewStack()
			if err != nil {
				return nil, "", err
			}
			defer func() { s.Close(); s.Wait() }()
			if err := s.CreateNIC(1, loopback.New()); err != nil {
				return nil, "", fmt.Errorf("stack %d: CreateNIC: %v", i, err)
			}
		}
		el := time.Since(t0)
		runtime.GC()
		runtime.ReadMemStats(&m1)
		return Figures{"rate": float64(n) / el.Seconds(), "memory": float64(m1.HeapAlloc-m0.HeapAlloc) / float64(n)},
			fmt.Sprintf("%d stack.New + loopback NIC; memory = Go heap growth per stack", n), nil
	}
}
