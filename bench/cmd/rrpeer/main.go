// Command rrpeer is the kernel peer's tiny traffic program: the benchmark
// harness runs it inside network namespaces (`ip netns exec`) as a TCP
// echo server, a request/response or connection-rate client, a UDP sink
// or sender, or a netlink route-lookup timer, with the same measurement
// loops (package measure) used for the in-process stacks. It prints one
// JSON object with its figures; servers first print "ready".
//
//	rrpeer serve   -addr A:P
//	rrpeer rr      -addr A:P -size N -n N
//	rrpeer crr     -addr A:P -n N
//	rrpeer udpsink -addr A:P -limit D
//	rrpeer udpsend -addr A:P -size N -dur D
//	rrpeer fibget  -file ADDRS -budget D
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/usnet/usnet/bench/measure"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: rrpeer serve|rr|crr|udpsink|udpsend|fibget [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	addr := fs.String("addr", "10.201.0.1:5201", "address")
	size := fs.Int("size", 1, "request or datagram size")
	n := fs.Int("n", 1000, "iterations")
	dur := fs.Duration("dur", 2*time.Second, "send duration")
	limit := fs.Duration("limit", 30*time.Second, "sink time limit")
	file := fs.String("file", "", "addresses to look up, one per line")
	budget := fs.Duration("budget", 2*time.Second, "lookup time budget")
	fs.Parse(os.Args[2:])
	out := map[string]float64{}
	var err error
	dial := func() (net.Conn, error) { return net.Dial("tcp", *addr) }
	switch os.Args[1] {
	case "serve":
		var ln net.Listener
		if ln, err = net.Listen("tcp", *addr); err == nil {
			fmt.Println("ready")
			measure.ServeEcho(ln)
		}
	case "rr":
		var c net.Conn
		if c, err = dial(); err == nil {
			var d []time.Duration
			if d, err = measure.RR(c, *size, *n/10, *n); err == nil {
				out["p50"] = us(measure.Percentile(d, 50))
				out["p99"] = us(measure.Percentile(d, 99))
			}
			c.Close()
		}
	case "crr":
		out["rate"], err = measure.ConnRate(dial, *n)
	case "udpsink":
		var c net.PacketConn
		if c, err = net.ListenPacket("udp", *addr); err == nil {
			if uc, ok := c.(*net.UDPConn); ok {
				uc.SetReadBuffer(4 << 20)
			}
			fmt.Println("ready")
			got, span := measure.UDPSink(c, 300*time.Millisecond, *limit)
			out["packets"], out["seconds"] = float64(got), span
		}
	case "udpsend":
		var c net.Conn
		if c, err = net.Dial("udp", *addr); err == nil {
			sent, errs := measure.UDPSend(c, *size, *dur)
			out["sent"], out["errors"], out["seconds"] = float64(sent), float64(errs), dur.Seconds()
		}
	case "fibget":
		out["lookup"], out["count"], err = fibget(*file, *budget)
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "rrpeer:", err)
		os.Exit(1)
	}
	json.NewEncoder(os.Stdout).Encode(out)
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// fibget times route lookups (RTM_GETROUTE over netlink) for the
// addresses in file, for up to budget, and returns ns per lookup.
func fibget(file string, budget time.Duration) (float64, float64, error) {
	f, err := os.Open(file)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	var addrs []netip.Addr
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		a, err := netip.ParseAddr(sc.Text())
		if err != nil {
			return 0, 0, err
		}
		addrs = append(addrs, a)
	}
	nl, err := newRouteGetter()
	if err != nil {
		return 0, 0, err
	}
	defer nl.close()
	start := time.Now()
	k := 0
	for k < len(addrs) && (k < 10 || time.Since(start) < budget) {
		if err := nl.get(addrs[k]); err != nil {
			return 0, 0, fmt.Errorf("route get %v: %w", addrs[k], err)
		}
		k++
	}
	return float64(time.Since(start).Nanoseconds()) / float64(k), float64(k), nil
}
