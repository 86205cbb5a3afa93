package socket_test

import (
	"context"
	"io"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/usnet/usnet/drivers/veth"
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/socket"
	"github.com/usnet/usnet/stack"
)

// The TCP benchmarks run in real time through net.Conn: two namespaces,
// each on its own executor goroutine, joined by a veth pair (the
// topology of docs/benchmarks.md). Figures are only comparable when
// measured on an otherwise idle machine.

var (
	benchA = netip.MustParseAddr("10.8.0.1")
	benchB = netip.MustParseAddr("10.8.0.2")
)

// benchPair builds the two namespaces with a veth of the given MTU.
func benchPair(b testing.TB, mtu int) (a, bb *stack.Namespace) {
	b.Helper()
	st, err := stack.NewRealtime()
	if err != nil {
		b.Fatal(err)
	}
	if a, err = st.Add("ba"); err != nil {
		b.Fatal(err)
	}
	if bb, err = st.Add("bb"); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Delete("ba"); st.Delete("bb") })
	da, db, err := veth.Create(veth.End{Table: a.Dev, Name: "eth0", MTU: mtu}, veth.End{Table: bb.Dev, Name: "eth0", MTU: mtu})
	if err != nil {
		b.Fatal(err)
	}
	for i, ns := range []*stack.Namespace{a, bb} {
		d, ip := da, benchA
		if i == 1 {
			d, ip = db, benchB
		}
		ns.Exec().Do(func() {
			ns.Lo.Up()
			d.Up()
			_, err = ns.IPv4.AddAddr(ipv4.IfAddr{Dev: d, Local: ip, Prefix: netip.PrefixFrom(ip, 24)})
		})
		if err != nil {
			b.Fatal(err)
		}
		if got := d.MTU(); got != mtu {
			b.Fatalf("veth MTU %d, want %d", got, mtu)
		}
	}
	return a, bb
}

// benchConn returns a connected client (in a) and server (in bb) on port.
func benchConn(b testing.TB, a, bb *stack.Namespace, port uint16) (c, s net.Conn, l net.Listener) {
	b.Helper()
	l, err := socket.ListenTCP(bb.Exec(), bb.TCP, netip.AddrPortFrom(benchB, port), 128)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	acc := make(chan net.Conn, 1)
	go func() {
		s, _ := l.Accept()
		acc <- s
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err = socket.DialTCP(ctx, a.Exec(), a.TCP, netip.AddrPort{}, netip.AddrPortFrom(benchB, port))
	if err != nil {
		b.Fatal(err)
	}
	if s = <-acc; s == nil {
		b.Fatal("accept failed")
	}
	b.Cleanup(func() { c.Close(); s.Close() })
	return c, s, l
}

func BenchmarkTCPBulkMTU1500(b *testing.B)  { benchBulk(b, 1500) }
func BenchmarkTCPBulkMTU9000(b *testing.B)  { benchBulk(b, 9000) }
func BenchmarkTCPBulkMTU65000(b *testing.B) { benchBulk(b, 65000) }

// benchBulk streams b.N blocks of 1 MiB from a to bb and reports the
// goodput in Gb/s, measured until the receiver has read every byte.
func benchBulk(b *testing.B, mtu int) {
	const block = 1 << 20
	a, bb := benchPair(b, mtu)
	c, s, _ := benchConn(b, a, bb, 5201)
	buf := make([]byte, block)
	for i := range buf {
		buf[i] = byte(i)
	}
	want := int64(b.N) * block
	got := make(chan int64, 1)
	go func() {
		n, _ := io.CopyBuffer(io.Discard, s, make([]byte, 256<<10))
		got <- n
	}()
	b.SetBytes(block)
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if _, err := c.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	c.(*socket.TCPConn).CloseWrite()
	n := <-got
	el := time.Since(start)
	b.StopTimer()
	if n != want {
		b.Fatalf("received %d of %d bytes", n, want)
	}
	b.ReportMetric(float64(n)*8/el.Seconds()/1e9, "Gb/s")
	// Retransmissions on a loss-free link mean a stall the rate hides.
	b.ReportMetric(float64(c.(*socket.TCPConn).Info().Retransmits), "retrans")
}

func BenchmarkTCPRR1B(b *testing.B)   { benchRR(b, 1) }
func BenchmarkTCPRR1KiB(b *testing.B) { benchRR(b, 1024) }

// benchRR times b.N request/response exchanges of size bytes each way on
// one connection with Nagle off (as Go sets TCP_NODELAY) and reports the
// median and 99th percentile round trip in microseconds.
func benchRR(b *testing.B, size int) {
	a, bb := benchPair(b, 1500)
	c, s, _ := benchConn(b, a, bb, 5202)
	go func() {
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
	reportPercentiles(b, rtt)
}

func reportPercentiles(b *testing.B, d []time.Duration) {
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	pct := func(p int) float64 {
		i := min(len(d)-1, (len(d)*p+99)/100-1)
		return float64(d[max(i, 0)]) / float64(time.Microsecond)
	}
	b.ReportMetric(pct(50), "p50-µs")
	b.ReportMetric(pct(99), "p99-µs")
}

// benchAcceptLoop listens on port in ns and hands each accepted
// connection to serve, on the accepting goroutine; the listener closes
// and every goroutine the loop or serve started (through wg) is waited
// for when the benchmark ends.
func benchAcceptLoop(b *testing.B, ns *stack.Namespace, port uint16, backlog int, serve func(s net.Conn, wg *sync.WaitGroup)) netip.AddrPort {
	at := netip.AddrPortFrom(benchB, port)
	l, err := socket.ListenTCP(ns.Exec(), ns.TCP, at, backlog)
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	b.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			s, err := l.Accept()
			if err != nil {
				return
			}
			serve(s, &wg)
		}
	})
	return at
}

// BenchmarkTCPConnect measures connections per second: each iteration
// dials, sends one byte, reads the echo and closes; the server closes
// after echoing, so TIME_WAIT lands on the server side (as with HTTP/1.0),
// and the client's ephemeral ports are not held for 60 s.
func BenchmarkTCPConnect(b *testing.B) {
	a, bb := benchPair(b, 1500)
	srvOne := make([]byte, 1)
	dst := benchAcceptLoop(b, bb, 5203, 1024, func(s net.Conn, _ *sync.WaitGroup) {
		if _, err := io.ReadFull(s, srvOne); err == nil {
			s.Write(srvOne)
		}
		s.Close()
	})
	one := make([]byte, 1)
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		c, err := socket.DialTCP(context.Background(), a.Exec(), a.TCP, netip.AddrPort{}, dst)
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

// BenchmarkTCPConnectClose is the comparison suite's tcp-connrate loop
// (bench/measure.ConnRate with ServeEcho): dial and close at once; the
// server accepts, gives each connection a goroutine that reads until the
// client's FIN and closes, so TIME_WAIT lands on the client. Run it as
// the suite does, 5000 connections (-benchtime=5000x): past about 14,000
// the client's even ephemeral ports are all in TIME_WAIT and each connect
// walks them (as Linux's __inet_hash_connect does), which is then all the
// benchmark measures.
func BenchmarkTCPConnectClose(b *testing.B) {
	a, bb := benchPair(b, 1500)
	dst := benchAcceptLoop(b, bb, 5204, 4096, func(s net.Conn, wg *sync.WaitGroup) {
		wg.Go(func() {
			defer s.Close()
			buf := make([]byte, 512)
			for {
				if _, err := s.Read(buf); err != nil {
					return
				}
			}
		})
	})
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		c, err := socket.DialTCP(context.Background(), a.Exec(), a.TCP, netip.AddrPort{}, dst)
		if err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/el.Seconds(), "conn/s")
}
