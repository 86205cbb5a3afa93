package tcp_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/usnet/usnet/sched"
)

// TestRecvQueueMemory fills a receiver that does not read with tiny
// segments (Nagle off), then with bulk data, each time until the window
// closes: the truesize charged for the queue stays within the receive
// buffer (small payloads are coalesced or copied rather than each
// pinning a packet buffer), what is read back is the stream, and every
// packet buffer returns to the pool after Close.
func TestRecvQueueMemory(t *testing.T) {
	w := newWorld(t, 41, 1500)
	// Delay so that segments arrive one by one, not merged by GRO.
	w.netem(sched.NetemConfig{Delay: 100 * time.Microsecond, Limit: 100000})
	cli, srv, l := w.connect(80)
	cli.NoDelay = true
	var stream []byte
	send := func(size int, limit time.Duration, until func() bool) {
		w.run(limit, func() bool {
			p := make([]byte, size)
			for i := range p {
				p[i] = byte(len(stream) + i*7)
			}
			if n, _ := cli.Send(p); n > 0 {
				stream = append(stream, p[:n]...)
			}
			return until()
		})
	}
	check := func(what string) {
		if m, s := srv.RcvMem(), srv.RcvSpace(); m > s {
			t.Fatalf("%s: receive queues charge %d bytes, buffer %d", what, m, s)
		}
	}
	for range 3000 {
		send(10, time.Second, func() bool { return true })
		w.st.Sim.RunFor(20 * time.Microsecond)
		check("tiny segments")
	}
	// Bulk until the window has long been closed.
	send(64<<10, time.Second, func() bool { check("bulk"); return false })
	if srv.RcvMem() == 0 || cli.Info.BytesAcked == uint64(len(stream)) {
		t.Fatalf("window never closed: %d queued at the receiver", srv.RcvMem())
	}
	var got []byte
	buf := make([]byte, 100000)
	w.run(10*time.Second, func() bool {
		for {
			n, _, err := srv.Recv(buf)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
			got = append(got, buf[:n]...)
		}
		check("draining")
		return len(got) == len(stream)
	})
	if !bytes.Equal(got, stream) {
		t.Fatalf("read %d bytes, sent %d; content differs", len(got), len(stream))
	}
	cli.Close()
	srv.Close()
	l.Close()
	w.st.Sim.RunFor(2 * time.Minute)
	if live := w.st.Pool().Live(); live != 0 {
		t.Fatalf("%d packet buffers not returned", live)
	}
}
