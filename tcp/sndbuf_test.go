package tcp_test

import (
	"testing"
	"time"

	"github.com/usnet/usnet/sched"
	"github.com/usnet/usnet/skb"
)

// TestSendBufferTruesize: the send buffer holds truesize, not payload.
// With SO_SNDBUF 100000 (sk_sndbuf 200000) a large write is taken in
// GSO-sized skbs (45 segments of 1448 bytes) while the queued truesize
// is below the buffer — three of them, 195480 bytes, where payload
// accounting would have taken 200000 — and the writer then waits.
func TestSendBufferTruesize(t *testing.T) {
	w := newWorld(t, 62, 1500)
	cli, _, _ := w.connect(80)
	var n, again int
	w.a.Exec().Do(func() {
		cli.SetSendBuffer(100000)
		n, _ = cli.Send(make([]byte, 1<<20))
		again, _ = cli.Send(make([]byte, 1))
	})
	i := cli.TCPInfo()
	goal := 45 * 1448
	if i.SndBuf != 200000 || n != 3*goal || again != 0 {
		t.Fatalf("sndbuf %d: took %d then %d bytes, want %d then 0", i.SndBuf, n, again, 3*goal)
	}
	if i.WmemQueued < i.SndBuf || i.WmemQueued < 3*skb.TruesizeOf(skb.DefaultHeadroom, goal) {
		t.Fatalf("wmem_queued %d below sndbuf %d", i.WmemQueued, i.SndBuf)
	}
	if cli.Writable() {
		t.Fatalf("writable with the buffer full")
	}
}

// TestSendBufferSmallWrites: with Nagle off every one-byte write goes out
// at once in an skb of its own, which costs a small buffer's truesize
// (768 bytes), so SO_SNDBUF 4608 (sk_sndbuf 9216) takes twelve of them
// until ACKs come — not 9216. The ACKs free all of it and the writer is
// woken once.
func TestSendBufferSmallWrites(t *testing.T) {
	w := newWorld(t, 63, 1500)
	cli, _, _ := w.connect(80)
	wakes := 0
	count := 0
	w.a.Exec().Do(func() {
		cli.NoDelay = true
		cli.SetSendBuffer(4608)
		cli.OnWritable = func() { wakes++ }
		for {
			k, err := cli.Send([]byte{byte(count)})
			if err != nil {
				t.Fatal(err)
			}
			if k == 0 {
				break
			}
			count++
		}
	})
	ts := skb.TruesizeOf(skb.DefaultHeadroom, 1)
	want := (9216 + ts - 1) / ts
	i := cli.TCPInfo()
	if count != want || i.WmemQueued != count*ts || i.NotsentBytes != 0 {
		t.Fatalf("took %d one-byte writes, wmem_queued %d, notsent %d; want %d writes of truesize %d, all sent", count, i.WmemQueued, i.NotsentBytes, want, ts)
	}
	w.st.Sim.RunFor(10 * time.Millisecond)
	i = cli.TCPInfo()
	if i.WmemQueued != 0 || wakes != 1 || !cli.Writable() {
		t.Fatalf("after the ACKs: wmem_queued %d, %d wake-ups, writable %v", i.WmemQueued, wakes, cli.Writable())
	}
}

// TestSendBufferWakeAtOneThird: a writer that filled the buffer is woken
// only once ACKs have freed a third of it (sk_stream_write_space: free
// room at least half of what is queued), once, and then finds room for
// a large block.
func TestSendBufferWakeAtOneThird(t *testing.T) {
	w := newWorld(t, 64, 1500)
	cfg := sched.NetemConfig{Delay: 5 * time.Millisecond, Limit: 100000}
	w.a.Exec().Do(func() { w.da.SetQdisc(sched.NewNetem(cfg, w.a.Exec().Rand(), w.st.Pool())) })
	w.b.Exec().Do(func() { w.db.SetQdisc(sched.NewNetem(cfg, w.b.Exec().Rand(), w.st.Pool())) })
	cli, srv, _ := w.connect(80)
	var sndbuf int
	var atWake []int
	maxBefore := 0
	w.a.Exec().Do(func() {
		cli.SetSendBuffer(150000)
		sndbuf = cli.TCPInfo().SndBuf
		cli.OnWritable = func() { atWake = append(atWake, cli.TCPInfo().WmemQueued) }
		cli.Send(make([]byte, 1<<20))
	})
	buf := make([]byte, 1<<20)
	for len(atWake) == 0 && w.st.Sim.Now() < 10*time.Second {
		if q := cli.TCPInfo().WmemQueued; q > maxBefore {
			maxBefore = q
		}
		w.st.Sim.RunFor(100 * time.Microsecond)
		srv.Recv(buf)
	}
	if len(atWake) != 1 {
		t.Fatalf("%d wake-ups", len(atWake))
	}
	if q := atWake[0]; 3*q > 2*sndbuf || 3*maxBefore <= 2*sndbuf {
		t.Fatalf("woken at wmem_queued %d of sndbuf %d (at most %d before)", q, sndbuf, maxBefore)
	}
	t.Logf("woken at wmem_queued %d of sndbuf %d (at most %d before)", atWake[0], sndbuf, maxBefore)
	w.st.Sim.RunFor(50 * time.Millisecond)
	if len(atWake) != 1 {
		t.Fatalf("woken again (%d) without having written", len(atWake))
	}
}

// TestSendBufferAutotuning: an unlocked send buffer starts at room for
// twice IW10 in one-MSS skbs and grows with cwnd while the writer waits
// (tcp_sndbuf_expand from tcp_new_space), up to tcp_wmem[2]; SO_SNDBUF
// locks it. The time spent limited by the buffer (tcpi_sndbuf_limited)
// is most of a transfer through a small locked buffer.
func TestSendBufferAutotuning(t *testing.T) {
	run := func(lock int) (start, end int, limited, took time.Duration) {
		w := newWorld(t, 65, 1500)
		cfg := sched.NetemConfig{Delay: 5 * time.Millisecond, Limit: 100000}
		w.a.Exec().Do(func() { w.da.SetQdisc(sched.NewNetem(cfg, w.a.Exec().Rand(), w.st.Pool())) })
		w.b.Exec().Do(func() { w.db.SetQdisc(sched.NewNetem(cfg, w.b.Exec().Rand(), w.st.Pool())) })
		cli, srv, _ := w.connect(80)
		if lock > 0 {
			w.a.Exec().Do(func() { cli.SetSendBuffer(lock) })
		}
		start = cli.TCPInfo().SndBuf
		took = w.transfer(cli, srv, 4<<20, time.Minute)
		i := cli.TCPInfo()
		return start, i.SndBuf, i.SndbufLimited, took
	}
	perMSS := skb.TruesizeOf(skb.DefaultHeadroom, 1448)
	start, end, _, _ := run(0)
	if start != 2*10*perMSS || end < 8*start || end > 4<<20 {
		t.Fatalf("sndbuf %d at the start (want %d), %d at the end", start, 2*10*perMSS, end)
	}
	t.Logf("autotuned: sndbuf %d at the start, %d at the end", start, end)
	start, end, limited, took := run(16384)
	if start != 32768 || end != 32768 || limited < took/2 {
		t.Fatalf("locked: sndbuf %d then %d; limited by it for %v of %v", start, end, limited, took)
	}
	t.Logf("locked at 32768: limited by the send buffer for %v of %v", limited, took)
}
