package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/usnet/usnet/stack/stacktest"
	"net/netip"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usnet/usnet/stack"
)

var (
	perfA = netip.MustParseAddr("10.9.0.1")
	perfB = netip.MustParseAddr("10.9.0.2")
)

// usnetPair is two usnet namespaces joined by a veth pair: perf runs
// over usnet's own TCP there, so TCP_INFO (Retr, Cwnd) is known.
func usnetPair(t *testing.T) (a, b *stack.Namespace) {
	return stacktest.Pair(t, "pa", "pb", perfA, perfB)
}

// perfTest runs a usnet perf server in b and a client in a, and returns
// both outputs.
func perfTest(t *testing.T, a, b *stack.Namespace, so PerfServerOptions, o PerfOptions) (client, server string, rep PerfReport) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var slog syncBuf
	so.Once = true
	done := make(chan error, 1)
	go func() { done <- PerfServe(ctx, b, perfB.String()+":5201", so, &slog) }()
	var out bytes.Buffer
	var err error
	for range 50 { // until the server listens
		out.Reset()
		if rep, err = PerfClient(ctx, a, perfB.String()+":5201", o, &out); err == nil || !strings.Contains(err.Error(), "refused") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("client: %v\n%s", err, out.String())
	}
	if err := <-done; err != nil {
		t.Fatalf("server: %v\n%s", err, slog.String())
	}
	return out.String(), slog.String(), rep
}

var (
	perfConnected = regexp.MustCompile(`(?m)^\[  [57]\] local 10\.9\.0\.[12] port \d+ connected to 10\.9\.0\.[12] port \d+$`)
	// An interval line of the sender: Retr and Cwnd.
	perfSenderInterval = regexp.MustCompile(`(?m)^\[  5\] +\d+\.\d\d-\d+\.\d\d +sec +[\d.]+ [KMG]?Bytes +[\d.]+ [KMG]?bits/sec +\d+ +[\d.]+ [KMG]?Bytes       (\(omitted\))?$`)
	// An interval line of the receiver: blank Retr column.
	perfReceiverInterval = regexp.MustCompile(`(?m)^\[  5\] +\d+\.\d\d-\d+\.\d\d +sec +[\d.]+ [KMG]?Bytes +[\d.]+ [KMG]?bits/sec {18}(\(omitted\))?$`)
)

// TestPerfTextOverUsnet: client and server print iperf3's framing, a
// report per interval (the sender's with Retr and Cwnd) and their
// summaries, in both directions.
func TestPerfTextOverUsnet(t *testing.T) {
	a, b := usnetPair(t)
	for _, reverse := range []bool{false, true} {
		t.Run(fmt.Sprintf("reverse=%v", reverse), func(t *testing.T) {
			client, server, _ := perfTest(t, a, b, PerfServerOptions{Interval: 250 * time.Millisecond},
				PerfOptions{Duration: time.Second, Interval: 250 * time.Millisecond, Reverse: reverse})
			t.Logf("client:\n%s\nserver:\n%s", client, server)
			wantClient := "Connecting to host 10.9.0.2, port 5201\n"
			if reverse {
				wantClient += "Reverse mode, remote host 10.9.0.2 is sending\n"
			}
			if !strings.HasPrefix(client, wantClient) || !strings.HasSuffix(client, "\niperf Done.\n") ||
				!perfConnected.MatchString(client) || !strings.Contains(client, perfSeparator+perfHeaderRetr) {
				t.Errorf("client output lacks iperf3's framing:\n%s", client)
			}
			if !strings.HasPrefix(server, perfBanner+"Server listening on 5201 (test #1)\n"+perfBanner+"Accepted connection from 10.9.0.1, port ") ||
				!perfConnected.MatchString(server) {
				t.Errorf("server output lacks iperf3's framing:\n%s", server)
			}
			sender, receiver := client, server
			if reverse {
				sender, receiver = server, client
			}
			if n := len(perfSenderInterval.FindAllString(sender, -1)); n < 4 || !strings.Contains(sender, perfHeaderRetrCwnd) {
				t.Errorf("sender: %d interval lines with Retr and Cwnd, want 4 or more:\n%s", n, sender)
			}
			if n := len(perfReceiverInterval.FindAllString(receiver, -1)); n < 4 {
				t.Errorf("receiver: %d interval lines, want 4 or more:\n%s", n, receiver)
			}
			// The server prints only its own role's summary lines.
			own, other := "receiver", "sender"
			if reverse {
				own, other = other, own
			}
			if !strings.Contains(server, own+"\n") || strings.Contains(server, other+"\n") {
				t.Errorf("server summary: want %s lines only:\n%s", own, server)
			}
		})
	}
}

// TestPerfOmitAndNoIntervals: -O marks the first reports "(omitted)"
// and leaves their bytes out of the summary; -i 0 prints one report for
// the whole test.
func TestPerfOmitAndNoIntervals(t *testing.T) {
	a, b := usnetPair(t)
	client, _, rep := perfTest(t, a, b, PerfServerOptions{Interval: 500 * time.Millisecond},
		PerfOptions{Duration: time.Second, Omit: time.Second, Interval: 500 * time.Millisecond})
	t.Logf("client:\n%s", client)
	if n := strings.Count(client, "(omitted)\n"); n != 2 {
		t.Errorf("%d omitted reports, want 2:\n%s", n, client)
	}
	if rep.Duration < 900*time.Millisecond || rep.Duration > 1200*time.Millisecond {
		t.Errorf("summary over %v, want the second after the omitted one", rep.Duration)
	}
	client, _, _ = perfTest(t, a, b, PerfServerOptions{}, PerfOptions{Duration: time.Second})
	if n := len(perfSenderInterval.FindAllString(client, -1)); n != 1 || !strings.Contains(client, "   0.00-1.00   sec") {
		t.Errorf("-i 0: %d reports, want one over the whole test:\n%s", n, client)
	}
}

// TestPerfOptionsOverUsnet: -C reaches both ends' streams, -w the
// socket buffers, -l the block size; the JSON says so.
func TestPerfOptionsOverUsnet(t *testing.T) {
	a, b := usnetPair(t)
	client, server, _ := perfTest(t, a, b, PerfServerOptions{JSON: true},
		PerfOptions{Duration: time.Second, Congestion: "reno", Window: 1 << 20, Block: 64 << 10, JSON: true, Interval: time.Second})
	type doc struct {
		Start struct {
			AcceptedConnection *jsonHostPort `json:"accepted_connection"`
			SockBufsize        int           `json:"sock_bufsize"`
			SndbufActual       int           `json:"sndbuf_actual"`
			TestStart          jsonTestStart `json:"test_start"`
		} `json:"start"`
		End struct {
			SumSent               struct{ Bytes int64 } `json:"sum_sent"`
			SumReceived           struct{ Bytes int64 } `json:"sum_received"`
			SenderTCPCongestion   string                `json:"sender_tcp_congestion"`
			ReceiverTCPCongestion string                `json:"receiver_tcp_congestion"`
		} `json:"end"`
	}
	var c, s doc
	if err := json.Unmarshal([]byte(client), &c); err != nil {
		t.Fatalf("client -J: %v\n%s", err, client)
	}
	if err := json.Unmarshal([]byte(server), &s); err != nil {
		t.Fatalf("server -J: %v\n%s", err, server)
	}
	if c.End.SenderTCPCongestion != "reno" || c.End.ReceiverTCPCongestion != "reno" {
		t.Errorf("client -J congestion: sender %q receiver %q, want reno at both ends", c.End.SenderTCPCongestion, c.End.ReceiverTCPCongestion)
	}
	if c.Start.SockBufsize != 1<<20 || c.Start.SndbufActual < 1<<20 || c.Start.TestStart.Blksize != 64<<10 {
		t.Errorf("client -J start: sock_bufsize %d sndbuf_actual %d blksize %d, want %d, at least that, and %d",
			c.Start.SockBufsize, c.Start.SndbufActual, c.Start.TestStart.Blksize, 1<<20, 64<<10)
	}
	if s.Start.AcceptedConnection == nil || s.End.SumReceived.Bytes != c.End.SumSent.Bytes || s.End.SumReceived.Bytes == 0 {
		t.Errorf("server -J: %+v\nclient -J: %+v", s, c)
	}
}

// TestPerfJSONAsIperf3: usnet perf -J has every field the stock iperf3
// client's -J has for the same test (but snd_wnd, pmtu and max_snd_wnd,
// which usnet's TCP_INFO does not give), and the values a reader of
// iperf3's JSON takes are there.
func TestPerfJSONAsIperf3(t *testing.T) {
	needIperf3(t)
	a, b := usnetPair(t)
	ours, _, rep := perfTest(t, a, b, PerfServerOptions{Interval: time.Second},
		PerfOptions{Duration: 2 * time.Second, Interval: time.Second, JSON: true, Parallel: 2})
	// The stock client against usnet perf's server on the host's
	// loopback: the same test.
	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go PerfServe(ctx, hostNS{}, fmt.Sprintf("127.0.0.1:%d", port), PerfServerOptions{Once: true}, nil)
	time.Sleep(100 * time.Millisecond)
	stock, err := exec.Command("iperf3", "-c", "127.0.0.1", "-p", fmt.Sprint(port), "-t", "2", "-J", "-P", "2").Output()
	if err != nil {
		t.Fatalf("iperf3: %v\n%s", err, stock)
	}
	missing := []string{}
	have := jsonPaths(t, []byte(ours))
	for _, p := range jsonPaths(t, stock) {
		base := p[strings.LastIndex(p, ".")+1:]
		if !slices.Contains(have, p) && base != "snd_wnd" && base != "pmtu" && base != "max_snd_wnd" {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		t.Errorf("usnet perf -J lacks %v\n%s", missing, ours)
	}
	var doc struct {
		Intervals []struct {
			Streams []struct {
				SndCwnd *int64 `json:"snd_cwnd"`
			} `json:"streams"`
			Sum struct{ Bytes int64 } `json:"sum"`
		} `json:"intervals"`
		End struct {
			SumSent struct {
				Bytes       int64
				Retransmits *int64 `json:"retransmits"`
			} `json:"sum_sent"`
			SumReceived struct {
				Bytes         int64
				BitsPerSecond float64 `json:"bits_per_second"`
			} `json:"sum_received"`
		} `json:"end"`
	}
	if err := json.Unmarshal([]byte(ours), &doc); err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, iv := range doc.Intervals {
		sum += iv.Sum.Bytes
		for _, s := range iv.Streams {
			if s.SndCwnd == nil || *s.SndCwnd <= 0 {
				t.Errorf("interval stream without snd_cwnd:\n%s", ours)
			}
		}
	}
	if len(doc.Intervals) != 2 || sum != doc.End.SumSent.Bytes || sum != rep.Bytes ||
		doc.End.SumSent.Retransmits == nil || doc.End.SumReceived.BitsPerSecond <= 0 || doc.End.SumReceived.Bytes != rep.Peer {
		t.Errorf("usnet perf -J: %d intervals of %d bytes in all, end %+v, report %+v", len(doc.Intervals), sum, doc.End, rep)
	}
}

// jsonPaths lists the paths of a JSON document's fields ("end.sum_sent.bytes";
// arrays as "[]").
func jsonPaths(t *testing.T, doc []byte) []string {
	t.Helper()
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	set := map[string]bool{}
	var walk func(string, any)
	walk = func(p string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				q := k
				if p != "" {
					q = p + "." + k
				}
				set[q] = true
				walk(q, x)
			}
		case []any:
			for _, x := range v {
				walk(p+"[]", x)
			}
		}
	}
	walk("", v)
	var out []string
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// syncBuf is a buffer the server goroutine writes while a test may read.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var (
	perfUDPSenderInterval   = regexp.MustCompile(`(?m)^\[  [57]\] +\d+\.\d\d-\d+\.\d\d +sec +[\d.]+ [KMG]?Bytes +[\d.]+ [KMG]?bits/sec  \d+  $`)
	perfUDPReceiverInterval = regexp.MustCompile(`(?m)^\[  [57]\] +\d+\.\d\d-\d+\.\d\d +sec +[\d.]+ [KMG]?Bytes +[\d.]+ [KMG]?bits/sec  \d+\.\d{3} ms  \d+/\d+ \([\d.e+-]+%\)  $`)
)

// TestPerfUDPOverUsnet: -u between two usnet namespaces, both
// directions: the sender reports datagrams, the receiver jitter and
// losses; -J has every field the stock iperf3 client's -J has for a
// UDP test.
func TestPerfUDPOverUsnet(t *testing.T) {
	a, b := usnetPair(t)
	for _, reverse := range []bool{false, true} {
		t.Run(fmt.Sprintf("reverse=%v", reverse), func(t *testing.T) {
			client, server, rep := perfTest(t, a, b, PerfServerOptions{Interval: 500 * time.Millisecond},
				PerfOptions{Duration: time.Second, Interval: 500 * time.Millisecond, UDP: true, Reverse: reverse, Bitrate: 10e6})
			t.Logf("client:\n%s\nserver:\n%s", client, server)
			sender, receiver := client, server
			if reverse {
				sender, receiver = server, client
			}
			if n := len(perfUDPSenderInterval.FindAllString(sender, -1)); n < 2 || !strings.Contains(sender, perfHeaderUDPSend) {
				t.Errorf("sender: %d interval lines with datagrams, want 2 or more", n)
			}
			if n := len(perfUDPReceiverInterval.FindAllString(receiver, -1)); n < 2 {
				t.Errorf("receiver: %d interval lines with jitter and losses, want 2 or more", n)
			}
			// 10 Mbit/s for a second in datagrams of the path's MSS
			// (1448 bytes on the veth): some 860.
			if !rep.UDP || at(rep.Packets, 0) < 700 || at(rep.PeerPackets, 0) < 700 || rep.Bytes < 1_000_000 {
				t.Errorf("report %+v, want some 860 datagrams each way", rep)
			}
		})
	}
	needIperf3(t)
	ours, _, _ := perfTest(t, a, b, PerfServerOptions{Interval: time.Second},
		PerfOptions{Duration: 2 * time.Second, Interval: time.Second, JSON: true, Parallel: 2, UDP: true})
	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go PerfServe(ctx, hostNS{}, fmt.Sprintf("127.0.0.1:%d", port), PerfServerOptions{Once: true}, nil)
	time.Sleep(100 * time.Millisecond)
	stock, err := exec.Command("iperf3", "-c", "127.0.0.1", "-p", fmt.Sprint(port), "-t", "2", "-J", "-P", "2", "-u").Output()
	if err != nil {
		t.Fatalf("iperf3: %v\n%s", err, stock)
	}
	have := jsonPaths(t, []byte(ours))
	var missing []string
	for _, p := range jsonPaths(t, stock) {
		if !slices.Contains(have, p) {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		t.Errorf("usnet perf -u -J lacks %v\n%s", missing, ours)
	}
}
