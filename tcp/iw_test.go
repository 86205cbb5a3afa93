package tcp_test

import (
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/usnet/usnet/fib"
	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/stack"
)

// TestInitialWindow: a bulk sender's first flight, before any ACK of
// data can return, is exactly TCP_INIT_CWND = 10 segments of the MSS
// (RFC 6928, Linux's tcp_init_cwnd).
func TestInitialWindow(t *testing.T) {
	const owd = 50 * time.Millisecond
	w := newWorld(t, 105, 1500)
	qa, _ := w.wires(owd)
	cli, _, _ := w.connect(80)
	qa.segs = nil
	start := w.st.Sim.Now()
	if n, err := cli.Send(make([]byte, 1<<20)); err != nil || n == 0 {
		t.Fatalf("send: %d %v", n, err)
	}
	w.st.Sim.RunFor(2*owd - time.Millisecond)
	bytes := 0
	for _, s := range qa.data() {
		if s.at != start {
			t.Fatalf("data sent at +%v, before any ACK could come", s.at-start)
		}
		if s.gso != 0 && s.gso != 1448 || s.gso == 0 && s.n > 1448 {
			t.Fatalf("segment of %d bytes, GSO size %d: want MSS 1448", s.n, s.gso)
		}
		bytes += s.n
	}
	if bytes != 10*1448 {
		t.Fatalf("first flight %d bytes (%.1f segments), want 10 segments of 1448", bytes, float64(bytes)/1448)
	}
}

// TestPeerMSSClamp: a peer whose SYN-ACK announces MSS 536 (its device
// MTU is 576) or 1000 (MTU 1040) gets segments of at most that, less the
// timestamp option (tcp_sync_mss: 524 and 988), while the sender's own
// SYN announces 1460 from its 1500-byte route.
func TestPeerMSSClamp(t *testing.T) {
	for _, tc := range []struct{ mtu, mss, seg int }{{576, 536, 524}, {1040, 1000, 988}} {
		w := newWorld(t, 106, 1500)
		var err error
		w.b.Exec().Do(func() { err = w.db.SetMTU(tc.mtu) })
		if err != nil {
			t.Fatal(err)
		}
		qa, qb := w.wires(time.Millisecond)
		cli, srv, _ := w.connect(80)
		w.transfer(cli, srv, 1<<20, time.Minute)
		var synMSS, synAckMSS int
		for _, s := range qa.segs {
			if s.flags&header.TCPFlagSYN != 0 {
				synMSS = int(s.opts.MSS)
			}
		}
		for _, s := range qb.segs {
			if s.flags&header.TCPFlagSYN != 0 {
				synAckMSS = int(s.opts.MSS)
			}
		}
		if synMSS != 1460 || synAckMSS != tc.mss {
			t.Fatalf("MTU %d: SYN MSS %d, SYN-ACK MSS %d; want 1460, %d", tc.mtu, synMSS, synAckMSS, tc.mss)
		}
		most := 0
		for _, s := range qa.data() {
			seg := s.n
			if s.gso != 0 {
				seg = int(s.gso)
			}
			most = max(most, seg)
		}
		if most != tc.seg {
			t.Fatalf("MTU %d: largest segment %d, want %d", tc.mtu, most, tc.seg)
		}
	}
}

// TestRouteAdvMSS: a route's advmss metric (ip route ... advmss N,
// RTA_METRICS RTAX_ADVMSS) is the MSS a SYN and a SYN-ACK announce
// (dst_metric_advmss), so the peer's segments shrink to it, while what we
// send is still bounded by the MTU and the peer's MSS only.
func TestRouteAdvMSS(t *testing.T) {
	w := newWorld(t, 112, 1500)
	addHost := func(ns *stack.Namespace, dst netip.Addr, advmss uint32) {
		var err error
		ns.Exec().Do(func() {
			err = ns.FIB.Add(fib.Route{Table: unix.RT_TABLE_MAIN, Dst: netip.PrefixFrom(dst, 32), Type: unix.RTN_UNICAST,
				Scope: unix.RT_SCOPE_LINK, Metrics: fib.Metrics{AdvMSS: advmss},
				Nexthops: []fib.Nexthop{{Ifindex: ns.Dev.ByName("eth0").Ifindex()}}}, unix.NLM_F_CREATE, fib.Info{})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	addHost(w.a, addrB, 1000)
	addHost(w.b, addrA, 800)
	qa, qb := w.wires(time.Millisecond)
	cli, srv, _ := w.connect(80)
	w.transfer(cli, srv, 256<<10, time.Minute)
	w.transfer(srv, cli, 256<<10, time.Minute)
	largest := func(q *wire) (syn, seg int) {
		for _, s := range q.segs {
			if s.flags&header.TCPFlagSYN != 0 {
				syn = int(s.opts.MSS)
			}
			n := s.n
			if s.gso != 0 {
				n = int(s.gso)
			}
			seg = max(seg, n)
		}
		return syn, seg
	}
	synA, segA := largest(qa)
	synB, segB := largest(qb)
	if synA != 1000 || synB != 800 {
		t.Fatalf("SYN MSS %d, SYN-ACK MSS %d; want the routes' advmss 1000 and 800", synA, synB)
	}
	if segA != 800-12 || segB != 1000-12 {
		t.Fatalf("largest segments a->b %d, b->a %d; want 788 and 988", segA, segB)
	}
}
