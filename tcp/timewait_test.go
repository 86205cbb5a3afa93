package tcp_test

import (
	"errors"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/usnet/usnet/sched"
	"github.com/usnet/usnet/stack"
	"github.com/usnet/usnet/tcp"
)

// cycle opens a connection from ns to dst, exchanges a request and a
// response, and closes it from the client first (the client keeps the
// TIME_WAIT), stepping the simulation event by event.
func cycle(t testing.TB, w *world, ns, srvNS *stack.Namespace, l *tcp.Listener, laddr, dst netip.AddrPort) error {
	t.Helper()
	var cli *tcp.Conn
	var err error
	ns.Exec().Do(func() { cli, err = ns.TCP.Connect(laddr, dst) })
	if err != nil {
		return err
	}
	var srv *tcp.Conn
	buf := make([]byte, 512)
	req, resp := false, false
	srvEOF := false
	limit := w.st.Sim.Now() + 10*time.Second
	w.st.Sim.RunWhile(func() bool {
		if w.st.Sim.Now() > limit {
			return false
		}
		if srv == nil {
			if srv = l.Accept(); srv == nil {
				return true
			}
		}
		if cli.Err() != nil {
			return false
		}
		if !req && cli.State() == tcp.Established {
			cli.Send([]byte("GET / HTTP/1.0\r\n\r\n"))
			req = true
		}
		if n, eof, _ := srv.Recv(buf); n > 0 && !resp {
			srv.Send(make([]byte, 300))
			resp = true
		} else if eof && !srvEOF {
			srvEOF = true
			srv.Close()
		}
		if n, _, _ := cli.Recv(buf); n > 0 {
			cli.Close()
		}
		return !(srvEOF && srv.State() == tcp.Closed && (cli.State() == tcp.TimeWait || cli.State() == tcp.Closed))
	})
	if cli.Err() != nil {
		return cli.Err()
	}
	if srv == nil || srv.State() != tcp.Closed || cli.State() != tcp.TimeWait {
		t.Fatalf("cycle did not finish: client %v server %v at %v", cli.State(), srv, w.st.Sim.Now())
	}
	return nil
}

// TestSequentialConnections makes 100,000 sequential connections from a
// to b:80, each with a request and a response, in well under a TIME_WAIT
// period: more than the port range holds. With tcp_tw_reuse 1 a connect
// takes over a TIME_WAIT at least a second old (timestamps make it safe),
// so every connection succeeds and the TIME_WAIT table stays within the
// port range. Then, once TIME_WAIT has run out, nothing is left behind:
// no connection, port or TIME_WAIT entry, no packet buffer, no timer (the
// simulation runs dry).
func TestSequentialConnections(t *testing.T) {
	n := 100000
	if testing.Short() {
		n = 10000
	}
	w := newWorld(t, 31, 1500)
	w.netem(sched.NetemConfig{Delay: 100 * time.Microsecond, Limit: 100000})
	w.a.TCP.Sysctl.TwReuse = 1
	l, err := w.b.TCP.Listen(netip.AddrPortFrom(addrB, 80), 128)
	if err != nil {
		t.Fatal(err)
	}
	ports := int(w.a.IPv4.Sysctl.LocalPortHigh-w.a.IPv4.Sysctl.LocalPortLow) + 1
	maxTW := 0
	start := w.st.Sim.Now()
	for i := 0; i < n; i++ {
		if err := cycle(t, w, w.a, w.b, l, netip.AddrPort{}, netip.AddrPortFrom(addrB, 80)); err != nil {
			t.Fatalf("connection %d: %v (TIME_WAIT %d, recycled %d)", i, err, w.a.TCP.NumTimeWait(), w.a.TCP.Stats.TWRecycled)
		}
		maxTW = max(maxTW, w.a.TCP.NumTimeWait())
	}
	el := w.st.Sim.Now() - start
	if maxTW > ports {
		t.Fatalf("TIME_WAIT table reached %d, beyond the %d ports", maxTW, ports)
	}
	if n > ports && w.a.TCP.Stats.TWRecycled == 0 {
		t.Fatalf("no TIME_WAIT was reused")
	}
	t.Logf("%d connections in %v virtual; TIME_WAIT max %d, recycled %d", n, el, maxTW, w.a.TCP.Stats.TWRecycled)

	l.Close()
	w.st.Sim.RunFor(61 * time.Second)
	for _, ns := range []*stack.Namespace{w.a, w.b} {
		var conns, tw, ports int
		ns.Exec().Do(func() { conns, tw, ports = ns.TCP.NumConns(), ns.TCP.NumTimeWait(), ns.TCP.NumPorts() })
		if conns != 0 || tw != 0 || ports != 0 {
			t.Fatalf("%s: %d connections, %d in TIME_WAIT, %d ports left", ns.Name(), conns, tw, ports)
		}
	}
	// No TCP timer is left armed: three hours (past every TCP timeout)
	// pass without one firing. (Other layers' periodic work, such as
	// the neighbour tables', goes on.)
	fa, fb := w.a.TCP.TimerFires(), w.b.TCP.TimerFires()
	w.st.Sim.RunFor(3 * time.Hour)
	if fa != w.a.TCP.TimerFires() || fb != w.b.TCP.TimerFires() {
		t.Fatalf("TCP timers fired after every connection was gone: %d and %d", w.a.TCP.TimerFires()-fa, w.b.TCP.TimerFires()-fb)
	}
	if live := w.st.Pool().Live(); live != 0 {
		t.Fatalf("%d packet buffers not returned", live)
	}
}

// TestTimeWaitNoReuseByDefault: with Linux's default tcp_tw_reuse 2,
// TIME_WAIT is reused only for loopback traffic, so between two hosts a
// range of 16 ports gives 16 connections and then EADDRNOTAVAIL, until
// TIME_WAIT ends.
func TestTimeWaitNoReuseByDefault(t *testing.T) {
	w := newWorld(t, 32, 1500)
	w.a.IPv4.Sysctl.LocalPortLow, w.a.IPv4.Sysctl.LocalPortHigh = 40000, 40015
	l, err := w.b.TCP.Listen(netip.AddrPortFrom(addrB, 80), 128)
	if err != nil {
		t.Fatal(err)
	}
	dst := netip.AddrPortFrom(addrB, 80)
	for i := 0; i < 16; i++ {
		if err := cycle(t, w, w.a, w.b, l, netip.AddrPort{}, dst); err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		w.st.Sim.RunFor(2 * time.Second) // old enough for reuse, were it allowed
	}
	err = cycle(t, w, w.a, w.b, l, netip.AddrPort{}, dst)
	if !errors.Is(err, syscall.EADDRNOTAVAIL) {
		t.Fatalf("17th connection: %v, want EADDRNOTAVAIL", err)
	}
	w.st.Sim.RunFor(60 * time.Second)
	if err := cycle(t, w, w.a, w.b, l, netip.AddrPort{}, dst); err != nil {
		t.Fatalf("after TIME_WAIT: %v", err)
	}
}

// TestTimeWaitReuseLoopback: tcp_tw_reuse 2 does reuse TIME_WAIT for
// connections over loopback, after tcp_tw_reuse_delay.
func TestTimeWaitReuseLoopback(t *testing.T) {
	w := newWorld(t, 33, 1500)
	w.a.IPv4.Sysctl.LocalPortLow, w.a.IPv4.Sysctl.LocalPortHigh = 40000, 40031
	lo := netip.MustParseAddr("127.0.0.1")
	l, err := w.a.TCP.Listen(netip.AddrPortFrom(lo, 80), 128)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200; i++ {
		if err := cycle(t, w, w.a, w.a, l, netip.AddrPort{}, netip.AddrPortFrom(lo, 80)); err != nil {
			t.Fatalf("connection %d: %v (TIME_WAIT %d)", i, err, w.a.TCP.NumTimeWait())
		}
		w.st.Sim.RunFor(100 * time.Millisecond)
	}
	if w.a.TCP.Stats.TWRecycled == 0 || w.a.TCP.NumTimeWait() > 32 {
		t.Fatalf("recycled %d, TIME_WAIT %d", w.a.TCP.Stats.TWRecycled, w.a.TCP.NumTimeWait())
	}
}

// TestTimeWaitSYN: the server closed first and holds the TIME_WAIT; a new
// SYN on the same 4-tuple (newer timestamp, higher ISN) ends it and opens
// a new connection, as Linux's TCP_TW_SYN.
func TestTimeWaitSYN(t *testing.T) {
	w := newWorld(t, 34, 1500)
	l, err := w.b.TCP.Listen(netip.AddrPortFrom(addrB, 80), 128)
	if err != nil {
		t.Fatal(err)
	}
	from := netip.AddrPortFrom(addrA, 5555)
	cli, err := w.a.TCP.Connect(from, netip.AddrPortFrom(addrB, 80))
	if err != nil {
		t.Fatal(err)
	}
	var srv *tcp.Conn
	w.run(time.Second, func() bool { srv = l.Accept(); return srv != nil })
	srv.Close()
	w.run(time.Second, func() bool {
		if _, eof, _ := cli.Recv(nil); eof && cli.State() == tcp.CloseWait {
			cli.Close()
		}
		return srv.State() == tcp.TimeWait && cli.State() == tcp.Closed
	})
	if srv.State() != tcp.TimeWait || cli.State() != tcp.Closed {
		t.Fatalf("server %v client %v", srv.State(), cli.State())
	}
	w.st.Sim.RunFor(time.Second)
	cli2, err := w.a.TCP.Connect(from, netip.AddrPortFrom(addrB, 80))
	if err != nil {
		t.Fatal(err)
	}
	var srv2 *tcp.Conn
	if !w.run(time.Second, func() bool {
		if srv2 == nil {
			srv2 = l.Accept()
		}
		return srv2 != nil && cli2.State() == tcp.Established
	}) {
		t.Fatalf("reconnect through TIME_WAIT: client %v err %v", cli2.State(), cli2.Err())
	}
	if srv.State() != tcp.Closed || w.b.TCP.NumTimeWait() != 0 {
		t.Fatalf("old incarnation %v, TIME_WAIT %d", srv.State(), w.b.TCP.NumTimeWait())
	}
}
