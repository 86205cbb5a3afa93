package tcp_test

import (
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/tcp"
)

// TestKeepaliveDefaults: with SO_KEEPALIVE on and Linux's defaults
// (tcp_keepalive_time 7200 s, tcp_keepalive_intvl 75 s,
// tcp_keepalive_probes 9), a connection to a peer that went silent sends
// its first probe (a bare ACK at snd_una-1) 7200 s after keepalive was
// turned on (SO_KEEPALIVE arms the timer for the whole idle time; the
// peer was last heard just before), then one every 75 s, and after the
// ninth unanswered one, at 7200 + 9·75 = 7875 s, sends an RST and fails
// with ETIMEDOUT (tcp_keepalive_timer).
func TestKeepaliveDefaults(t *testing.T) {
	const owd = time.Millisecond
	w := newWorld(t, 111, 1500)
	qa, qb := w.wires(owd)
	cli, _, _ := w.connect(80)
	w.st.Sim.RunFor(10 * time.Millisecond)
	if heard := qb.segs[len(qb.segs)-1].at + owd; heard > w.st.Sim.Now() {
		t.Fatal("segments still in flight")
	}
	on := w.st.Sim.Now()
	qa.segs = nil
	qa.drop = func(*wireSeg) bool { return true }
	var closedAt time.Duration
	cli.OnReadable = func() {
		if cli.State() == tcp.Closed && closedAt == 0 {
			closedAt = w.st.Sim.Now()
		}
	}
	w.a.Exec().Do(func() { cli.SetKeepAlive(true) })
	w.st.Sim.RunFor(8000 * time.Second)
	if !errors.Is(cli.Err(), syscall.ETIMEDOUT) || cli.State() != tcp.Closed {
		t.Fatalf("after 8000 s: %v %v, want CLOSED, ETIMEDOUT", cli.State(), cli.Err())
	}
	if len(qa.segs) != 10 {
		t.Fatalf("%d segments, want 9 probes and an RST", len(qa.segs))
	}
	for i, s := range qa.segs[:9] {
		want := on + 7200*time.Second + time.Duration(i)*75*time.Second
		if s.at != want || s.n != 0 || s.flags != header.TCPFlagACK || s.seq != cli.SndNxt()-1 {
			t.Fatalf("probe %d at +%v flags %v seq %d len %d, want an empty ACK at +%v, seq %d",
				i, s.at-on, s.flags, s.seq, s.n, want-on, cli.SndNxt()-1)
		}
	}
	if s := qa.segs[9]; s.flags&header.TCPFlagRST == 0 || s.seq != cli.SndNxt() || s.at != on+7875*time.Second {
		t.Fatalf("last segment flags %v seq %d at +%v, want an RST, seq %d, at +7875 s", s.flags, s.seq, s.at-on, cli.SndNxt())
	}
	if closedAt != on+7875*time.Second {
		t.Fatalf("ETIMEDOUT at +%v, want +7875 s", closedAt-on)
	}
}
