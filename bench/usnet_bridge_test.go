package bench

import (
	"os"
	"testing"
)

// TestBridgeForwardRunners runs the usnet and gVisor bridge runners at
// smoke size (the full figures come from `go run ./cmd/bench` once the
// scenario is registered); with BRIDGE_BENCH_FULL=1 at full size.
func TestBridgeForwardRunners(t *testing.T) {
	env := &Env{Smoke: os.Getenv("BRIDGE_BENCH_FULL") == ""}
	for name, r := range map[string]Runner{"usnet": usnetBridgeForward, "gvisor": gvisorBridgeForward} {
		f, note, err := r(env)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Logf("%s: %.3g pkt/s (%s)", name, f["forward"], note)
	}
}
