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

func TestNormalizeLifetimes(t *testing.T) {
	in := "       valid_lft 86399sec preferred_lft 0sec\n       valid_lft forever preferred_lft forever\n" +
		`{"valid_life_time":7199,"preferred_life_time":4294967295,"x":1}`
	want := "       valid_lft 86400sec preferred_lft 0sec\n       valid_lft forever preferred_lft forever\n" +
		`{"valid_life_time":7200,"preferred_life_time":4294967295,"x":1}`
	if got := roundLifetimes(in); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
