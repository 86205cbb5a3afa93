package tcp_test

import (
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/usnet/usnet/sched"
	"github.com/usnet/usnet/tcp"
)

// drainQueued reads what c has queued; eof reports end-of-file.
func drainQueued(c *tcp.Conn) (string, bool, error) {
	buf := make([]byte, 1<<16)
	var out []byte
	for {
		n, eof, err := c.Recv(buf)
		out = append(out, buf[:n]...)
		if n == 0 || err != nil {
			return string(out), eof, err
		}
	}
}

// TestCloseRead: shutdown(SHUT_RD) as Linux 6.18 does it (checked against
// the kernel on loopback): data already queued is still read, then an
// empty queue reads as end-of-file at once; data the peer sends later is
// accepted, acknowledged and readable; both sides keep sending.
func TestCloseRead(t *testing.T) {
	w := newWorld(t, 61, 1500)
	cli, srv, _ := w.connect(80)
	w.b.Exec().Do(func() { srv.Send([]byte("hello")) })
	w.run(time.Second, func() bool { return cli.Readable() })
	var got string
	var eof bool
	var err error
	w.a.Exec().Do(func() {
		if err = cli.CloseRead(); err != nil {
			return
		}
		got, eof, err = drainQueued(cli)
	})
	if err != nil || got != "hello" || !eof {
		t.Fatalf("after CloseRead: read %q eof %v err %v, want the queued hello then EOF", got, eof, err)
	}
	w.b.Exec().Do(func() { srv.Send([]byte("world")) })
	w.run(time.Second, func() bool { return cli.RcvNxt() == srv.SndNxt() && srv.Info.BytesAcked == 10 })
	w.a.Exec().Do(func() { got, eof, err = drainQueued(cli) })
	if err != nil || got != "world" || !eof {
		t.Fatalf("later data: read %q eof %v err %v, want world then EOF", got, eof, err)
	}
	w.a.Exec().Do(func() { cli.Send([]byte("ping")) })
	w.run(time.Second, func() bool { return srv.Readable() })
	w.b.Exec().Do(func() { got, _, err = drainQueued(srv) })
	if got != "ping" || err != nil || cli.State() != tcp.Established || srv.State() != tcp.Established {
		t.Fatalf("peer read %q %v; states %v %v", got, err, cli.State(), srv.State())
	}
	if s := w.a.TCP.Stats; s.OutRsts != 0 || s.TCPAbortOnData != 0 {
		t.Fatalf("CloseRead reset the connection: %+v", s)
	}
}

// TestCloseReadAndWriteResetsOnData: with both directions shut down,
// data from the peer resets the connection as after close(2)
// (TCPAbortOnData), and the reader sees ECONNRESET.
func TestCloseReadAndWriteResetsOnData(t *testing.T) {
	w := newWorld(t, 62, 1500)
	cli, srv, _ := w.connect(80)
	w.a.Exec().Do(func() {
		cli.CloseRead()
		cli.CloseWrite()
	})
	w.run(time.Second, func() bool { return cli.State() == tcp.FinWait2 })
	w.b.Exec().Do(func() { srv.Send([]byte("late")) })
	w.run(time.Second, func() bool { return cli.State() == tcp.Closed })
	if w.a.TCP.Stats.TCPAbortOnData != 1 {
		t.Fatalf("TCPAbortOnData %d, state %v", w.a.TCP.Stats.TCPAbortOnData, cli.State())
	}
	var err error
	w.a.Exec().Do(func() { _, _, err = cli.Recv(make([]byte, 8)) })
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("read after the reset: %v", err)
	}
}

// TestCloseLingerDrains: close(2) with SO_LINGER 10 s while 1 MiB is
// still queued returns once the data and the FIN are acknowledged, long
// before the timeout, without a reset.
func TestCloseLingerDrains(t *testing.T) {
	w := newWorld(t, 63, 1500)
	w.netem(sched.NetemConfig{Delay: 5 * time.Millisecond, Limit: 10000})
	cli, srv, _ := w.connect(80)
	data := make([]byte, 1<<20)
	var queued int
	w.a.Exec().Do(func() { cli.SetSendBuffer(1 << 20); queued, _ = cli.Send(data) })
	if queued != len(data) {
		t.Fatalf("queued %d", queued)
	}
	start := w.st.Sim.Now()
	var doneAt time.Duration
	drained := false
	w.a.Exec().Do(func() {
		cli.CloseLinger(10*time.Second, func(ok bool) { doneAt, drained = w.st.Sim.Now(), ok })
	})
	read := 0
	buf := make([]byte, 1<<16)
	w.run(20*time.Second, func() bool {
		for {
			n, _, _ := srv.Recv(buf)
			if n == 0 {
				break
			}
			read += n
		}
		return doneAt != 0
	})
	if !drained || read != len(data) || cli.State() != tcp.FinWait2 {
		t.Fatalf("linger ended drained=%v after %v; read %d; state %v", drained, doneAt-start, read, cli.State())
	}
	if took := doneAt - start; took > time.Second {
		t.Fatalf("linger took %v to drain 1 MiB over a 10 ms path", took)
	}
	if w.a.TCP.Stats.OutRsts != 0 {
		t.Fatalf("reset sent")
	}
}

// TestCloseLingerTimeout: a peer that never reads keeps the data queued;
// close(2) with SO_LINGER 2 s gives up after exactly 2 s and the
// connection carries on in FIN_WAIT1 (no reset), delivering the rest once
// the peer reads.
func TestCloseLingerTimeout(t *testing.T) {
	w := newWorld(t, 64, 1500)
	cli, srv, _ := w.connect(80)
	w.b.Exec().Do(func() { srv.SetRecvBuffer(16 << 10) })
	data := make([]byte, 256<<10)
	w.a.Exec().Do(func() { cli.SetSendBuffer(1 << 20); cli.Send(data) })
	w.run(100*time.Millisecond, func() bool { return false })
	start := w.st.Sim.Now()
	var doneAt time.Duration
	drained := true
	w.a.Exec().Do(func() {
		cli.CloseLinger(2*time.Second, func(ok bool) { doneAt, drained = w.st.Sim.Now(), ok })
	})
	w.run(5*time.Second, func() bool { return doneAt != 0 })
	if drained || doneAt-start != 2*time.Second || cli.State() != tcp.FinWait1 {
		t.Fatalf("linger ended drained=%v after %v, state %v; want a timeout at 2s in FIN-WAIT-1", drained, doneAt-start, cli.State())
	}
	read := 0
	buf := make([]byte, 1<<16)
	if !w.run(time.Minute, func() bool {
		for {
			n, _, _ := srv.Recv(buf)
			if n == 0 {
				break
			}
			read += n
		}
		return read == len(data) && cli.State() == tcp.FinWait2
	}) {
		t.Fatalf("after the linger timeout: read %d of %d, client %v", read, len(data), cli.State())
	}
}

// TestCloseLingerUnreadData: unread data still makes close(2) a reset,
// linger or not, and the wait ends at once.
func TestCloseLingerUnreadData(t *testing.T) {
	w := newWorld(t, 65, 1500)
	cli, srv, _ := w.connect(80)
	w.b.Exec().Do(func() { srv.Send([]byte("unread")) })
	w.run(time.Second, func() bool { return cli.Readable() })
	called, drained := false, true
	w.a.Exec().Do(func() { cli.CloseLinger(time.Second, func(ok bool) { called, drained = true, ok }) })
	if !called || drained || cli.State() != tcp.Closed || w.a.TCP.Stats.TCPAbortOnClose != 1 {
		t.Fatalf("called %v drained %v state %v stats %+v", called, drained, cli.State(), w.a.TCP.Stats)
	}
}
