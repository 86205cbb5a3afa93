package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"runtime/debug"
	"strings"
	"text/tabwriter"
	"time"
)

// Cell is one stack's outcome for one metric.
type Cell struct {
	Value  float64 `json:"value,omitempty"`
	Status string  `json:"status"` // ok, skip, n/a, error, none
	Reason string  `json:"reason,omitempty"`
}

// Row is one metric of one scenario across all stacks.
type Row struct {
	Scenario     string            `json:"scenario"`
	Metric       string            `json:"metric"`
	Unit         string            `json:"unit"`
	HigherBetter bool              `json:"higher_better"`
	Cells        map[Stack]Cell    `json:"cells"`
	Ratios       map[Stack]float64 `json:"ratios,omitempty"`
}

// Note is a runner's remark about its run (sizes used, caveats).
type Note struct {
	Scenario string  `json:"scenario"`
	Stack    Stack   `json:"stack"`
	Text     string  `json:"text"`
	Seconds  float64 `json:"seconds"`
}

// Report is the outcome of one run.
type Report struct {
	Smoke   bool      `json:"smoke"`
	Started time.Time `json:"started"`
	Rows    []Row     `json:"rows"`
	Notes   []Note    `json:"notes"`
}

// Run runs every scenario whose name matches only (nil for all) and
// returns the report. Progress goes to log.
func Run(env *Env, scenarios []Scenario, only *regexp.Regexp, log io.Writer) *Report {
	rep := &Report{Smoke: env.Smoke, Started: time.Now()}
	for _, sc := range scenarios {
		if only != nil && !only.MatchString(sc.Name) {
			continue
		}
		results := map[Stack]Figures{}
		status := map[Stack]Cell{}
		run := func(st Stack, r Runner) {
			fmt.Fprintf(log, "== %s / %s ...", sc.Name, st)
			t0 := time.Now()
			mark := env.mark()
			figs, note, err := safeRun(env, r)
			env.cleanupTo(mark)
			el := time.Since(t0).Seconds()
			switch reason, skip := IsSkip(err); {
			case skip:
				status[st] = Cell{Status: "skip", Reason: reason}
				fmt.Fprintf(log, " skipped: %s\n", reason)
			case err != nil:
				status[st] = Cell{Status: "error", Reason: err.Error()}
				fmt.Fprintf(log, " error: %v\n", err)
			default:
				results[st] = figs
				fmt.Fprintf(log, " %.1fs\n", el)
			}
			if note != "" {
				rep.Notes = append(rep.Notes, Note{Scenario: sc.Name, Stack: st, Text: note, Seconds: el})
			}
		}
		if sc.Usnet != nil {
			run(Usnet, sc.Usnet)
		} else {
			status[Usnet] = Cell{Status: "n/a", Reason: sc.UsnetNA}
		}
		for _, p := range Peers {
			if r, ok := sc.Peers[p]; ok {
				run(p, r)
			}
		}
		for _, m := range sc.Metrics {
			row := Row{Scenario: sc.Name, Metric: m.Name, Unit: m.Unit, HigherBetter: m.HigherBetter,
				Cells: map[Stack]Cell{}, Ratios: map[Stack]float64{}}
			for _, st := range append([]Stack{Usnet}, Peers...) {
				if c, ok := status[st]; ok {
					row.Cells[st] = c
					continue
				}
				if v, ok := results[st][m.Name]; ok {
					row.Cells[st] = Cell{Status: "ok", Value: v}
				} else {
					row.Cells[st] = Cell{Status: "none"}
				}
			}
			if u := row.Cells[Usnet]; u.Status == "ok" {
				for _, p := range Peers {
					if c := row.Cells[p]; c.Status == "ok" && c.Value != 0 {
						row.Ratios[p] = u.Value / c.Value
					}
				}
			}
			rep.Rows = append(rep.Rows, row)
		}
	}
	return rep
}

func safeRun(env *Env, r Runner) (f Figures, note string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	return r(env)
}

// WriteJSON writes the report as indented JSON to path.
func (r *Report) WriteJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// WriteTable prints the table, then the footnotes that explain every
// skip, n/a and error, then the runners' notes.
func (r *Report) WriteTable(w io.Writer) {
	var foot []string
	footIdx := map[string]int{}
	ref := func(kind, reason string) string {
		key := kind + ": " + reason
		i, ok := footIdx[key]
		if !ok {
			foot = append(foot, key)
			i = len(foot)
			footIdx[key] = i
		}
		return fmt.Sprintf("%s[%d]", kind, i)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	hdr := []string{"scenario", "metric", "unit", "better", string(Usnet)}
	for _, p := range Peers {
		hdr = append(hdr, string(p))
	}
	for _, p := range Peers {
		hdr = append(hdr, "usnet/"+string(p))
	}
	fmt.Fprintln(tw, strings.Join(hdr, "\t"))
	last := ""
	for _, row := range r.Rows {
		name := row.Scenario
		if name == last {
			name = ""
		}
		last = row.Scenario
		better := "lower"
		if row.HigherBetter {
			better = "higher"
		}
		f := []string{name, row.Metric, row.Unit, better}
		for _, st := range append([]Stack{Usnet}, Peers...) {
			c := row.Cells[st]
			switch c.Status {
			case "ok":
				f = append(f, FormatNum(c.Value))
			case "none", "":
				f = append(f, "-")
			default:
				f = append(f, ref(c.Status, c.Reason))
			}
		}
		for _, p := range Peers {
			if v, ok := row.Ratios[p]; ok {
				f = append(f, fmt.Sprintf("%.3gx", v))
			} else {
				f = append(f, "-")
			}
		}
		fmt.Fprintln(tw, strings.Join(f, "\t"))
	}
	tw.Flush()
	if len(foot) > 0 {
		fmt.Fprintln(w)
		for i, f := range foot {
			fmt.Fprintf(w, "[%d] %s\n", i+1, f)
		}
	}
	if len(r.Notes) > 0 {
		fmt.Fprintln(w, "\nnotes:")
		for _, n := range r.Notes {
			fmt.Fprintf(w, "  %s / %s (%.1fs): %s\n", n.Scenario, n.Stack, n.Seconds, n.Text)
		}
	}
}

// FormatNum prints v with about four significant digits and a k/M/G
// suffix for large values.
func FormatNum(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e9:
		return fmt.Sprintf("%.3gG", v/1e9)
	case a >= 1e6:
		return fmt.Sprintf("%.3gM", v/1e6)
	case a >= 1e4:
		return fmt.Sprintf("%.1fk", v/1e3)
	case a >= 100 || a == 0:
		return fmt.Sprintf("%.0f", v)
	case a >= 0.01:
		return fmt.Sprintf("%.3g", v)
	default:
		return fmt.Sprintf("%.2e", v)
	}
}
