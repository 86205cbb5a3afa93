package tcp_test

import (
	"testing"
	"time"

	"github.com/usnet/usnet/sched"
	"github.com/usnet/usnet/skb"
)

// dropNth wraps a netem delay line and drops the nth frame longer than
// 1000 bytes (one data segment).
type dropNth struct {
	*sched.Netem
	n, seen int
}

func (d *dropNth) Enqueue(b *skb.Buf, now time.Duration) bool {
	if b.Len() > 1000 {
		d.seen++
		if d.seen == d.n {
			b.Free()
			return false
		}
	}
	return d.Netem.Enqueue(b, now)
}

// TestSingleLossSsthresh checks that one loss event (one dropped GSO frame)
// calls the algorithm's ssthresh: 0.7·cwnd for CUBIC (717/1024), 0.5 for
// Reno, and that the connection leaves recovery at cwnd = ssthresh.
func TestSingleLossSsthresh(t *testing.T) {
	for _, tc := range []struct {
		name string
		want func(cwnd uint32) uint32
	}{
		{"cubic", func(c uint32) uint32 { return max(c*717/1024, 2) }},
		{"reno", func(c uint32) uint32 { return max(c/2, 2) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, 9, 1500)
			w.a.TCP.Sysctl.CongestionControl = tc.name
			cfg := sched.NetemConfig{Delay: 5 * time.Millisecond}
			w.a.Exec().Do(func() { w.da.SetQdisc(&dropNth{Netem: sched.NewNetem(cfg, w.a.Exec().Rand(), w.st.Pool()), n: 20}) })
			w.b.Exec().Do(func() { w.db.SetQdisc(sched.NewNetem(cfg, w.b.Exec().Rand(), w.st.Pool())) })
			cli, srv, _ := w.connect(80)
			if got := cli.Congestion(); got != tc.name {
				t.Fatalf("algorithm %q", got)
			}
			w.transfer(cli, srv, 2<<20, time.Minute)
			i := cli.Info
			if i.Recoveries != 1 || i.PriorCwnd == 0 {
				t.Fatalf("recoveries %d prior cwnd %d", i.Recoveries, i.PriorCwnd)
			}
			if i.Ssthresh != tc.want(i.PriorCwnd) {
				t.Fatalf("ssthresh %d after loss at cwnd %d, want %d", i.Ssthresh, i.PriorCwnd, tc.want(i.PriorCwnd))
			}
			t.Logf("loss at cwnd %d: ssthresh %d, cwnd now %d", i.PriorCwnd, i.Ssthresh, i.Cwnd)
		})
	}
}
