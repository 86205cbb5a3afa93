// Package netns holds network namespaces (Linux's struct net) and the
// World, the set of namespaces one usnet process hosts.
//
// A Net is deliberately small: a name, an id, the executor that owns it,
// the packet-buffer pool, the ids it gives its peers (ids.go), and an
// ordered list of exit hooks that the layers
// attached to it (devices, IPv4, sockets...) register when they initialise,
// as pernet_operations do. Deleting a namespace runs those hooks in reverse
// order on the namespace's executor. The layers keep their per-namespace
// state themselves; package stack wires them together.
package netns

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/usnet/usnet/executor"
	"github.com/usnet/usnet/skb"
)

// DefaultName is the name of the namespace every World starts with (the
// init_net of a usnet process).
const DefaultName = "default"

// Net is one network namespace.
type Net struct {
	name  string
	id    uint32
	exec  executor.Executor
	pool  *skb.Pool
	world *World

	exits []func() // run in reverse order at deletion; executor only
	dead  bool

	ids   peerIDs     // ids this namespace gives its peers (ids.go)
	dying atomic.Bool // deletion started: no new peer ids

	genMu   sync.Mutex
	generic map[any]any // per-namespace state of optional modules
}

// Generic returns the state a module stored for this namespace under key
// (Linux's net_generic), nil if none. Keys are values of a type private to
// the module, so modules cannot collide.
func (n *Net) Generic(key any) any {
	n.genMu.Lock()
	defer n.genMu.Unlock()
	return n.generic[key]
}

// SetGeneric stores a module's state for this namespace, or removes it
// when v is nil. The namespace's deletion drops it with the namespace.
func (n *Net) SetGeneric(key, v any) {
	n.genMu.Lock()
	defer n.genMu.Unlock()
	if v == nil {
		delete(n.generic, key)
		return
	}
	if n.generic == nil {
		n.generic = map[any]any{}
	}
	n.generic[key] = v
}

// Name returns the namespace name.
func (n *Net) Name() string { return n.name }

// ID returns the namespace's process-unique number, the role of its
// inode on Linux: what usnet accepts where Linux wants a process or a
// file descriptor naming a namespace. Peer ids (nsids) are another
// thing, local to each namespace: see PeerID.
func (n *Net) ID() uint32 { return n.id }

// Exec returns the executor that owns the namespace.
func (n *Net) Exec() executor.Executor { return n.exec }

// Pool returns the packet-buffer pool.
func (n *Net) Pool() *skb.Pool { return n.pool }

// World returns the world the namespace belongs to.
func (n *Net) World() *World { return n.world }

// Dead reports whether the namespace was deleted.
func (n *Net) Dead() bool { return n.dead }

// OnExit registers f to run when the namespace is deleted, after every hook
// registered later. Call it on the namespace's executor.
func (n *Net) OnExit(f func()) { n.exits = append(n.exits, f) }

// World is the registry of namespaces of one usnet process or simulation.
// Its methods are safe for concurrent use.
type World struct {
	pool    *skb.Pool
	newExec func(name string) executor.Executor
	init    []func(*Net) error

	mu     sync.Mutex
	byName map[string]*Net
	nextID uint32

	idMu   sync.Mutex
	idSubs []idSub // subscribers of peer id changes
	idSeq  uint64
}

// Config builds a World.
type Config struct {
	// Pool is the packet-buffer pool shared by all namespaces; a new one
	// when nil.
	Pool *skb.Pool
	// NewExecutor returns the executor for a new namespace: a view of one
	// Sim in simulation, a Loop (or a shard's Loop) in real time.
	NewExecutor func(name string) executor.Executor
	// Init functions set up each new namespace's layers, in order, on its
	// executor (devices first, then protocols).
	Init []func(*Net) error
}

// NewWorld returns a world holding only the default namespace.
func NewWorld(c Config) (*World, error) {
	if c.NewExecutor == nil {
		return nil, errors.New("netns: Config.NewExecutor is required")
	}
	w := &World{pool: c.Pool, newExec: c.NewExecutor, init: c.Init, byName: map[string]*Net{}}
	if w.pool == nil {
		w.pool = skb.NewPool()
	}
	if _, err := w.Create(DefaultName); err != nil {
		return nil, err
	}
	return w, nil
}

// Pool returns the world's packet-buffer pool.
func (w *World) Pool() *skb.Pool { return w.pool }

// ValidName reports whether name is acceptable as a namespace name (the
// rules of `ip netns add`: a non-empty file name).
func ValidName(name string) error {
	if name == "" || name == "." || name == ".." || len(name) > 255 {
		return fmt.Errorf("netns: invalid name %q: %w", name, syscall.EINVAL)
	}
	for _, c := range name {
		if c == '/' || c == 0 {
			return fmt.Errorf("netns: invalid name %q: %w", name, syscall.EINVAL)
		}
	}
	return nil
}

// Create makes and initialises a namespace. It fails with EEXIST if the name
// is taken.
func (w *World) Create(name string) (*Net, error) {
	if err := ValidName(name); err != nil {
		return nil, err
	}
	w.mu.Lock()
	if _, ok := w.byName[name]; ok {
		w.mu.Unlock()
		return nil, fmt.Errorf("netns: %q: %w", name, syscall.EEXIST)
	}
	w.nextID++
	n := &Net{name: name, id: w.nextID, pool: w.pool, world: w}
	w.byName[name] = n // reserve the name while initialising
	w.mu.Unlock()

	n.exec = w.newExec(name)
	var err error
	n.exec.Do(func() {
		for _, f := range w.init {
			if err = f(n); err != nil {
				n.runExits()
				return
			}
		}
	})
	if err != nil {
		w.mu.Lock()
		delete(w.byName, name)
		w.mu.Unlock()
		return nil, fmt.Errorf("netns: init %q: %w", name, err)
	}
	return n, nil
}

// Get returns the namespace called name, or nil.
func (w *World) Get(name string) *Net {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.byName[name]
}

// Default returns the default namespace.
func (w *World) Default() *Net { return w.Get(DefaultName) }

// all returns every namespace registered, initialised or not.
func (w *World) all() []*Net {
	w.mu.Lock()
	defer w.mu.Unlock()
	l := make([]*Net, 0, len(w.byName))
	for _, n := range w.byName {
		l = append(l, n)
	}
	sort.Slice(l, func(i, j int) bool { return l[i].id < l[j].id })
	return l
}

// List returns the namespaces sorted by id (creation order).
func (w *World) List() []*Net {
	w.mu.Lock()
	l := make([]*Net, 0, len(w.byName))
	for _, n := range w.byName {
		if n.exec != nil {
			l = append(l, n)
		}
	}
	w.mu.Unlock()
	sort.Slice(l, func(i, j int) bool { return l[i].id < l[j].id })
	return l
}

// Delete removes a namespace, tearing down its devices, sockets and
// protocol state through its exit hooks. The default namespace cannot be
// deleted (EBUSY).
func (w *World) Delete(name string) error {
	if name == DefaultName {
		return fmt.Errorf("netns: %q: %w", name, syscall.EBUSY)
	}
	w.mu.Lock()
	n := w.byName[name]
	if n == nil || n.exec == nil {
		w.mu.Unlock()
		return fmt.Errorf("netns: %q: %w", name, syscall.ENOENT)
	}
	delete(w.byName, name)
	w.mu.Unlock()
	w.unhashIDs(n)
	n.exec.Do(n.runExits)
	if c, ok := n.exec.(interface{ Close() }); ok {
		c.Close() // a real-time loop owned by this namespace alone
	}
	return nil
}

func (n *Net) runExits() {
	for i := len(n.exits) - 1; i >= 0; i-- {
		n.exits[i]()
	}
	n.exits = nil
	n.dead = true
}
