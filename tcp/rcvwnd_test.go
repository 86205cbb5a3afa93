package tcp_test

import (
	"testing"
	"time"

	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/sched"
	"github.com/usnet/usnet/skb"
	"github.com/usnet/usnet/tcp"
)

// advert is one window a side advertised: the segment's flags, the
// window in bytes (scaled unless SYN) and its right edge, and how many
// bytes the advertiser had received by then.
type advert struct {
	flags    header.TCPFlags
	win      uint32
	edge     uint32
	received uint64
}

// recordWindows taps d's outgoing TCP segments in ns; conn, once set,
// gives the bytes received at each.
func recordWindows(ns interface {
	AddTap(*netdev.Device, netdev.TapFunc) func()
}, d *netdev.Device, shift uint8, conn **tcp.Conn, out *[]advert) {
	ns.AddTap(d, func(_ *netdev.Device, b *skb.Buf, dir netdev.Direction, _ int64) {
		fr := b.Bytes()
		if dir != netdev.DirOut || fr[12] != 8 || fr[13] != 0 || fr[14+9] != 6 {
			return
		}
		h := header.TCP(fr[14+20:])
		a := advert{flags: h.Flags(), win: uint32(h.Window())}
		if a.flags&header.TCPFlagSYN == 0 {
			a.win <<= shift
		}
		a.edge = h.Ack() + a.win
		if *conn != nil {
			a.received = (*conn).Info.BytesReceived
		}
		*out = append(*out, a)
	})
}

// TestHandshakeWindows: the windows Linux offers at MTU 1500 with the
// default tcp_rmem: 64240 in the SYN (44 segments of 1460), 65160 in the
// SYN-ACK (45 of 1448, timestamps on), and "win 63" (64512 at scale 10,
// tcp_rmem[2] being 32 MiB) in the client's first ACK, which keeps the
// SYN's right edge.
func TestHandshakeWindows(t *testing.T) {
	w := newWorld(t, 51, 1500)
	var cliAds []advert
	var none *tcp.Conn
	recordWindows(w.a.Dev, w.da, 10, &none, &cliAds)
	var srvAds []advert
	recordWindows(w.b.Dev, w.db, 10, &none, &srvAds)
	cli, srv, _ := w.connect(80)
	if len(cliAds) < 2 || len(srvAds) < 1 {
		t.Fatalf("captured %d client and %d server segments", len(cliAds), len(srvAds))
	}
	if cliAds[0].flags != header.TCPFlagSYN || cliAds[0].win != 64240 {
		t.Fatalf("SYN window %d (%v), want 64240", cliAds[0].win, cliAds[0].flags)
	}
	if srvAds[0].flags != header.TCPFlagSYN|header.TCPFlagACK || srvAds[0].win != 65160 {
		t.Fatalf("SYN-ACK window %d (%v), want 65160", srvAds[0].win, srvAds[0].flags)
	}
	if cliAds[1].win != 63<<10 {
		t.Fatalf("first ACK window %d, want 63<<10", cliAds[1].win)
	}
	ci, si := cli.TCPInfo(), srv.TCPInfo()
	if ci.RcvSsthresh != 64076 || si.RcvSsthresh != 64076 {
		t.Fatalf("rcv_ssthresh client %d server %d, want 64076 (one MSS below the 64 KiB buffer)", ci.RcvSsthresh, si.RcvSsthresh)
	}
}

// TestWindowGrowsWithData: a receiver that reads everything at once
// offers the initial window first and widens it only as data arrives:
// each packet earns at most twice its payload (tcp_grow_window), so every
// window advertised is at most the initial one plus twice the bytes
// received so far. The right edge never moves left, and over a 10 ms path
// the window opens far beyond 64 KiB as autotuning grows the buffer.
func TestWindowGrowsWithData(t *testing.T) {
	w := newWorld(t, 52, 1500)
	w.netem(sched.NetemConfig{Delay: 5 * time.Millisecond, Limit: 100000})
	var srv *tcp.Conn
	var ads []advert
	recordWindows(w.b.Dev, w.db, 10, &srv, &ads)
	cli, s, _ := w.connect(80)
	srv = s
	w.transfer(cli, srv, 16<<20, time.Minute)
	var prevEdge uint32
	grown, maxWin := false, uint32(0)
	steps := 0
	for i, a := range ads {
		if a.flags&header.TCPFlagSYN != 0 || a.flags&header.TCPFlagACK == 0 {
			continue
		}
		if bound := 64256 + 2*a.received + 128; uint64(a.win) > bound {
			t.Fatalf("advert %d: window %d after %d bytes received, beyond %d", i, a.win, a.received, bound)
		}
		if prevEdge != 0 && int32(a.edge-prevEdge) < 0 && a.flags&header.TCPFlagFIN == 0 {
			t.Fatalf("advert %d: right edge moved left by %d", i, prevEdge-a.edge)
		}
		if a.win > maxWin {
			maxWin = a.win
			steps++
		}
		if a.received == 0 && a.win > 64256 {
			t.Fatalf("advert %d: window %d before any data", i, a.win)
		}
		grown = grown || a.win > 1<<20
		prevEdge = a.edge
	}
	if !grown || steps < 4 {
		t.Fatalf("window reached %d in %d steps, want > 1 MiB in several", maxWin, steps)
	}
	if i := srv.TCPInfo(); i.RcvSsthresh <= 1<<20 || i.RcvMSS != 1448 {
		t.Fatalf("rcv_ssthresh %d, rcv_mss %d at the end (want > 1 MiB, the GSO size 1448)", i.RcvSsthresh, i.RcvMSS)
	}
	t.Logf("window grew to %d in %d steps over %d adverts", maxWin, steps, len(ads))
}

// TestTinySegmentsDoNotGrowWindow: a peer trickling 100-byte segments (a
// poor payload/truesize ratio, under tcp_grow_window's 128-byte floor;
// 50 a millisecond, so they are never coalesced into larger ones) never
// earns more than the initial window, however much it sends; the same
// bytes in full segments, as fast as they go, do.
func TestTinySegmentsDoNotGrowWindow(t *testing.T) {
	run := func(size, perMs int) (tcp.Info, uint32) {
		w := newWorld(t, 53, 1500)
		var srv *tcp.Conn
		var ads []advert
		recordWindows(w.b.Dev, w.db, 10, &srv, &ads)
		cli, s, _ := w.connect(80)
		srv = s
		cli.NoDelay = true
		p := make([]byte, size)
		buf := make([]byte, 64<<10)
		total := 0
		w.run(10*time.Second, func() bool {
			for k := 0; k < perMs && total < 1<<20; k++ {
				n, _ := cli.Send(p)
				if n == 0 {
					break
				}
				total += n
			}
			for {
				if n, _, _ := srv.Recv(buf); n == 0 {
					break
				}
			}
			return srv.Info.BytesReceived >= 1<<20
		})
		var maxWin uint32
		for _, a := range ads {
			if a.flags&header.TCPFlagSYN == 0 {
				maxWin = max(maxWin, a.win)
			}
		}
		return srv.TCPInfo(), maxWin
	}
	tiny, tinyMax := run(100, 50)
	// The SYN-ACK offered 65160: the first ACKs keep that edge (65536
	// after rounding up to the scale unit, 1024), later ones offer
	// rcv_ssthresh.
	if tiny.BytesReceived < 1<<20 || tiny.RcvSsthresh != 64076 || tinyMax > 65536 {
		t.Fatalf("100-byte segments: %d bytes, rcv_ssthresh %d, largest window %d; want 64076 and at most 65536", tiny.BytesReceived, tiny.RcvSsthresh, tinyMax)
	}
	full, fullMax := run(1448, 1000)
	if full.RcvSsthresh <= 64076 || fullMax <= 65536 {
		t.Fatalf("full segments: rcv_ssthresh %d, largest window %d: no growth", full.RcvSsthresh, fullMax)
	}
	t.Logf("tiny: rcv_ssthresh %d window ≤ %d; full: %d, %d", tiny.RcvSsthresh, tinyMax, full.RcvSsthresh, fullMax)
}

// TestRecvBufferSetsWindow: SO_RCVBUF n allows a window of about n, as in
// Linux (sk_rcvbuf is 2n, the window half of it), and set on a connection
// it moves the clamp: a receiver that raised it to 4 MiB and does not
// read takes about 4 MiB, not the initial 64 KiB (as Linux 6.18 does over
// loopback, where the clamp follows sk_rcvbuf).
func TestRecvBufferSetsWindow(t *testing.T) {
	w := newWorld(t, 55, 1500)
	cli, srv, _ := w.connect(80)
	w.b.Exec().Do(func() { srv.SetRecvBuffer(4 << 20) })
	data := make([]byte, 8<<20)
	sent := 0
	w.run(2*time.Second, func() bool {
		n, _ := cli.Send(data[sent:])
		sent += n
		return false
	})
	if got := srv.Info.BytesReceived; got < 3<<20 || got > 4<<20+64<<10 {
		t.Fatalf("a receiver with SO_RCVBUF 4 MiB that never read took %d bytes, want about 4 MiB", got)
	}
	if r, p := cli.Info.Retransmits, cli.Info.TLPs; r > p {
		t.Fatalf("%d retransmissions into the window, %d of them loss probes", r, p)
	}
	t.Logf("took %d bytes", srv.Info.BytesReceived)
}
