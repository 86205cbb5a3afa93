package tcp_test

import (
	"testing"
	"time"

	"github.com/usnet/usnet/sched"
	"github.com/usnet/usnet/tcp"
)

// longFatRun moves size bytes over a 100 ms RTT, 100 Mb/s path and returns
// the utilisation after the first quarter (slow start excluded).
func longFatRun(t *testing.T, size int, lock bool) (float64, tcp.Info) {
	w := newWorld(t, 41, 1500)
	w.netem(sched.NetemConfig{Delay: 50 * time.Millisecond, Rate: 100e6, Limit: 10000})
	cli, srv, _ := w.connect(80)
	if lock {
		w.b.Exec().Do(func() { srv.SetRecvBuffer(16 << 10) }) // locks the buffer: no autotuning
	}
	var mark time.Duration
	var markBytes uint64
	end := w.st.Sim.Now()
	w.transferWatch(cli, srv, size, time.Hour, func() {
		if mark == 0 && srv.Info.BytesReceived >= uint64(size/4) {
			mark, markBytes = w.st.Sim.Now(), srv.Info.BytesReceived
		}
		end = w.st.Sim.Now()
	})
	bits := float64(uint64(size)-markBytes) * 8
	return bits / (end - mark).Seconds() / 100e6, cli.Info
}

// TestReceiveAutotuning: the 64 KiB initial window allows 5 Mb/s on a
// 100 ms path; dynamic right-sizing grows it (and the send buffer grows
// with cwnd) until the path is full. With the buffer locked by SO_RCVBUF
// the window stays fixed and the path mostly idle.
func TestReceiveAutotuning(t *testing.T) {
	u, info := longFatRun(t, 48<<20, false)
	if u < 0.8 {
		t.Fatalf("autotuned utilisation %.0f%%, want > 80%%; %+v", u*100, info)
	}
	fixed, _ := longFatRun(t, 4<<20, true)
	if fixed > 0.2 {
		t.Fatalf("fixed-window utilisation %.0f%%: the test does not need autotuning", fixed*100)
	}
	t.Logf("utilisation %.0f%% autotuned, %.0f%% with SO_RCVBUF 16 KiB (a fixed 16 KiB window)", u*100, fixed*100)
}
