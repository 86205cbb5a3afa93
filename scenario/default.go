package scenario

import (
	"fmt"
	"io"
	"time"

	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
)

// DefaultTopology is two hosts and a router: h1 —veth— r —veth— h2, the
// first link 1 Gb/s with 1 ms of delay each way, the second 100 Mb/s
// with 5 ms.
func DefaultTopology() Topology {
	return Topology{
		Namespaces: []string{"h1", "r", "h2"},
		Links: []Link{
			{A: "h1", ADev: "eth0", B: "r", BDev: "eth0", MTU: 1500, Delay: time.Millisecond, Rate: 1e9},
			{A: "r", ADev: "eth1", B: "h2", BDev: "eth0", MTU: 1500, Delay: 5 * time.Millisecond, Rate: 100e6},
		},
		Capture: []string{"h1/eth0", "r/eth0", "r/eth1", "h2/eth0"},
	}
}

// etherProbe is the IEEE local experimental EtherType, used by the
// frame-level workload until the IP layer runs the default scenario.
const etherProbe = 0x88b5

// FrameWorkload sends n frames from each host to the router's MAC and
// counts what the router receives: the link layer alone.
func FrameWorkload(n int) Workload {
	return func(w *World, res map[string]any) error {
		sim := w.Stack.Sim
		sim.RunFor(settle)
		got := map[string]int{}
		r := w.NS["r"]
		r.Dev.AddProtocol(etherProbe, func(dev *netdev.Device, bt *skb.Batch) {
			got[dev.Name()] += bt.Len()
			bt.Free()
		})
		send := func(host, dev, rdev string, i int) {
			d, rd := w.Dev(host, dev), w.Dev("r", rdev)
			b := w.Stack.Pool().Get(skb.DefaultHeadroom, 64)
			h := b.Put(64)
			dst, src := rd.Addr(), d.Addr()
			copy(h[0:6], dst[:])
			copy(h[6:12], src[:])
			h[12], h[13] = etherProbe>>8, etherProbe&0xff
			copy(h[14:], fmt.Sprintf("usnet probe %d from %s", i, host))
			bt := skb.NewBatch(1)
			bt.Add(b)
			d.Xmit(bt)
		}
		for i := 0; i < n; i++ {
			send("h1", "eth0", "eth0", i)
			send("h2", "eth0", "eth1", i)
			sim.RunFor(10 * time.Millisecond)
		}
		res["frames_sent_per_host"] = n
		res["frames_received_by_router"] = got
		if got["eth0"] != n || got["eth1"] != n {
			return fmt.Errorf("router received %v of %d frames per link", got, n)
		}
		return nil
	}
}

// Default runs the default scenario: two hosts and a router with IPv4;
// h1 pings h2 five times, exchanges five UDP datagrams with an echo
// socket on h2 (the larger ones fragmented), then sends 4 MiB over TCP.
func Default(seed uint64, outDir string) (*Summary, error) {
	return Run(IPTopology(), PingUDPWorkload(5), Options{Name: "default", Seed: seed, OutDir: outDir})
}

// Print writes a readable summary.
func Print(out io.Writer, s *Summary) {
	fmt.Fprintf(out, "scenario %s, seed %d: %s of virtual time, %d events\n", s.Scenario, s.Seed, s.SimTime, s.Events)
	for _, k := range sortedKeys(s.Results) {
		fmt.Fprintf(out, "  %s: %v\n", k, s.Results[k])
	}
	fmt.Fprintf(out, "\n%-8s %-6s %-8s %-14s %10s %10s %10s %10s %8s %8s\n", "ns", "dev", "kind", "state", "rx_pkts", "rx_bytes", "tx_pkts", "tx_bytes", "rx_drop", "tx_drop")
	for _, ns := range s.Namespaces {
		for _, d := range ns.Devices {
			st := d.Stats
			fmt.Fprintf(out, "%-8s %-6s %-8s %-14s %10d %10d %10d %10d %8d %8d\n", ns.Name, d.Name, d.Kind, d.OperState,
				st.RxPackets, st.RxBytes, st.TxPackets, st.TxBytes, st.RxDropped+st.RxOtherhostDropped+st.RxNoHandler, st.TxDropped)
		}
	}
	if len(s.Captures) > 0 {
		fmt.Fprintf(out, "\ncaptures: %v\n", s.Captures)
	}
}
