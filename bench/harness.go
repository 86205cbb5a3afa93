// Package bench is usnet's comparison benchmark suite: it runs each
// scenario against usnet and its peers (gVisor netstack, the Linux kernel in
// network namespaces, ns-3) side by side on one machine in one run and
// reports usnet's figure as a ratio of each peer's. Every claim about
// usnet's speed is meant to come from this table, never from a figure
// measured alone.
package bench

import (
	"errors"
	"fmt"
	"os"
	"sync"
)

// Stack names one column of the table.
type Stack string

// The stacks compared. Usnet is always the first column; the others are
// peers.
const (
	Usnet  Stack = "usnet"
	GVisor Stack = "gvisor"
	Kernel Stack = "kernel"
	NS3    Stack = "ns-3"
)

// Peers lists the peer columns in table order.
var Peers = []Stack{GVisor, Kernel, NS3}

// Metric is one row of a scenario: what is measured, in which unit, and
// which direction is better (the ratio usnet/peer is printed as is, so a
// reader needs the direction to read it).
type Metric struct {
	Name         string
	Unit         string
	HigherBetter bool
}

// Figures maps a metric name to its value.
type Figures map[string]float64

// Runner measures one scenario on one stack. It returns one figure per
// metric it could measure (missing metrics print as "-"), and a note that
// is printed under the table (e.g. the size it actually used).
type Runner func(env *Env) (Figures, string, error)

// Scenario is one comparison: a set of metrics measured on usnet and its
// peers. A nil Usnet runner means usnet cannot run it yet; UsnetNA then
// says why, and adding usnet is writing that one function.
type Scenario struct {
	Name    string
	Metrics []Metric
	Usnet   Runner
	UsnetNA string
	Peers   map[Stack]Runner
}

// Env is what a runner gets: the run's size and the place to register
// cleanups (namespaces, processes) that must run even if the run is
// interrupted.
type Env struct {
	Smoke bool
	// Dir is the bench module's root (for building helper programs).
	Dir string
	// Tmp is a scratch directory removed at exit.
	Tmp string

	mu       sync.Mutex
	cleanups []func()
	built    map[string]string
	nsSeq    int
}

// NewEnv returns an Env with a fresh scratch directory.
func NewEnv(dir string, smoke bool) (*Env, error) {
	tmp, err := os.MkdirTemp("", "usnet-bench-")
	if err != nil {
		return nil, err
	}
	e := &Env{Smoke: smoke, Dir: dir, Tmp: tmp, built: map[string]string{}}
	e.Defer(func() { os.RemoveAll(tmp) })
	return e, nil
}

// Defer registers f to run at Cleanup, last registered first.
func (e *Env) Defer(f func()) {
	e.mu.Lock()
	e.cleanups = append(e.cleanups, f)
	e.mu.Unlock()
}

// mark returns the current depth of the cleanup stack.
func (e *Env) mark() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.cleanups)
}

// cleanupTo runs the cleanups registered since mark, so each runner's
// namespaces and processes are gone before the next runner starts.
func (e *Env) cleanupTo(mark int) {
	for {
		e.mu.Lock()
		n := len(e.cleanups)
		if n <= mark {
			e.mu.Unlock()
			return
		}
		f := e.cleanups[n-1]
		e.cleanups = e.cleanups[:n-1]
		e.mu.Unlock()
		f()
	}
}

// Cleanup runs every registered cleanup once. It is safe to call from a
// signal handler goroutine and again at normal exit.
func (e *Env) Cleanup() { e.cleanupTo(0) }

// Pick returns smoke if this is a smoke run, else full.
func Pick[T any](e *Env, full, smoke T) T {
	if e.Smoke {
		return smoke
	}
	return full
}

// SkipError marks a runner that could not run here (not root, tool
// missing); the table shows its reason instead of a figure.
type SkipError struct{ Reason string }

func (s *SkipError) Error() string { return "skip: " + s.Reason }

// Skip returns a SkipError with a formatted reason.
func Skip(format string, a ...any) error { return &SkipError{Reason: fmt.Sprintf(format, a...)} }

// IsSkip reports whether err is a skip, and its reason.
func IsSkip(err error) (string, bool) {
	var s *SkipError
	if errors.As(err, &s) {
		return s.Reason, true
	}
	return "", false
}
