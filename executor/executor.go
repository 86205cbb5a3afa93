// Package executor provides the serialization queues that own namespaces,
// and their clocks and timers.
//
// All protocol code of a namespace runs on its Executor, one event at a
// time, to completion: it never blocks, never starts goroutines and never
// reads the wall clock; it asks the Executor for the time and for timers.
// Two executors implement one contract:
//
//   - Loop, real time: a goroutine that runs events posted to it and timers
//     as they expire. One Loop may own one namespace or a shard of them.
//   - Sim, simulation: one discrete-event scheduler for every namespace of
//     a simulated world, on a virtual clock. Events run in a total order,
//     (time, sequence number), so the same inputs and seed give the same
//     run, whatever GOMAXPROCS is.
package executor

import (
	"math/rand/v2"
	"time"
)

// Executor is the serialization queue of one namespace. Apart from Post,
// Kick and Do, its methods (and those of its Timers) may be called only
// from code running on it.
type Executor interface {
	// Name identifies the executor view (the namespace name).
	Name() string
	// Now returns the time since the executor's epoch.
	Now() time.Duration
	// Epoch is the wall-clock instant of Now() == 0 (fixed in simulation).
	Epoch() time.Time
	// NewTimer returns a disarmed timer that runs f on this executor.
	NewTimer(f func()) *Timer
	// InitTimer makes *t, which must not be armed, a disarmed timer that
	// runs f on this executor: NewTimer for a Timer embedded in a larger
	// structure (a TCP connection's timers), saving an allocation each.
	InitTimer(t *Timer, f func())
	// AfterFunc runs f on this executor after d.
	AfterFunc(d time.Duration, f func()) *Timer
	// Rand is the executor's random source: seeded from the world seed and
	// the name in simulation, so runs repeat.
	Rand() *rand.Rand
	// Post queues f to run on the executor. Safe from any goroutine.
	Post(f func())
	// Kick runs t's function on the executor as soon as possible, once
	// even if kicked several times before it runs (napi_schedule). Safe
	// from any goroutine, allocation-free.
	Kick(t *Timer)
	// Do runs f on the executor and returns when it has run. It must not
	// be called from code running on the executor itself.
	Do(f func())
}

// newRand returns the per-view random source.
func newRand(seed uint64, name string) *rand.Rand {
	h := uint64(14695981039346656037)
	for i := 0; i < len(name); i++ {
		h ^= uint64(name[i])
		h *= 1099511628211
	}
	return rand.New(rand.NewPCG(seed, h))
}
