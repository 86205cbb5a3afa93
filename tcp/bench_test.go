package tcp_test

import (
	"testing"
	"time"
)

// BenchmarkBulk measures one-way bulk throughput between two namespaces
// over a veth (MTU 1500) on the simulation: wall-clock cost of moving the
// bytes through both stacks.
func BenchmarkBulk(b *testing.B) {
	w := newWorld(b, 1, 1500)
	cli, srv, _ := w.connect(80)
	chunk := make([]byte, 256<<10)
	buf := make([]byte, 256<<10)
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	b.ResetTimer()
	segs0 := cli.Info.SegsOut
	for i := 0; i < b.N; i++ {
		sent, got := 0, 0
		for got < len(chunk) {
			if sent < len(chunk) {
				n, err := cli.Send(chunk[sent:])
				if err != nil {
					b.Fatal(err)
				}
				sent += n
			}
			w.st.Sim.RunFor(100 * time.Microsecond)
			for {
				n, _, err := srv.Recv(buf)
				if err != nil {
					b.Fatal(err)
				}
				if n == 0 {
					break
				}
				got += n
			}
		}
	}
	b.StopTimer()
	if segs := cli.Info.SegsOut - segs0; segs > 0 {
		b.ReportMetric(float64(segs)/float64(b.N), "segs/op")
	}
}
