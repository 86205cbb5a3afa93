package gvinterop

import (
	"io"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/link/ethernet"
	"gvisor.dev/gvisor/pkg/tcpip/link/pipe"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
)

// gVisor's netstack measured the way socket/bench_tcp_test.go measures
// usnet (same block sizes, same percentiles, same connect loop), so one
// run on one machine gives both: two gVisor stacks joined by gVisor's
// pipe link in Ethernet framing (ARP, like a veth pair), and usnet
// against gVisor over Port.

type dialer func() (net.Conn, error)

// gvBenchPair returns a listener on one gVisor stack and a dialer from
// another, linked at mtu.
func gvBenchPair(b *testing.B, mtu int) (net.Listener, dialer) {
	b.Helper()
	pa, pb := pipe.New(tcpip.LinkAddress([]byte{2, 0, 0, 0, 1, 1}), tcpip.LinkAddress([]byte{2, 0, 0, 0, 1, 2}), uint32(mtu+14))
	sa, err := NewGVisor(ethernet.New(pa), UsnetAddr)
	if err != nil {
		b.Fatal(err)
	}
	sb, err := NewGVisor(ethernet.New(pb), GVisorAddr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sa.Close(); sb.Close(); sa.Wait(); sb.Wait() })
	srv := netip.AddrPortFrom(GVisorAddr.Addr(), 5201)
	ln, err := gonet.ListenTCP(sb, FullAddr(srv), ipv4.ProtocolNumber)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	return ln, func() (net.Conn, error) { return gonet.DialTCP(sa, FullAddr(srv), ipv4.ProtocolNumber) }
}

func BenchmarkGVisorTCPBulkMTU1500(b *testing.B)  { benchBulk(b, gvBenchPair, 1500) }
func BenchmarkGVisorTCPBulkMTU9000(b *testing.B)  { benchBulk(b, gvBenchPair, 9000) }
func BenchmarkGVisorTCPBulkMTU65000(b *testing.B) { benchBulk(b, gvBenchPair, 65000) }
func BenchmarkGVisorTCPRR1B(b *testing.B)         { benchRR(b, gvBenchPair, 1) }
func BenchmarkGVisorTCPRR1KiB(b *testing.B)       { benchRR(b, gvBenchPair, 1024) }
func BenchmarkGVisorTCPConnect(b *testing.B)      { benchConnect(b, gvBenchPair) }

// usnetToGVisor is the interop link: usnet dials, gVisor listens.
func usnetToGVisor(b *testing.B, mtu int) (net.Listener, dialer) {
	b.Helper()
	r, err := NewRig(RigConfig{Port: PortConfig{MTU: mtu}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(r.Close)
	srv := netip.AddrPortFrom(GVisorAddr.Addr(), 5201)
	ln, err := gonet.ListenTCP(r.GV, FullAddr(srv), ipv4.ProtocolNumber)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	return ln, func() (net.Conn, error) { return r.NS.Dial("tcp", srv.String()) }
}

func BenchmarkInteropTCPBulkMTU1500(b *testing.B) { benchBulk(b, usnetToGVisor, 1500) }
func BenchmarkInteropTCPRR1B(b *testing.B)        { benchRR(b, usnetToGVisor, 1) }

// benchBulk streams b.N blocks of 1 MiB and reports Gb/s until the
// receiver has read everything.
func benchBulk(b *testing.B, pair func(*testing.B, int) (net.Listener, dialer), mtu int) {
	const block = 1 << 20
	ln, dial := pair(b, mtu)
	got := make(chan int64, 1)
	go func() {
		s, err := ln.Accept()
		if err != nil {
			got <- -1
			return
		}
		defer s.Close()
		n, _ := io.CopyBuffer(io.Discard, s, make([]byte, 256<<10))
		got <- n
	}()
	c, err := dial()
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, block)
	b.SetBytes(block)
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if _, err := c.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	c.(interface{ CloseWrite() error }).CloseWrite()
	n := <-got
	el := time.Since(start)
	b.StopTimer()
	if n != int64(b.N)*block {
		b.Fatalf("received %d of %d bytes", n, int64(b.N)*block)
	}
	b.ReportMetric(float64(n)*8/el.Seconds()/1e9, "Gb/s")
}

// benchRR reports p50 and p99 of b.N size-byte request/response round
// trips on one connection.
func benchRR(b *testing.B, pair func(*testing.B, int) (net.Listener, dialer), size int) {
	ln, dial := pair(b, 1500)
	go func() {
		s, err := ln.Accept()
		if err != nil {
			return
		}
		defer s.Close()
		buf := make([]byte, size)
		for {
			if _, err := io.ReadFull(s, buf); err != nil {
				return
			}
			if _, err := s.Write(buf); err != nil {
				return
			}
		}
	}()
	c, err := dial()
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	req, resp := make([]byte, size), make([]byte, size)
	rtt := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		if _, err := c.Write(req); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, resp); err != nil {
			b.Fatal(err)
		}
		rtt = append(rtt, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(rtt)
	pct := func(p int) float64 {
		i := max(0, min(len(rtt)-1, (len(rtt)*p+99)/100-1))
		return float64(rtt[i]) / float64(time.Microsecond)
	}
	b.ReportMetric(pct(50), "p50-µs")
	b.ReportMetric(pct(99), "p99-µs")
}

// benchConnect reports connections per second: dial, one byte each way,
// close; the server closes first.
func benchConnect(b *testing.B, pair func(*testing.B, int) (net.Listener, dialer)) {
	ln, dial := pair(b, 1500)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		one := make([]byte, 1)
		for {
			s, err := ln.Accept()
			if err != nil {
				return
			}
			if _, err := io.ReadFull(s, one); err == nil {
				s.Write(one)
			}
			s.Close()
		}
	}()
	b.Cleanup(func() { ln.Close(); wg.Wait() })
	one := make([]byte, 1)
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		c, err := dial()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Write(one); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, one); err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/el.Seconds(), "conn/s")
}
