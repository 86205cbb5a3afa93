package bench

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"
)

func TestRunTableRatiosAndFootnotes(t *testing.T) {
	env, err := NewEnv(t.TempDir(), true)
	if err != nil {
		t.Fatal(err)
	}
	defer env.Cleanup()
	cleaned := 0
	scs := []Scenario{
		{Name: "x", Metrics: []Metric{{"rate", "op/s", true}},
			Usnet: func(e *Env) (Figures, string, error) {
				e.Defer(func() { cleaned++ })
				return Figures{"rate": 200}, "note", nil
			},
			Peers: map[Stack]Runner{
				GVisor: func(*Env) (Figures, string, error) { return Figures{"rate": 100}, "", nil },
				Kernel: skipRunner("no kernel here"),
				NS3:    func(*Env) (Figures, string, error) { return nil, "", errors.New("boom") },
			}},
		{Name: "y", Metrics: []Metric{{"lat", "µs", false}}, UsnetNA: "not yet",
			Peers: map[Stack]Runner{GVisor: func(*Env) (Figures, string, error) { panic("oops") }}},
		{Name: "z", Metrics: mRR},
	}
	var log bytes.Buffer
	rep := Run(env, scs, regexp.MustCompile("^[xy]$"), &log)
	if cleaned != 1 {
		t.Fatalf("runner cleanup ran %d times before Run returned", cleaned)
	}
	if len(rep.Rows) != 2 {
		t.Fatalf("rows %d", len(rep.Rows))
	}
	if r := rep.Rows[0].Ratios[GVisor]; r != 2 {
		t.Fatalf("ratio %v", r)
	}
	if c := rep.Rows[0].Cells[Kernel]; c.Status != "skip" || c.Reason != "no kernel here" {
		t.Fatalf("kernel cell %+v", c)
	}
	if c := rep.Rows[1].Cells[GVisor]; c.Status != "error" || !strings.Contains(c.Reason, "oops") {
		t.Fatalf("panic cell %+v", c)
	}
	var out bytes.Buffer
	rep.WriteTable(&out)
	for _, want := range []string{"2x", "skip[1]", "n/a[", "error[", "no kernel here", "not yet", "note"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}

func TestFormatNum(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 1.5: "1.5", 123.4: "123", 12345: "12.3k", 2.5e6: "2.5M", 3e9: "3G", 0.001: "1.00e-03"} {
		if got := FormatNum(v); got != want {
			t.Errorf("FormatNum(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestRegistryComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range Scenarios() {
		if seen[s.Name] {
			t.Errorf("duplicate scenario %s", s.Name)
		}
		seen[s.Name] = true
		if (s.Usnet == nil) == (s.UsnetNA == "") {
			t.Errorf("%s: exactly one of Usnet and UsnetNA must be set", s.Name)
		}
		if len(s.Metrics) == 0 || len(s.Peers) == 0 {
			t.Errorf("%s: no metrics or peers", s.Name)
		}
	}
}
