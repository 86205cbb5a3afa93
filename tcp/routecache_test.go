package tcp_test

import (
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/usnet/usnet/fib"
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/tcp"
)

// TestRouteCacheStale: an established connection's cached output route
// (sk_dst_cache) is dropped by every routing change: while a blackhole
// route, a prohibit rule, the loss of the local address or the link (down)
// stand in the way nothing reaches the peer, and once they go the data
// flows again over a fresh lookup.
func TestRouteCacheStale(t *testing.T) {
	w := newWorld(t, 1, 1500)
	cli, srv, _ := w.connect(80)
	f := w.a.FIB
	hole := fib.Route{Table: unix.RT_TABLE_MAIN, Dst: netip.PrefixFrom(addrB, 32), Type: unix.RTN_BLACKHOLE, Protocol: unix.RTPROT_BOOT}
	prohibit := fib.Rule{Priority: 100, Dst: netip.PrefixFrom(addrB, 32), Action: unix.FR_ACT_PROHIBIT, SuppressPrefixLen: -1, SuppressIfgroup: -1}
	pfx := netip.PrefixFrom(addrA, 24)
	cases := []struct {
		name       string
		block, fix func() error
	}{
		{"blackhole route", func() error { return f.Add(hole, unix.NLM_F_CREATE|unix.NLM_F_EXCL, fib.Info{}) },
			func() error { return f.Delete(hole, fib.Info{}) }},
		{"prohibit rule", func() error { return f.AddRule(prohibit, unix.NLM_F_CREATE, fib.Info{}) },
			func() error { return f.DelRule(prohibit, fib.Info{}) }},
		{"address deleted", func() error { return w.a.IPv4.DelAddr(w.da, addrA, 24) },
			func() error {
				_, err := w.a.IPv4.AddAddr(ipv4.IfAddr{Dev: w.da, Local: addrA, Prefix: pfx})
				return err
			}},
	}
	buf := make([]byte, 4096)
	msg := []byte("through the cache")
	for _, c := range cases {
		// Warm the cache: one message across.
		sendRecv(t, w, cli, srv, msg, buf, c.name+" (before)")
		var err error
		w.a.Exec().Do(func() { err = c.block() })
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if _, err := cli.Send(msg); err != nil {
			t.Fatalf("%s: send: %v", c.name, err)
		}
		w.st.Sim.RunFor(500 * time.Millisecond)
		if k, _, _ := srv.Recv(buf); k != 0 {
			t.Fatalf("%s: %d bytes reached the peer over a stale cached route", c.name, k)
		}
		w.a.Exec().Do(func() { err = c.fix() })
		if err != nil {
			t.Fatalf("%s undone: %v", c.name, err)
		}
		// No new send: the probe timer armed when the send found no
		// route (tcp_check_probe_timer) brings the queue out.
		got := 0
		if !w.run(60*time.Second, func() bool {
			k, _, _ := srv.Recv(buf)
			got += k
			return got == len(msg)
		}) {
			t.Fatalf("%s undone: the data never arrived (%d bytes)", c.name, got)
		}
	}
	if cli.State() != tcp.Established {
		t.Fatalf("client %v", cli.State())
	}
}

func sendRecv(t *testing.T, w *world, cli, srv *tcp.Conn, msg, buf []byte, what string) {
	t.Helper()
	if _, err := cli.Send(msg); err != nil {
		t.Fatalf("%s: send: %v", what, err)
	}
	got := 0
	if !w.run(5*time.Second, func() bool {
		k, _, _ := srv.Recv(buf)
		got += k
		return got == len(msg)
	}) {
		t.Fatalf("%s: %d of %d bytes arrived", what, got, len(msg))
	}
}
