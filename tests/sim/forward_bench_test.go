package sim

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"testing"

	"github.com/usnet/usnet/client"
	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/neigh"
	"github.com/usnet/usnet/scenario"
	"github.com/usnet/usnet/skb"
)

// BenchmarkForward64 measures L3 forwarding of 64-byte UDP frames through
// the router namespace of the default topology, one core, virtual time:
// h1's eth0 transmits batches of 64 frames over the veth; r receives,
// routes (FIB lookup), decrements TTL, resolves the next hop (a permanent
// neighbour whose MAC nobody owns) and transmits to h2, whose device drops
// them as PACKET_OTHERHOST. One op is one forwarded packet.
//
// flows=1 is pktgen's single flow: the router reuses the input route of
// the previous packet of a batch when the flow key repeats. flows=64
// gives every packet of a batch its own source address, so each packet
// pays the full route lookup (rules, trie, source validation).
func BenchmarkForward64(b *testing.B) {
	for _, flows := range []int{1, 64} {
		b.Run(fmt.Sprintf("flows=%d", flows), func(b *testing.B) { benchForward64(b, flows) })
	}
}

func benchForward64(b *testing.B, flows int) {
	topo := scenario.IPTopology()
	for i := range topo.Links {
		topo.Links[i].Delay, topo.Links[i].Rate = 0, 0 // measure the stack, not netem
	}
	w, err := scenario.Build(topo, 1)
	if err != nil {
		b.Fatal(err)
	}
	sim := w.Stack.Sim
	sim.RunFor(1e6)
	r, h1 := w.NS["r"], w.NS["h1"]
	sink := netip.MustParseAddr("10.0.2.3")
	mac := [6]byte{0x02, 0, 0, 0, 0, 0x99}
	if err := r.Neigh.Add(neigh.AddRequest{Dev: w.Dev("r", "eth1"), Addr: sink, LLAddr: &mac, State: neigh.StatePermanent, Create: true}); err != nil {
		b.Fatal(err)
	}
	out := w.Dev("h1", "eth0")
	rmac := w.Dev("r", "eth0").Addr()
	frames := make([][]byte, flows)
	for i := range frames {
		src := h1Addr.As4()
		src[3] += byte(i) // 10.0.1.2 … 10.0.1.65: all on h1's subnet
		frames[i] = forwardFrame(rmac, out.Addr(), netip.AddrFrom4(src), sink)
	}
	pool := w.Stack.Pool()
	const batch = 64
	bt := skb.NewBatch(batch)
	before := r.IPv4.Stats.ForwDatagrams
	b.ReportAllocs()
	b.ResetTimer()
	for sent := 0; sent < b.N; sent += batch {
		n := min(batch, b.N-sent)
		for i := range n {
			frame := frames[i%flows]
			buf := pool.Get(skb.DefaultHeadroom, len(frame))
			copy(buf.Put(len(frame)), frame)
			bt.Add(buf)
		}
		out.Xmit(bt)
		sim.RunFor(0)
	}
	b.StopTimer()
	if got := r.IPv4.Stats.ForwDatagrams - before; got != uint64(b.N) {
		b.Fatalf("forwarded %d of %d", got, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mpps")
	_ = h1
}

// forwardFrame builds an Ethernet/IPv4/UDP frame of 64 bytes (FCS
// excluded: 60 on the wire, padded as Ethernet would carry it).
func forwardFrame(dst, src [6]byte, from, to netip.Addr) []byte {
	f := make([]byte, 60)
	copy(f[0:6], dst[:])
	copy(f[6:12], src[:])
	binary.BigEndian.PutUint16(f[12:], 0x0800)
	ip := f[14:]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], 46)
	ip[8], ip[9] = 64, 17
	s, d := from.As4(), to.As4()
	copy(ip[12:16], s[:])
	copy(ip[16:20], d[:])
	binary.BigEndian.PutUint16(ip[10:], header.Checksum(ip[:20]))
	u := ip[20:]
	binary.BigEndian.PutUint16(u[0:], 5000)
	binary.BigEndian.PutUint16(u[2:], 9)
	binary.BigEndian.PutUint16(u[4:], 26)
	return f
}

// BenchmarkForwardRouter64 measures the router's own work per forwarded
// 64-byte packet, as a forwarding rate per core is measured on Linux
// (pktgen on another machine, the router's core doing only receive,
// route, TTL, neighbour and transmit): a batch of 64 frames is allocated
// from the pool and handed to r's eth0 receive path (as a NIC's NAPI
// poll would), and r sends them out of a dummy device, which frees them
// (a NIC's transmit completion). No sender or sink namespace runs.
func BenchmarkForwardRouter64(b *testing.B) {
	for _, flows := range []int{1, 64} {
		b.Run(fmt.Sprintf("flows=%d", flows), func(b *testing.B) { benchForwardRouter64(b, flows) })
	}
}

func benchForwardRouter64(b *testing.B, flows int) {
	topo := scenario.IPTopology()
	for i := range topo.Links {
		topo.Links[i].Delay, topo.Links[i].Rate = 0, 0
	}
	w, err := scenario.Build(topo, 1)
	if err != nil {
		b.Fatal(err)
	}
	sim := w.Stack.Sim
	r := w.NS["r"]
	rc := w.Client.Namespace("r")
	if err := rc.AddLink(client.LinkSpec{Name: "sink0", Kind: "dummy", Up: true}); err != nil {
		b.Fatal(err)
	}
	if err := rc.AddAddr("sink0", netip.MustParsePrefix("10.9.0.1/24")); err != nil {
		b.Fatal(err)
	}
	sink := netip.MustParseAddr("10.9.0.2")
	mac := [6]byte{0x02, 0, 0, 0, 0, 0x99}
	if err := r.Neigh.Add(neigh.AddRequest{Dev: w.Dev("r", "sink0"), Addr: sink, LLAddr: &mac, State: neigh.StatePermanent, Create: true}); err != nil {
		b.Fatal(err)
	}
	sim.RunFor(1e6)
	in := w.Dev("r", "eth0")
	frames := make([][]byte, flows)
	for i := range frames {
		src := h1Addr.As4()
		src[3] += byte(i)
		frames[i] = forwardFrame(in.Addr(), w.Dev("h1", "eth0").Addr(), netip.AddrFrom4(src), sink)
	}
	pool := w.Stack.Pool()
	const batch = 64
	bt := skb.NewBatch(batch)
	before := r.IPv4.Stats.ForwDatagrams
	b.ReportAllocs()
	b.ResetTimer()
	for sent := 0; sent < b.N; sent += batch {
		n := min(batch, b.N-sent)
		for i := range n {
			frame := frames[i%flows]
			buf := pool.Get(skb.DefaultHeadroom, len(frame))
			copy(buf.Put(len(frame)), frame)
			bt.Add(buf)
		}
		in.Receive(bt)
		r.IPv4.Flush()
	}
	b.StopTimer()
	if got := r.IPv4.Stats.ForwDatagrams - before; got != uint64(b.N) {
		b.Fatalf("forwarded %d of %d", got, b.N)
	}
	if live := pool.Live(); live > 2*batch {
		b.Fatalf("%d buffers still live", live)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mpps")
}
