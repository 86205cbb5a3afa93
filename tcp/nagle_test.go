package tcp_test

import (
	"testing"
	"time"
)

// TestNagle checks tcp_nagle_check with Minshall's rule: with Nagle on,
// a short segment waits while an earlier short segment is unacknowledged,
// and the writes made meanwhile leave together when the ACK comes; a
// short segment behind full-sized ones only goes at once. With
// TCP_NODELAY every write is a segment at once.
func TestNagle(t *testing.T) {
	const owd = 5 * time.Millisecond
	for _, noDelay := range []bool{false, true} {
		w := newWorld(t, 104, 1500)
		qa, _ := w.wires(owd)
		cli, srv, _ := w.connect(80)
		cli.NoDelay = noDelay
		w.st.Sim.RunFor(20 * time.Millisecond)

		// A short write, then ten tiny ones while it is in flight.
		qa.segs = nil
		start := w.st.Sim.Now()
		cli.Send(make([]byte, 100))
		for i := 0; i < 10; i++ {
			cli.Send(make([]byte, 10))
		}
		sendAll(t, w, cli, srv, 0, time.Second)
		w.run(time.Second, func() bool { return cli.Info.BytesAcked == 200 })
		d := qa.data()
		if noDelay {
			if len(d) != 11 {
				t.Fatalf("NoDelay: %d segments, want 11", len(d))
			}
			for i, s := range d {
				if s.at != start {
					t.Fatalf("NoDelay: segment %d sent at +%v, want at once", i, s.at-start)
				}
			}
		} else {
			if len(d) != 2 || d[0].n != 100 || d[1].n != 100 {
				t.Fatalf("Nagle: segments %+v, want 100 bytes then the ten writes as one of 100", d)
			}
			if d[0].at != start || d[1].at != start+2*owd {
				t.Fatalf("Nagle: sent at +%v and +%v, want 0 and one RTT (the quick ACK)", d[0].at-start, d[1].at-start)
			}
		}

		// Minshall: a full segment, then a tiny write: no short
		// segment is outstanding, so the tiny one goes at once too.
		w.st.Sim.RunFor(100 * time.Millisecond)
		qa.segs = nil
		start = w.st.Sim.Now()
		cli.Send(make([]byte, 1448))
		cli.Send(make([]byte, 10))
		w.run(time.Second, func() bool { return cli.Info.BytesAcked == 200+1458 })
		d = qa.data()
		if len(d) != 2 || d[0].n != 1448 || d[1].n != 10 || d[1].at != start {
			t.Fatalf("NoDelay %v: full segment then a tiny one: %+v, want both at once", noDelay, d)
		}
	}
}
