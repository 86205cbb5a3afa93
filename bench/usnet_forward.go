package bench

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"runtime"
	"time"

	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/neigh"
	"github.com/usnet/usnet/scenario"
	"github.com/usnet/usnet/skb"
)

// usnetForwardCore measures the router's forwarding path alone, the
// figure the 5 Mpps/core target is about: h1's veth transmits batches of
// 64 ready-made 64-byte UDP frames to r on a simulation (one goroutine,
// so one core, no socket and no wake-ups between namespaces); r receives,
// routes, decrements the TTL, resolves a permanent neighbour and
// transmits to h2, whose device drops them as PACKET_OTHERHOST. Pre-
// built frames are what a packet generator (pktgen, a traffic generator
// port) offers a router, so no socket send cost is included; the
// socket-level l3-forward row has that.
func usnetForwardCore(env *Env) (Figures, string, error) {
	topo := scenario.IPTopology()
	for i := range topo.Links {
		topo.Links[i].Delay, topo.Links[i].Rate = 0, 0
	}
	w, err := scenario.Build(topo, 1)
	if err != nil {
		return nil, "", err
	}
	sim := w.Stack.Sim
	sim.RunFor(time.Millisecond)
	r := w.NS["r"]
	h1Addr := netip.MustParseAddr("10.0.1.2")
	sink := netip.MustParseAddr("10.0.2.3")
	mac := [6]byte{0x02, 0, 0, 0, 0, 0x99}
	if err := r.Neigh.Add(neigh.AddRequest{Dev: w.Dev("r", "eth1"), Addr: sink, LLAddr: &mac, State: neigh.StatePermanent, Create: true}); err != nil {
		return nil, "", err
	}
	out := w.Dev("h1", "eth0")
	frame := udpFrame64(w.Dev("r", "eth0").Addr(), out.Addr(), h1Addr, sink)
	pool := w.Stack.Pool()
	const batch = 64
	bt := skb.NewBatch(batch)
	budget := Pick(env, 2*time.Second, 100*time.Millisecond)
	before := r.IPv4.Stats.ForwDatagrams
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	sent := 0
	start := time.Now()
	for sent < 1024 || time.Since(start) < budget {
		for range 16 { // read the clock every 1024 packets
			for range batch {
				b := pool.Get(skb.DefaultHeadroom, len(frame))
				copy(b.Put(len(frame)), frame)
				bt.Add(b)
			}
			out.Xmit(bt)
			sim.RunFor(0)
			sent += batch
		}
	}
	el := time.Since(start)
	runtime.ReadMemStats(&m1)
	fwd := r.IPv4.Stats.ForwDatagrams - before
	if fwd != uint64(sent) {
		return nil, "", fmt.Errorf("forwarded %d of %d frames", fwd, sent)
	}
	pps := float64(sent) / el.Seconds()
	return Figures{"forward": pps},
		fmt.Sprintf("%d frames in batches of %d through r on one simulation goroutine (the path of tests/sim BenchmarkForward64), %.2f allocs/packet", sent, batch, float64(m1.Mallocs-m0.Mallocs)/float64(sent)), nil
}

// udpFrame64 is an Ethernet/IPv4/UDP frame of 64 bytes with its FCS (60
// bytes here: 14 Ethernet, 20 IPv4, 8 UDP, 18 payload).
func udpFrame64(dst, src [6]byte, from, to netip.Addr) []byte {
	f := make([]byte, 14+20+8+udpPayload64)
	copy(f[0:6], dst[:])
	copy(f[6:12], src[:])
	binary.BigEndian.PutUint16(f[12:], 0x0800)
	ip := f[14:]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(20+8+udpPayload64))
	ip[8], ip[9] = 64, 17
	s, d := from.As4(), to.As4()
	copy(ip[12:16], s[:])
	copy(ip[16:20], d[:])
	binary.BigEndian.PutUint16(ip[10:], header.Checksum(ip[:20]))
	u := ip[20:]
	binary.BigEndian.PutUint16(u[0:], 5000)
	binary.BigEndian.PutUint16(u[2:], 9)
	binary.BigEndian.PutUint16(u[4:], uint16(8+udpPayload64))
	return f
}
