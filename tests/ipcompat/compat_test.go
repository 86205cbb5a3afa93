package ipcompat

import "testing"

func TestScriptSize(t *testing.T) {
	steps := loadSteps(t)
	if len(steps) < 80 {
		t.Fatalf("script has %d commands, want at least 80", len(steps))
	}
	errs := 0
	for _, s := range steps {
		if s.Exit != 0 {
			errs++
		}
	}
	if errs < 10 {
		t.Errorf("script has only %d failing commands; errors are part of the contract", errs)
	}
}

func TestKernelCompat(t *testing.T) { RunScript(t, KernelTarget{}) }
