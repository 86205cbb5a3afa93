package tcp_test

import (
	"testing"
	"time"

	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/sched"
	"github.com/usnet/usnet/skb"
)

// ceMarker is a netem delay line that counts ECN codepoints and sets CE
// on ECT data frames whose ordinal mark selects (a router under AQM).
type ceMarker struct {
	*sched.Netem
	ect, notECT, marked int
	n                   int
	mark                func(n int) bool
}

func (m *ceMarker) Enqueue(b *skb.Buf, now time.Duration) bool {
	if b.L3 >= 0 {
		ip := header.IPv4(b.From(b.L3))
		if len(ip) >= header.IPv4MinLen && ip.Protocol() == 6 {
			switch {
			case ip.ECN() == 0:
				m.notECT++
			default:
				m.ect++
				m.n++
				if m.mark != nil && m.mark(m.n) && b.Unshare() {
					ip = header.IPv4(b.From(b.L3))
					ip.SetTOS(ip.TOS() | 3)
					ip.FillChecksum()
					m.marked++
				}
			}
		}
	}
	return m.Netem.Enqueue(b, now)
}

func ecnWorld(t *testing.T, seed uint64, ecnA, ecnB int, mark func(int) bool) (*world, *ceMarker, *ceMarker) {
	w := newWorld(t, seed, 1500)
	w.a.TCP.Sysctl.ECN, w.b.TCP.Sysctl.ECN = ecnA, ecnB
	cfg := sched.NetemConfig{Delay: 5 * time.Millisecond, Limit: 100000}
	ma := &ceMarker{Netem: sched.NewNetem(cfg, w.a.Exec().Rand(), w.st.Pool()), mark: mark}
	mb := &ceMarker{Netem: sched.NewNetem(cfg, w.b.Exec().Rand(), w.st.Pool())}
	w.a.Exec().Do(func() { w.da.SetQdisc(ma) })
	w.b.Exec().Do(func() { w.db.SetQdisc(mb) })
	return w, ma, mb
}

// TestECNNegotiation: Linux's default tcp_ecn 2 accepts ECN when the
// peer's SYN asks and does not ask itself; ECN 1 asks; 0 refuses.
func TestECNNegotiation(t *testing.T) {
	for _, tc := range []struct {
		a, b int
		want bool
	}{{2, 2, false}, {1, 2, true}, {1, 1, true}, {1, 0, false}, {2, 1, false}, {0, 1, false}} {
		w, ma, mb := ecnWorld(t, 51, tc.a, tc.b, nil)
		cli, srv, _ := w.connect(80)
		w.transfer(cli, srv, 200<<10, time.Minute)
		if cli.Info.ECN != tc.want || srv.Info.ECN != tc.want {
			t.Fatalf("tcp_ecn %d → %d: client ECN %v server %v, want %v", tc.a, tc.b, cli.Info.ECN, srv.Info.ECN, tc.want)
		}
		if tc.want && ma.ect == 0 || !tc.want && ma.ect != 0 {
			t.Fatalf("tcp_ecn %d → %d: %d ECT frames from the client", tc.a, tc.b, ma.ect)
		}
		if mb.ect != 0 {
			t.Fatalf("%d ECT frames from the receiver, whose segments are pure ACKs", mb.ect)
		}
	}
}

// TestECNReaction marks CE on a run of consecutive data frames inside one
// window: the receiver echoes ECE until CWR, the sender cuts its window
// once (CUBIC's ssthresh, as for a loss) and retransmits nothing.
func TestECNReaction(t *testing.T) {
	w, ma, _ := ecnWorld(t, 52, 1, 2, func(n int) bool { return n >= 30 && n < 34 })
	cli, srv, _ := w.connect(80)
	w.transfer(cli, srv, 8<<20, time.Minute)
	ci := cli.Info
	if ma.marked != 4 || srv.Info.CEReceived == 0 {
		t.Fatalf("marked %d, receiver saw %d CE", ma.marked, srv.Info.CEReceived)
	}
	if ci.CWRReductions != 1 {
		t.Fatalf("%d window reductions for one window of CE marks", ci.CWRReductions)
	}
	if ci.Retransmits != 0 || ci.Recoveries != 0 {
		t.Fatalf("retransmits %d recoveries %d: ECN is not loss", ci.Retransmits, ci.Recoveries)
	}
	if want := max(ci.PriorCwnd*717/1024, 2); ci.Ssthresh != want {
		t.Fatalf("ssthresh %d after CE at cwnd %d, want %d", ci.Ssthresh, ci.PriorCwnd, want)
	}
	t.Logf("CE on 4 frames: one reduction, cwnd %d → ssthresh %d; %+v", ci.PriorCwnd, ci.Ssthresh, ci)
}
