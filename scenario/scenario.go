// Package scenario builds and runs simulated topologies on virtual time
// and reports what happened: the engine behind `usnet run`. A Topology
// names namespaces and the veth links between them; Run builds it on a
// seeded simulation, starts captures, runs the workload and collects
// per-device counters into a Summary that is written as summary.json.
package scenario

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/usnet/usnet/capture"
	"github.com/usnet/usnet/client"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/rtnl"
	"github.com/usnet/usnet/sched"
	"github.com/usnet/usnet/stack"
)

// Link is a veth pair between two namespaces. A non-zero Delay or Rate
// puts a netem qdisc on both ends (one-way delay each way, bits/s).
type Link struct {
	A, ADev string // namespace and device name of one end
	B, BDev string
	MTU     int
	Delay   time.Duration
	Rate    int64
}

// Topology is the static part of a scenario.
type Topology struct {
	Namespaces []string
	Links      []Link
	// Addrs, Forwarding (namespace names) and Routes configure IPv4;
	// every namespace also gets lo up with 127.0.0.1/8.
	Addrs      []Addr
	Forwarding []string
	Routes     []Route
	// Capture lists "ns/dev" devices to record (one pcapng each).
	Capture []string
}

// World is a built topology, handed to workloads. Its configuration went
// through rtnetlink: Client is an in-process rtnetlink client of the
// stack, which workloads may use to change the topology as a routing
// daemon would (with the notifications the kernel would send).
type World struct {
	Stack  *stack.Stack
	NS     map[string]*stack.Namespace
	RTNL   *rtnl.Server
	Client *client.Client
}

// Dev returns the device called dev in namespace ns, or nil.
func (w *World) Dev(ns, dev string) *netdev.Device {
	n := w.NS[ns]
	if n == nil {
		return nil
	}
	return n.Dev.ByName(dev)
}

// DevSummary is one device's counters at the end of a run.
type DevSummary struct {
	Name      string         `json:"name"`
	Kind      string         `json:"kind"`
	OperState string         `json:"operstate"`
	Stats     netdev.Stats64 `json:"stats64"`
}

// NSSummary lists a namespace's devices.
type NSSummary struct {
	Name    string       `json:"name"`
	Devices []DevSummary `json:"devices"`
}

// Summary is what a run reports; it is written as summary.json.
type Summary struct {
	Scenario   string         `json:"scenario"`
	Seed       uint64         `json:"seed"`
	SimTime    string         `json:"sim_time"`
	Events     uint64         `json:"events"`
	Results    map[string]any `json:"results"`
	Namespaces []NSSummary    `json:"namespaces"`
	Captures   []string       `json:"captures"`
}

// Workload drives traffic on a built world. It runs on the simulation's
// goroutine: it may call the simulation directly (RunFor, RunWhile) and
// records its results in res.
type Workload func(w *World, res map[string]any) error

// Options of a run.
type Options struct {
	Name   string
	Seed   uint64
	OutDir string // "" writes nothing
}

// Build creates topo on a new simulation seeded with seed: namespaces,
// veth links (up), then the IPv4 configuration. Devices, addresses and
// routes are configured with rtnetlink messages through an in-process
// client, as `ip` would; the link impairments (a netem qdisc, which
// rtnetlink's tc messages do not reach yet) and net.ipv4.ip_forward (a
// sysctl on Linux too) are set directly.
func Build(topo Topology, seed uint64) (*World, error) {
	s, err := stack.NewSim(seed)
	if err != nil {
		return nil, err
	}
	srv := rtnl.New(s)
	w := &World{Stack: s, NS: map[string]*stack.Namespace{}, RTNL: srv, Client: client.InProcess(srv)}
	for _, name := range topo.Namespaces {
		ns, err := s.Add(name)
		if err != nil {
			return nil, err
		}
		w.NS[name] = ns
	}
	for _, l := range topo.Links {
		na, nb := w.NS[l.A], w.NS[l.B]
		if na == nil || nb == nil {
			return nil, fmt.Errorf("scenario: link %s/%s-%s/%s: unknown namespace", l.A, l.ADev, l.B, l.BDev)
		}
		ca := w.Client.Namespace(l.A)
		spec := client.LinkSpec{Name: l.ADev, Kind: "veth", MTU: l.MTU, Peer: l.BDev, PeerNamespace: l.B}
		if err := ca.AddLink(spec); err != nil {
			return nil, fmt.Errorf("scenario: link %s/%s-%s/%s: %w", l.A, l.ADev, l.B, l.BDev, err)
		}
		if l.Delay > 0 || l.Rate > 0 {
			for _, e := range []struct {
				d  *netdev.Device
				ns *stack.Namespace
			}{{na.Dev.ByName(l.ADev), na}, {nb.Dev.ByName(l.BDev), nb}} {
				q := sched.NewNetem(sched.NetemConfig{Delay: l.Delay, Rate: l.Rate}, e.ns.Exec().Rand(), s.Pool())
				e.d.SetQdisc(q)
			}
		}
		if err := ca.SetLinkUp(l.ADev); err != nil {
			return nil, err
		}
		if err := w.Client.Namespace(l.B).SetLinkUp(l.BDev); err != nil {
			return nil, err
		}
	}
	if err := configureIP(topo, w); err != nil {
		return nil, err
	}
	return w, nil
}

// Run builds topo, runs wl and returns the summary; with an OutDir it
// writes one pcapng per captured device and summary.json there.
func Run(topo Topology, wl Workload, opts Options) (*Summary, error) {
	w, err := Build(topo, opts.Seed)
	if err != nil {
		return nil, err
	}
	s := w.Stack
	sum := &Summary{Scenario: opts.Name, Seed: opts.Seed, Results: map[string]any{}}
	var caps []*capture.Capture
	var files []*os.File
	if opts.OutDir != "" {
		if err := os.MkdirAll(opts.OutDir, 0o755); err != nil {
			return nil, err
		}
		for _, c := range topo.Capture {
			ns, dev, ok := cut(c)
			d := w.Dev(ns, dev)
			if !ok || d == nil {
				return nil, fmt.Errorf("scenario: capture %q: no such device", c)
			}
			name := ns + "-" + dev + ".pcapng"
			f, err := os.Create(filepath.Join(opts.OutDir, name))
			if err != nil {
				return nil, err
			}
			cp, err := capture.Start(d, f, capture.Options{})
			if err != nil {
				f.Close()
				return nil, err
			}
			caps = append(caps, cp)
			files = append(files, f)
			sum.Captures = append(sum.Captures, name)
		}
	}
	werr := wl(w, sum.Results)
	for i, cp := range caps {
		if err := cp.Stop(); err != nil && werr == nil {
			werr = err
		}
		if err := files[i].Close(); err != nil && werr == nil {
			werr = err
		}
	}
	sum.SimTime = s.Sim.Now().String()
	sum.Events = s.Sim.Events()
	for _, ns := range s.List() {
		nsum := NSSummary{Name: ns.Name()}
		for _, d := range ns.Dev.Devices() {
			kind := d.Kind()
			if kind == "" && d.Flags()&netdev.FlagLoopback != 0 {
				kind = "loopback"
			}
			nsum.Devices = append(nsum.Devices, DevSummary{Name: d.Name(), Kind: kind, OperState: d.OperState().String(), Stats: d.Stats})
		}
		sum.Namespaces = append(sum.Namespaces, nsum)
	}
	if werr != nil {
		return sum, werr
	}
	if opts.OutDir != "" {
		js, err := json.MarshalIndent(sum, "", "  ")
		if err != nil {
			return sum, err
		}
		if err := os.WriteFile(filepath.Join(opts.OutDir, "summary.json"), append(js, '\n'), 0o644); err != nil {
			return sum, err
		}
	}
	return sum, nil
}

func cut(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			return s[:i], s[i+1:], true
		}
	}
	return "", "", false
}

// sortedKeys returns a map's keys in order, for stable printing.
func sortedKeys(m map[string]any) []string {
	k := make([]string, 0, len(m))
	for x := range m {
		k = append(k, x)
	}
	sort.Strings(k)
	return k
}

// settle lets link state converge after set-up.
const settle = time.Millisecond
