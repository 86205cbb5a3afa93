package sim

import (
	"net/netip"
	"testing"
	"time"

	"github.com/usnet/usnet/scenario"
	"github.com/usnet/usnet/tcp"
)

// The bulk benchmarks of socket/bench_tcp_test.go on virtual time: two
// namespaces over a veth with no delay and no rate limit, driven by one
// goroutine through the sans-IO tcp.Conn API (no net.Conn, no executor
// hand-offs). Wall-clock Gb/s is then the CPU cost of the whole stack,
// both ends on one core. The virtual time a transfer takes is reported
// too: with an ideal link it should be zero, so anything above it is time
// spent waiting for a timer (delayed ACK, RTO, TLP) — a stall.

func BenchmarkTCPSimBulkMTU1500(b *testing.B)  { benchSimBulk(b, 1500) }
func BenchmarkTCPSimBulkMTU9000(b *testing.B)  { benchSimBulk(b, 9000) }
func BenchmarkTCPSimBulkMTU65000(b *testing.B) { benchSimBulk(b, 65000) }

func benchSimBulk(b *testing.B, mtu int) {
	const block = 1 << 20
	topo := pairTopology(0, 0)
	topo.Links[0].MTU = mtu
	w, err := scenario.Build(topo, 1)
	if err != nil {
		b.Fatal(err)
	}
	if got := w.Dev("a", "eth0").MTU(); got != mtu {
		b.Fatalf("MTU %d, want %d", got, mtu)
	}
	sim := w.Stack.Sim
	a, bns := w.NS["a"], w.NS["b"]
	sim.RunFor(time.Millisecond)
	l, err := bns.TCP.Listen(netip.MustParseAddrPort("10.0.0.2:5001"), 16)
	if err != nil {
		b.Fatal(err)
	}
	size := int64(b.N) * block
	var received int64
	done := false
	buf := make([]byte, 256<<10)
	l.OnAcceptable = func() {
		srv := l.Accept()
		if srv == nil {
			return
		}
		srv.OnReadable = func() {
			for {
				n, eof, err := srv.Recv(buf)
				received += int64(n)
				if err != nil || eof {
					if err != nil {
						b.Errorf("receiver: %v", err)
					}
					srv.Close()
					done = true
					return
				}
				if n == 0 {
					return
				}
			}
		}
	}
	cli, err := a.TCP.Connect(netip.AddrPort{}, netip.MustParseAddrPort("10.0.0.2:5001"))
	if err != nil {
		b.Fatal(err)
	}
	chunk := make([]byte, block)
	for i := range chunk {
		chunk[i] = byte(i)
	}
	var sent int64
	pump := func() {
		for sent < size {
			off := int(sent % block)
			k, err := cli.Send(chunk[off:min(block, off+int(size-sent))])
			if err != nil {
				b.Errorf("sender: %v", err)
				done = true
				return
			}
			sent += int64(k)
			if k == 0 {
				return
			}
		}
		cli.CloseWrite()
		cli.OnWritable = nil
	}
	// Establish first, so the timed part is the transfer.
	sim.RunWhile(func() bool { return cli.State() != tcp.Established && sim.Now() < 5*time.Second })
	b.SetBytes(block)
	b.ResetTimer()
	wall := time.Now()
	start := sim.Now()
	cli.OnWritable = pump
	pump()
	sim.RunWhile(func() bool { return !done && sim.Now()-start < time.Hour })
	el := time.Since(wall)
	virt := sim.Now() - start
	b.StopTimer()
	if received != size {
		b.Fatalf("received %d of %d bytes (client %v)", received, size, cli.State())
	}
	b.ReportMetric(float64(size)*8/el.Seconds()/1e9, "Gb/s")
	b.ReportMetric(float64(virt)/float64(time.Microsecond)/float64(b.N), "virt-µs/op")
	b.ReportMetric(float64(cli.Info.Retransmits)/float64(b.N), "retrans/op")
}
