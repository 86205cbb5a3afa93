package tcp_test

import (
	"crypto/sha256"
	"errors"
	"math/rand/v2"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/sched"
	"github.com/usnet/usnet/skb"
	"github.com/usnet/usnet/tcp"
)

func TestConnectRefused(t *testing.T) {
	w := newWorld(t, 2, 1500)
	c, err := w.a.TCP.Connect(netip.AddrPort{}, netip.AddrPortFrom(addrB, 81))
	if err != nil {
		t.Fatal(err)
	}
	w.run(time.Second, func() bool { return c.Err() != nil })
	if !errors.Is(c.Err(), syscall.ECONNREFUSED) || c.State() != tcp.Closed {
		t.Fatalf("err %v state %v, want ECONNREFUSED, CLOSED", c.Err(), c.State())
	}
}

func TestSimultaneousOpen(t *testing.T) {
	w := newWorld(t, 3, 1500)
	pa, pb := netip.AddrPortFrom(addrA, 5000), netip.AddrPortFrom(addrB, 6000)
	ca, err := w.a.TCP.Connect(pa, pb)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := w.b.TCP.Connect(pb, pa)
	if err != nil {
		t.Fatal(err)
	}
	if !w.run(5*time.Second, func() bool { return ca.State() == tcp.Established && cb.State() == tcp.Established }) {
		t.Fatalf("states %v %v errs %v %v", ca.State(), cb.State(), ca.Err(), cb.Err())
	}
	w.transfer(ca, cb, 100000, time.Minute)
	w.transfer(cb, ca, 100000, time.Minute)
}

func TestSimultaneousClose(t *testing.T) {
	w := newWorld(t, 4, 1500)
	cli, srv, _ := w.connect(80)
	cli.Close()
	srv.Close()
	if !w.run(time.Second, func() bool { return cli.State() == tcp.TimeWait && srv.State() == tcp.TimeWait }) {
		t.Fatalf("states %v %v, want TIME-WAIT both", cli.State(), srv.State())
	}
	w.run(59*time.Second, func() bool { return false })
	if cli.State() != tcp.TimeWait {
		t.Fatalf("left TIME-WAIT early: %v", cli.State())
	}
	w.run(2*time.Second, func() bool { return false })
	if cli.State() != tcp.Closed || srv.State() != tcp.Closed {
		t.Fatalf("after 61 s: %v %v", cli.State(), srv.State())
	}
}

func TestOrderlyCloseTimeWait(t *testing.T) {
	w := newWorld(t, 5, 1500)
	cli, srv, _ := w.connect(80)
	cli.Close()
	w.run(time.Second, func() bool { return srv.State() == tcp.CloseWait })
	if cli.State() != tcp.FinWait2 {
		t.Fatalf("active closer in %v, want FIN-WAIT-2", cli.State())
	}
	if _, eof, _ := srv.Recv(make([]byte, 10)); !eof {
		t.Fatal("no EOF at the passive side")
	}
	srv.Close()
	w.run(time.Second, func() bool { return srv.State() == tcp.Closed })
	if cli.State() != tcp.TimeWait {
		t.Fatalf("active closer in %v, want TIME-WAIT", cli.State())
	}
	w.run(61*time.Second, func() bool { return cli.State() == tcp.Closed })
	if cli.State() != tcp.Closed {
		t.Fatal("TIME-WAIT did not end")
	}
}

// TestResetInStates aborts one side in each state the other can be in and
// checks what the other side reports.
func TestResetInStates(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(w *world, cli, srv *tcp.Conn)
		want  error
		state tcp.State
	}{
		{"established", func(w *world, cli, srv *tcp.Conn) {}, syscall.ECONNRESET, tcp.Established},
		{"fin-wait-2", func(w *world, cli, srv *tcp.Conn) { cli.CloseWrite() }, syscall.ECONNRESET, tcp.FinWait2},
		{"close-wait", func(w *world, cli, srv *tcp.Conn) { srv.CloseWrite() }, syscall.EPIPE, tcp.CloseWait},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, 6, 1500)
			cli, srv, _ := w.connect(80)
			tc.setup(w, cli, srv)
			w.run(100*time.Millisecond, func() bool { return false })
			if cli.State() != tc.state {
				t.Fatalf("client in %v, want %v", cli.State(), tc.state)
			}
			srv.Abort()
			w.run(time.Second, func() bool { return cli.State() == tcp.Closed })
			if !errors.Is(cli.Err(), tc.want) || cli.State() != tcp.Closed {
				t.Fatalf("client: %v %v, want %v", cli.State(), cli.Err(), tc.want)
			}
			// After the peer's FIN (CLOSE_WAIT) the reader sees end of
			// file, as on Linux, where recvmsg tests SOCK_DONE first.
			_, eof, err := cli.Recv(make([]byte, 4))
			if tc.state == tcp.CloseWait && (!eof || err != nil) || tc.state != tcp.CloseWait && !errors.Is(err, tc.want) {
				t.Fatalf("Recv after RST: eof %v err %v", eof, err)
			}
		})
	}
	t.Run("syn-recv", func(t *testing.T) {
		// A listener closed while the handshake is half done resets it.
		w := newWorld(t, 7, 1500)
		l, _ := w.b.TCP.Listen(netip.AddrPortFrom(addrB, 80), 8)
		c, _ := w.a.TCP.Connect(netip.AddrPort{}, netip.AddrPortFrom(addrB, 80))
		w.run(10*time.Millisecond, func() bool { return c.State() == tcp.Established })
		l.Close()
		w.run(time.Second, func() bool { return c.State() == tcp.Closed })
		if !errors.Is(c.Err(), syscall.ECONNRESET) {
			t.Fatalf("client after listener close: %v %v", c.State(), c.Err())
		}
	})
}

// TestRSTOutOfWindowIgnored checks RFC 5961: an RST whose sequence is
// not exactly rcv_nxt only draws a challenge ACK.
func TestRSTChallengeACK(t *testing.T) {
	w := newWorld(t, 8, 1500)
	cli, srv, _ := w.connect(80)
	// Forge an RST from b with sequence rcv_nxt+1000 into a.
	segs := 0
	w.a.Dev.AddTap(w.da, func(d *netdev.Device, b *skb.Buf, dir netdev.Direction, now int64) {
		if dir == netdev.DirOut {
			segs++
		}
	})
	forgeRST(t, w, srv, 1000)
	w.run(10*time.Millisecond, func() bool { return false })
	if cli.State() != tcp.Established || cli.Err() != nil {
		t.Fatalf("in-window RST not exact reset the connection: %v %v", cli.State(), cli.Err())
	}
	if segs == 0 {
		t.Fatal("no challenge ACK")
	}
	forgeRST(t, w, srv, 0)
	w.run(10*time.Millisecond, func() bool { return false })
	if !errors.Is(cli.Err(), syscall.ECONNRESET) {
		t.Fatalf("exact RST: %v %v", cli.State(), cli.Err())
	}
}

// TestDeterminism runs the same lossy transfer twice and compares the
// hash of every frame on the wire.
func TestDeterminism(t *testing.T) {
	run := func() [32]byte {
		w := newWorld(t, 42, 1500)
		h := sha256.New()
		w.a.Dev.AddTap(nil, func(d *netdev.Device, b *skb.Buf, dir netdev.Direction, now int64) {
			h.Write([]byte{byte(dir), byte(now), byte(now >> 8), byte(now >> 16), byte(now >> 24)})
			h.Write(b.Bytes())
		})
		w.netem(lossy)
		cli, srv, _ := w.connect(80)
		w.transfer(cli, srv, 2<<20, time.Hour)
		var s [32]byte
		h.Sum(s[:0])
		return s
	}
	if a, b := run(), run(); a != b {
		t.Fatalf("runs differ: %x %x", a, b)
	}
}

// TestSynFloodCookies floods a listener with SYNs from addresses that
// never answer; with its SYN queue full, a real client still connects
// through a SYN cookie and moves data.
func TestSynFloodCookies(t *testing.T) {
	w := newWorld(t, 11, 1500)
	l, err := w.b.TCP.Listen(netip.AddrPortFrom(addrB, 80), 8)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200; i++ {
		src := netip.AddrFrom4([4]byte{10, 9, 0, byte(100 + i%100)})
		forgeSYN(t, w, src, uint16(1000+i), netip.AddrPortFrom(addrB, 80))
	}
	w.run(10*time.Millisecond, func() bool { return false })
	if w.b.TCP.Stats.SyncookiesSent == 0 {
		t.Fatalf("no cookies sent: %+v", w.b.TCP.Stats)
	}
	cli, err := w.a.TCP.Connect(netip.AddrPort{}, netip.AddrPortFrom(addrB, 80))
	if err != nil {
		t.Fatal(err)
	}
	var srv *tcp.Conn
	if !w.run(5*time.Second, func() bool {
		if srv == nil {
			srv = l.Accept()
		}
		return srv != nil && cli.State() == tcp.Established
	}) {
		t.Fatalf("no connection: %v %v %+v", cli.State(), cli.Err(), w.b.TCP.Stats)
	}
	if w.b.TCP.Stats.SyncookiesRecv != 1 {
		t.Fatalf("connection not made from a cookie: %+v", w.b.TCP.Stats)
	}
	w.transfer(cli, srv, 1<<20, time.Minute)
	w.transfer(srv, cli, 1<<20, time.Minute)
}

// TestKeepalive: an idle connection to a live peer survives its probes;
// once the path dies, KeepCnt unanswered probes end it with ETIMEDOUT.
func TestKeepalive(t *testing.T) {
	w := newWorld(t, 12, 1500)
	cli, srv, _ := w.connect(80)
	cli.SetKeepAliveParams(10*time.Second, 2*time.Second, 3)
	cli.SetKeepAlive(true)
	w.run(time.Minute, func() bool { return false })
	if cli.State() != tcp.Established || srv.State() != tcp.Established {
		t.Fatalf("keepalive broke a live connection: %v %v", cli.State(), cli.Err())
	}
	if srv.Info.SegsIn < 5 {
		t.Fatalf("peer saw %d segments: no probes?", srv.Info.SegsIn)
	}
	w.netem(sched.NetemConfig{Loss: 1})
	start := w.st.Sim.Now()
	w.run(time.Minute, func() bool { return cli.State() == tcp.Closed })
	if !errors.Is(cli.Err(), syscall.ETIMEDOUT) {
		t.Fatalf("dead peer: %v %v", cli.State(), cli.Err())
	}
	// The last probe answered ~10 s before; 3 probes 2 s apart, then one
	// more interval.
	if d := w.st.Sim.Now() - start; d > 20*time.Second {
		t.Fatalf("took %v", d)
	}
}

// TestZeroWindowProbe: a receiver that stops reading closes its window;
// the sender probes and resumes when the reader drains.
func TestZeroWindowProbe(t *testing.T) {
	w := newWorld(t, 13, 1500)
	cli, srv, _ := w.connect(80)
	srv.SetRecvBuffer(32 << 10)
	data := make([]byte, 16<<20)
	sent := 0
	w.run(5*time.Second, func() bool {
		n, _ := cli.Send(data[sent:])
		sent += n
		return false
	})
	if sent == len(data) {
		t.Fatal("sender never blocked")
	}
	segs := srv.Info.SegsIn
	w.run(30*time.Second, func() bool { return false })
	if srv.Info.SegsIn == segs {
		t.Fatal("no zero-window probes")
	}
	if cli.State() != tcp.Established {
		t.Fatalf("sender gave up: %v %v", cli.State(), cli.Err())
	}
	buf := make([]byte, 64<<10)
	got := 0
	w.run(time.Minute, func() bool {
		for {
			n, _, _ := srv.Recv(buf)
			if n == 0 {
				break
			}
			got += n
		}
		if sent < len(data) {
			n, _ := cli.Send(data[sent:])
			sent += n
		}
		return got == len(data)
	})
	if got != len(data) {
		t.Fatalf("got %d of %d after the window reopened", got, len(data))
	}
}

// TestPMTU: an ICMP fragmentation-needed error about our segment
// shrinks the MSS and the transfer continues in smaller segments.
func TestPMTU(t *testing.T) {
	w := newWorld(t, 14, 1500)
	cli, srv, _ := w.connect(80)
	w.a.Exec().Do(func() {
		inner := make([]byte, 28)
		inner[0] = 0x45
		inner[9] = 6
		a4, b4 := addrA.As4(), addrB.As4()
		copy(inner[12:], a4[:])
		copy(inner[16:], b4[:])
		lp, rp := cli.LocalAddr().Port(), cli.RemoteAddr().Port()
		inner[20], inner[21], inner[22], inner[23] = byte(lp>>8), byte(lp), byte(rp>>8), byte(rp)
		w.a.TCP.Error(3, 4, 1280, inner)
		w.a.TCP.Error(3, 4, 1280, inner[:3]) // truncated: ignored, no panic
	})
	var gso uint16
	w.a.Dev.AddTap(w.da, func(d *netdev.Device, b *skb.Buf, dir netdev.Direction, now int64) {
		if dir == netdev.DirOut {
			gso = max(gso, b.GSOSize)
		}
	})
	w.transfer(cli, srv, 1<<20, time.Minute)
	if gso != 1280-40-12 {
		t.Fatalf("segment size %d after PMTU 1280", gso)
	}
}

// TestRetries2 gives up on an unreachable peer with ETIMEDOUT after
// tcp_retries2 backed-off retransmissions.
func TestRetries2(t *testing.T) {
	w := newWorld(t, 15, 1500)
	cli, _, _ := w.connect(80)
	w.netem(sched.NetemConfig{Loss: 1})
	cli.Send(make([]byte, 1000))
	start := w.st.Sim.Now()
	w.run(time.Hour, func() bool { return cli.State() == tcp.Closed })
	if !errors.Is(cli.Err(), syscall.ETIMEDOUT) {
		t.Fatalf("%v %v", cli.State(), cli.Err())
	}
	// Linux: ~924.6 s for tcp_retries2 = 15 with a 200 ms RTO.
	if d := w.st.Sim.Now() - start; d < 800*time.Second || d > 1000*time.Second {
		t.Fatalf("gave up after %v", d)
	}
}

// TestGarbageSegments throws random headers, flags, options and payloads
// at a connection and a listener: nothing may panic, and the connection
// must still work if it survives (a random RST can only hit rcv_nxt by
// chance).
func TestGarbageSegments(t *testing.T) {
	w := newWorld(t, 16, 1500)
	cli, srv, _ := w.connect(80)
	rng := rand.New(rand.NewPCG(7, 7))
	for i := 0; i < 3000; i++ {
		dport := uint16(80)
		if i%2 == 0 {
			dport = cli.LocalAddr().Port()
		}
		w.b.Exec().Do(func() {
			rt, err := w.b.IPv4.RouteOutput(&ipv4.FlowKey{Dst: addrA, Proto: 6})
			if err != nil {
				t.Fatal(err)
			}
			n := 20 + rng.IntN(100)
			b := w.st.Pool().Get(skb.DefaultHeadroom, n)
			p := b.Put(n)
			for j := range p {
				p[j] = byte(rng.Uint32())
			}
			h := header.TCP(p)
			h.SetSrcPort(80)
			h.SetDstPort(dport)
			if i%3 == 0 {
				h.SetSeq(srv.SndNxt() + uint32(rng.IntN(1000)))
			}
			h[12] = byte(5+rng.IntN(11)) << 4
			h.FillChecksum(addrB, addrA)
			if i%2 == 0 {
				w.b.IPv4.Output(b, addrB, addrA, 6, &rt, ipv4.SendOpts{})
			} else {
				// To the listener side: from a towards b's port 80.
				b.Free()
			}
		})
		if i%100 == 0 {
			w.run(time.Millisecond, func() bool { return false })
		}
	}
	w.run(time.Second, func() bool { return false })
	if cli.State() == tcp.Established {
		w.transfer(cli, srv, 1<<20, time.Minute)
	}
	for i := 0; i < 500; i++ {
		src := netip.AddrFrom4([4]byte{10, 9, 0, byte(1 + i%250)})
		forgeSYN(t, w, src, uint16(i), netip.AddrPortFrom(addrB, 80))
	}
	w.run(time.Second, func() bool { return false })
}
