// Package stack assembles usnet's layers into namespaces: it owns a
// netns.World, and for each namespace it creates the device table with its
// loopback device and then each protocol layer, wiring them together with
// plain pointers (no registry lookups on the data path). It is the Linux
// boot sequence of one usnet process or simulation.
package stack

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"

	"github.com/usnet/usnet/arp"
	"github.com/usnet/usnet/drivers/loopback"
	"github.com/usnet/usnet/executor"
	"github.com/usnet/usnet/fib"
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/neigh"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/netns"
	"github.com/usnet/usnet/offload"
	"github.com/usnet/usnet/ping"
	"github.com/usnet/usnet/skb"
	"github.com/usnet/usnet/socket"
	"github.com/usnet/usnet/tcp"
	"github.com/usnet/usnet/udp"
)

// Namespace is one assembled namespace: the netns.Net and its layers.
type Namespace struct {
	Net  *netns.Net
	Dev  *netdev.Table
	Lo   *netdev.Device
	IPv4 *ipv4.Layer
	// ARP resolves IPv4 next hops into Neigh, the namespace's IPv4
	// neighbour table.
	ARP   *arp.ARP
	Neigh *neigh.Table
	// FIB holds the routing tables and rules.
	FIB *fib.FIB
	TCP *tcp.Table

	// TCP sockets, set when the tcp package is wired (see net.go).
	dialTCP   func(ctx context.Context, to netip.AddrPort) (net.Conn, error)
	listenTCP func(at netip.AddrPort) (net.Listener, error)
	UDP       *udp.Table
	Ping      *ping.Table
}

// Name returns the namespace name.
func (n *Namespace) Name() string { return n.Net.Name() }

// Exec returns the namespace's executor.
func (n *Namespace) Exec() executor.Executor { return n.Net.Exec() }

// Stack is a set of assembled namespaces sharing one world.
type Stack struct {
	World *netns.World
	Sim   *executor.Sim // nil in real time

	mu  sync.Mutex
	nss map[*netns.Net]*Namespace
	// RTNL serialises configuration, as Linux's rtnl_lock: hold it around
	// any change that spans namespaces.
	RTNL sync.Mutex
}

// NewSim returns a simulated stack: every namespace runs on one
// discrete-event scheduler seeded with seed.
func NewSim(seed uint64) (*Stack, error) {
	sim := executor.NewSim(seed)
	s := &Stack{Sim: sim}
	return s, s.init(skb.NewPool(), sim.Executor)
}

// NewRealtime returns a real-time stack: one event-loop goroutine per
// namespace.
func NewRealtime() (*Stack, error) {
	s := &Stack{}
	return s, s.init(skb.NewPool(), func(name string) executor.Executor { return executor.NewLoop(name) })
}

func (s *Stack) init(pool *skb.Pool, newExec func(string) executor.Executor) error {
	s.nss = map[*netns.Net]*Namespace{}
	w, err := netns.NewWorld(netns.Config{Pool: pool, NewExecutor: newExec, Init: []func(*netns.Net) error{s.setup}})
	s.World = w
	return err
}

// setup runs on the new namespace's executor.
func (s *Stack) setup(n *netns.Net) error {
	ns := &Namespace{Net: n, Dev: netdev.Attach(n)}
	lo, err := loopback.New(ns.Dev)
	if err != nil {
		return err
	}
	ns.Lo = lo
	ns.IPv4 = ipv4.New(ns.Dev, nil, nil, nil)
	// GSO super-packets leaving by a device without GSO are split here.
	ns.IPv4.Segment = offload.Segmenter{Pool: n.Pool()}.SegmentTCP4
	ns.FIB = fib.New(ns.IPv4)
	inet := &inetAddrs{l: ns.IPv4, router: ns.FIB}
	ns.ARP = arp.New(ns.Dev, inet)
	ns.ARP.Unreachable = func(dev *netdev.Device, b *skb.Buf) {
		ns.IPv4.HostUnreachable(b, dev)
		b.Free()
	}
	ns.Neigh = ns.ARP.Neigh()
	ns.IPv4.SetNeigh(ns.Neigh)
	ns.UDP = udp.New(ns.IPv4)
	ns.TCP = tcp.New(ns.IPv4)
	ns.dialTCP = func(ctx context.Context, to netip.AddrPort) (net.Conn, error) {
		c, err := socket.DialTCP(ctx, n.Exec(), ns.TCP, netip.AddrPort{}, to)
		if err != nil {
			return nil, err
		}
		c.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true}) // as net.Dial
		return c, nil
	}
	ns.listenTCP = func(at netip.AddrPort) (net.Listener, error) {
		l, err := socket.ListenTCP(n.Exec(), ns.TCP, at, 4096)
		if err != nil {
			return nil, err
		}
		return keepAliveListener{l}, nil
	}
	ns.Ping = ping.New(ns.IPv4)
	s.mu.Lock()
	s.nss[n] = ns
	s.mu.Unlock()
	n.OnExit(func() {
		s.mu.Lock()
		delete(s.nss, n)
		s.mu.Unlock()
	})
	return nil
}

// Pool returns the packet-buffer pool.
func (s *Stack) Pool() *skb.Pool { return s.World.Pool() }

// Add creates a namespace (`ip netns add`).
func (s *Stack) Add(name string) (*Namespace, error) {
	n, err := s.World.Create(name)
	if err != nil {
		return nil, err
	}
	return s.of(n), nil
}

// Delete removes a namespace and everything in it (`ip netns del`).
func (s *Stack) Delete(name string) error { return s.World.Delete(name) }

// Get returns the namespace called name, or nil.
func (s *Stack) Get(name string) *Namespace {
	n := s.World.Get(name)
	if n == nil {
		return nil
	}
	return s.of(n)
}

// Lookup returns the namespace called name or an ENOENT error.
func (s *Stack) Lookup(name string) (*Namespace, error) {
	if ns := s.Get(name); ns != nil {
		return ns, nil
	}
	return nil, fmt.Errorf("namespace %q: %w", name, syscall.ENOENT)
}

// Default returns the default namespace.
func (s *Stack) Default() *Namespace { return s.of(s.World.Default()) }

// List returns the namespaces in creation order.
func (s *Stack) List() []*Namespace {
	var l []*Namespace
	for _, n := range s.World.List() {
		if ns := s.of(n); ns != nil {
			l = append(l, ns)
		}
	}
	return l
}

// Of returns the namespace built on n, or nil when n is not (or no
// longer) one of the stack's.
func (s *Stack) Of(n *netns.Net) *Namespace { return s.of(n) }

func (s *Stack) of(n *netns.Net) *Namespace {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nss[n]
}
