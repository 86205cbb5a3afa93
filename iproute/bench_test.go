package iproute

import (
	"io"
	"strings"
	"testing"
)

func benchRun(b *testing.B, line string) {
	f := refTransport(b)
	args := strings.Fields(line)
	opt := Options{Stdout: io.Discard, Stderr: io.Discard, Dial: func(string) (Transport, error) { return f, nil }}
	b.ReportAllocs()
	for b.Loop() {
		f.requests = f.requests[:0]
		if Run(args, opt) != 0 {
			b.Fatal(line)
		}
	}
}

// Listing the kernel's recorded route dump (16 routes) as text and JSON.
func BenchmarkRouteShowAll(b *testing.B)     { benchRun(b, "route show table all") }
func BenchmarkRouteShowAllJSON(b *testing.B) { benchRun(b, "-j route show table all") }

// Listing links with addresses (3 links, 6 addresses).
func BenchmarkAddrShow(b *testing.B) { benchRun(b, "addr show") }

// Parsing a route request and waiting for its ACK.
func BenchmarkRouteAdd(b *testing.B) {
	benchRun(b, "route add 10.0.0.0/8 via 192.0.2.254 metric 5 proto static mtu lock 1400")
}
