package gvinterop

import (
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"

	"github.com/usnet/usnet/sched"
)

// pattern fills p with the bytes at stream offset off of a fixed,
// non-repeating-per-block pattern.
func pattern(p []byte, off int) {
	for i := range p {
		x := uint32(off + i)
		p[i] = byte((x * 2654435761) >> 24)
	}
}

// send writes size pattern bytes to c, closes its write side and returns
// the SHA-256 of what it wrote.
func send(c net.Conn, size int) ([32]byte, error) {
	h := sha256.New()
	buf := make([]byte, 256<<10)
	for off := 0; off < size; {
		n := min(len(buf), size-off)
		pattern(buf[:n], off)
		k, err := c.Write(buf[:n])
		h.Write(buf[:k])
		off += k
		if err != nil {
			return [32]byte{}, fmt.Errorf("write at %d: %w", off, err)
		}
	}
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		if err := cw.CloseWrite(); err != nil {
			return [32]byte{}, fmt.Errorf("close write: %w", err)
		}
	}
	return [32]byte(h.Sum(nil)), nil
}

// receive reads c to EOF and returns the byte count and SHA-256.
func receive(c net.Conn) (int64, [32]byte, error) {
	h := sha256.New()
	n, err := io.CopyBuffer(h, c, make([]byte, 256<<10))
	return n, [32]byte(h.Sum(nil)), err
}

type result struct {
	n   int64
	sum [32]byte
	err error
}

// transfer moves size bytes from the dialer to the listener's accepted
// connection and compares the hashes.
func transfer(t *testing.T, ln net.Listener, dial func() (net.Conn, error), size int, timeout time.Duration) time.Duration {
	t.Helper()
	rc := make(chan result, 1)
	go func() {
		s, err := ln.Accept()
		if err != nil {
			rc <- result{err: err}
			return
		}
		defer s.Close()
		n, sum, err := receive(s)
		rc <- result{n, sum, err}
	}()
	start := time.Now()
	c, err := dial()
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	sc := make(chan result, 1)
	go func() {
		sum, err := send(c, size)
		sc <- result{int64(size), sum, err}
	}()
	var got, sent result
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for i := 0; i < 2; i++ {
		select {
		case got = <-rc:
		case sent = <-sc:
		case <-timer.C:
			buf := make([]byte, 1<<20)
			t.Fatalf("transfer did not finish in %v\n%s", timeout, buf[:runtime.Stack(buf, true)])
		}
	}
	took := time.Since(start)
	if sent.err != nil {
		t.Fatalf("sender: %v", sent.err)
	}
	if got.err != nil {
		t.Fatalf("receiver: %v after %d bytes", got.err, got.n)
	}
	if got.n != int64(size) || got.sum != sent.sum {
		t.Fatalf("received %d bytes sha256 %x, sent %d bytes sha256 %x", got.n, got.sum, size, sent.sum)
	}
	return took
}

// TestGVisorInterop moves 64 MiB each way between usnet and gVisor's
// netstack over the in-process Ethernet link: usnet client to a gonet
// server and a gonet client to a usnet server, SHA-256 compared; clean,
// with 1% loss both ways (netem on the usnet device, and the port dropping
// gVisor's frames) and with 20 ms of delay (netem).
func TestGVisorInterop(t *testing.T) {
	size := 64 << 20
	if testing.Short() {
		size = 8 << 20
	}
	cases := []struct {
		name   string
		netem  sched.NetemConfig
		rxLoss float64
	}{
		{"clean", sched.NetemConfig{}, 0},
		{"loss1", sched.NetemConfig{Loss: 0.01}, 0.01},
		// A deep queue, as one sets netem's limit for a high-BDP path, so
		// the case measures delay rather than tail drop.
		{"delay20ms", sched.NetemConfig{Delay: 20 * time.Millisecond, Limit: 20000}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewRig(RigConfig{Port: PortConfig{RxLoss: tc.rxLoss, Seed: 4}, Netem: tc.netem})
			if err != nil {
				t.Fatal(err)
			}
			closed := false
			defer func() {
				if !closed {
					r.Close()
				}
			}()

			// usnet client -> gVisor server.
			gvSrv := netip.AddrPortFrom(GVisorAddr.Addr(), 5001)
			gln, err := gonet.ListenTCP(r.GV, FullAddr(gvSrv), ipv4.ProtocolNumber)
			if err != nil {
				t.Fatal(err)
			}
			defer gln.Close()
			took := transfer(t, gln, func() (net.Conn, error) { return r.NS.Dial("tcp", gvSrv.String()) }, size, 2*time.Minute)
			t.Logf("usnet -> gVisor: %d MiB in %v (%.2f Gb/s)", size>>20, took.Round(time.Millisecond), float64(size)*8/took.Seconds()/1e9)

			// gVisor client -> usnet server.
			usSrv := netip.AddrPortFrom(UsnetAddr.Addr(), 5002)
			uln, err := r.NS.Listen("tcp", usSrv.String())
			if err != nil {
				t.Fatal(err)
			}
			defer uln.Close()
			took = transfer(t, uln, func() (net.Conn, error) { return gonet.DialTCP(r.GV, FullAddr(usSrv), ipv4.ProtocolNumber) }, size, 2*time.Minute)
			t.Logf("gVisor -> usnet: %d MiB in %v (%.2f Gb/s)", size>>20, took.Round(time.Millisecond), float64(size)*8/took.Seconds()/1e9)

			st := r.NetemStats()
			t.Logf("netem %+v; port lost %d of gVisor's frames", st, r.Port.Lost.Load())
			if tc.netem.Loss > 0 && (st.Dropped == 0 || r.Port.Lost.Load() == 0) {
				t.Fatal("loss was not injected")
			}
			checkARP(t, r)
			gln.Close()
			uln.Close()
			r.Close()
			closed = true
			checkNoLeak(t, r)
		})
	}
}

// checkARP verifies that each side learned the other's MAC by ARP: no
// static entries were configured.
func checkARP(t *testing.T, r *Rig) {
	t.Helper()
	var ll [6]byte
	var found bool
	r.NS.Exec().Do(func() {
		if e := r.NS.Neigh.Lookup(r.Dev.Ifindex(), GVisorAddr.Addr()); e != nil {
			ll, found = e.LLAddr, true
		}
	})
	if mac := r.Port.link.LinkAddress(); !found || string(ll[:]) != string(mac) {
		t.Fatalf("usnet neighbour entry for %v: found %v, lladdr %x, want %x", GVisorAddr.Addr(), found, ll, []byte(mac))
	}
	nb, err := r.GV.Neighbors(1, ipv4.ProtocolNumber)
	if err != nil {
		t.Fatalf("gVisor neighbours: %v", err)
	}
	usMAC := r.Dev.Addr()
	for _, n := range nb {
		if n.Addr.String() == UsnetAddr.Addr().String() && string(n.LinkAddr) == string(usMAC[:]) {
			return
		}
	}
	t.Fatalf("gVisor did not learn %v is-at %x: %+v", UsnetAddr.Addr(), usMAC, nb)
}

// checkNoLeak waits for every usnet packet buffer to return to the pool
// once the rig is closed (connections aborted, device unregistered, port
// closed, backlog purged).
func checkNoLeak(t *testing.T, r *Rig) {
	t.Helper()
	pool := r.US.Pool()
	for deadline := time.Now().Add(5 * time.Second); pool.Live() != 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if n := pool.Live(); n != 0 {
		t.Fatalf("%d usnet packet buffers still live after Close", n)
	}
}
