package bench

// This file is the scenario registry: every comparison the suite runs,
// its metrics, and which stack runs it with which function. To give usnet
// a scenario, write a Runner (see usnet_netns.go) and set Usnet in its
// entry below; UsnetNA says why a scenario has none (every scenario has
// one today).

var (
	mThroughput = []Metric{{"throughput", "Gb/s", true}}
	mRR         = []Metric{{"p50", "µs", false}, {"p99", "µs", false}}
	mUDP        = []Metric{{"rx", "pkt/s", true}, {"tx", "pkt/s", true}}
	mFIB        = []Metric{{"insert", "ns/route", false}, {"lookup", "ns/lookup", false}, {"memory", "B/route", false}, {"total-s", "s insert", false}}
	mNS         = []Metric{{"rate", "netns/s", true}, {"memory", "B/netns", false}}
	mSim        = []Metric{{"wall", "s", false}, {"speed", "sim-s/wall-s", true}}
)

// Scenarios returns the registry in table order.
func Scenarios() []Scenario {
	return []Scenario{
		{Name: "tcp-bulk/mtu1500", Metrics: mThroughput, Usnet: usnetTCPBulk(1500),
			Peers: map[Stack]Runner{GVisor: gvisorTCPBulk(1500), Kernel: kernelTCPBulk(1500)}},
		{Name: "tcp-bulk/mtu9000", Metrics: mThroughput, Usnet: usnetTCPBulk(9000),
			Peers: map[Stack]Runner{GVisor: gvisorTCPBulk(9000), Kernel: kernelTCPBulk(9000)}},
		{Name: "tcp-bulk/mtu65000", Metrics: mThroughput, Usnet: usnetTCPBulk(65000),
			Peers: map[Stack]Runner{GVisor: gvisorTCPBulk(65000), Kernel: kernelTCPBulk(65000)}},
		{Name: "tcp-rr/1B", Metrics: mRR, Usnet: usnetTCPRR(1),
			Peers: map[Stack]Runner{GVisor: gvisorTCPRR(1), Kernel: kernelTCPRR(1)}},
		{Name: "tcp-rr/1KiB", Metrics: mRR, Usnet: usnetTCPRR(1024),
			Peers: map[Stack]Runner{GVisor: gvisorTCPRR(1024), Kernel: kernelTCPRR(1024)}},
		{Name: "tcp-connrate", Metrics: []Metric{{"rate", "conn/s", true}}, Usnet: usnetConnRate,
			Peers: map[Stack]Runner{GVisor: gvisorConnRate, Kernel: kernelConnRate}},
		{Name: "udp-pps/64B", Metrics: mUDP, Usnet: usnetUDPPPS,
			Peers: map[Stack]Runner{GVisor: gvisorUDPPPS, Kernel: kernelUDPPPS}},
		{Name: "l3-forward/udp64B", Metrics: mUDP, Usnet: usnetForward,
			Peers: map[Stack]Runner{GVisor: gvisorForward, Kernel: kernelForward}},
		{Name: "l3-forward/core", Metrics: []Metric{{"forward", "pkt/s", true}}, Usnet: usnetForwardCore,
			Peers: map[Stack]Runner{GVisor: gvisorForwardCore, Kernel: skipRunner(kernelForwardCoreReason)}},
		{Name: "bridge-forward/4p-1kmac", Metrics: []Metric{{"forward", "pkt/s", true}}, Usnet: usnetBridgeForward,
			Peers: map[Stack]Runner{GVisor: gvisorBridgeForward, Kernel: skipRunner(kernelBridgeForwardReason)}},
		{Name: "fib/10k", Metrics: mFIB, Usnet: usnetFIB(10_000),
			Peers: map[Stack]Runner{GVisor: gvisorFIB(10_000), Kernel: kernelFIB(10_000)}},
		{Name: "fib/100k", Metrics: mFIB, Usnet: usnetFIB(100_000),
			Peers: map[Stack]Runner{GVisor: gvisorFIB(100_000), Kernel: kernelFIB(100_000)}},
		{Name: "fib/1M", Metrics: mFIB, Usnet: usnetFIB(1_000_000),
			Peers: map[Stack]Runner{GVisor: skipRunner(gvisorFIB1MReason), Kernel: kernelFIB(1_000_000)}},
		{Name: "netns/create", Metrics: mNS, Usnet: usnetNamespaces(10_000),
			Peers: map[Stack]Runner{GVisor: gvisorNamespaces(10_000), Kernel: kernelNamespaces(1_000)}},
		{Name: "sim-dumbbell/N10", Metrics: mSim, Usnet: usnetDumbbell(10),
			Peers: map[Stack]Runner{NS3: ns3Dumbbell(10)}},
		{Name: "sim-dumbbell/N100", Metrics: mSim, Usnet: usnetDumbbell(100),
			Peers: map[Stack]Runner{NS3: ns3Dumbbell(100)}},
	}
}

const kernelForwardCoreReason = "offering the kernel ready-made frames needs pktgen (a kernel module) or AF_PACKET/AF_XDP generators not in this suite; l3-forward/udp64B has the kernel's socket-driven figure"

const gvisorFIB1MReason = "gVisor's route table is a linked list sorted by prefix length: AddRoute and FindRoute are O(n), so 1M routes is quadratic (~100x the 100k run); see fib/10k and fib/100k"

// skipRunner always skips with reason.
func skipRunner(reason string) Runner {
	return func(*Env) (Figures, string, error) { return nil, "", Skip("%s", reason) }
}
