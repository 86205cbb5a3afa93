package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// hostNS is the host kernel's own network stack as a Namespace: it lets
// the protocol code be checked against the stock iperf3 binary without
// usnet underneath. The same code then runs over usnet sockets.
type hostNS struct{}

func (hostNS) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}
func (hostNS) Listen(network, addr string) (net.Listener, error) { return net.Listen(network, addr) }
func (hostNS) ListenPacket(network, addr string) (net.PacketConn, error) {
	return net.ListenPacket(network, addr)
}

func needIperf3(t *testing.T) {
	if _, err := exec.LookPath("iperf3"); err != nil {
		t.Skip("needs the iperf3 binary (test.sh installs it)")
	}
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestPerfServerWithStockClient: iperf3 -c against PerfServe, both
// directions; iperf3's JSON must show bytes moving.
func TestPerfServerWithStockClient(t *testing.T) {
	needIperf3(t)
	for _, reverse := range []bool{false, true} {
		t.Run(fmt.Sprintf("reverse=%v", reverse), func(t *testing.T) {
			port := freePort(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var log bytes.Buffer
			done := make(chan error, 1)
			go func() {
				done <- PerfServe(ctx, hostNS{}, fmt.Sprintf("127.0.0.1:%d", port), PerfServerOptions{Once: true, Interval: time.Second}, &log)
			}()
			time.Sleep(100 * time.Millisecond)
			args := []string{"-c", "127.0.0.1", "-p", fmt.Sprint(port), "-t", "1", "-J", "-P", "2"}
			if reverse {
				args = append(args, "-R")
			}
			tctx, tcancel := context.WithTimeout(ctx, time.Minute)
			defer tcancel()
			cmd := exec.CommandContext(tctx, "iperf3", args...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("iperf3: %v\n%s%s", err, out, stderr.String())
			}
			if stderr.Len() > 0 {
				t.Logf("iperf3 stderr: %s", stderr.String())
			}
			var res struct {
				End struct {
					SumSent     struct{ Bytes int64 } `json:"sum_sent"`
					SumReceived struct{ Bytes int64 } `json:"sum_received"`
				} `json:"end"`
				Error string `json:"error"`
			}
			if err := json.Unmarshal(out, &res); err != nil || res.Error != "" {
				t.Fatalf("iperf3 output: %v %s\n%s", err, res.Error, out)
			}
			if res.End.SumSent.Bytes == 0 || res.End.SumReceived.Bytes == 0 {
				t.Fatalf("no bytes: %s", out)
			}
			if err := <-done; err != nil {
				t.Fatalf("server: %v\n%s", err, log.String())
			}
			t.Logf("sent %d received %d", res.End.SumSent.Bytes, res.End.SumReceived.Bytes)
		})
	}
}

// TestPerfClientWithStockServer: PerfClient against iperf3 -s -1.
func TestPerfClientWithStockServer(t *testing.T) {
	needIperf3(t)
	for _, reverse := range []bool{false, true} {
		t.Run(fmt.Sprintf("reverse=%v", reverse), func(t *testing.T) {
			port, srv, sout := stockServer(t)
			var out bytes.Buffer
			rep, err := PerfClient(context.Background(), hostNS{}, fmt.Sprintf("127.0.0.1:%d", port),
				PerfOptions{Duration: time.Second, Reverse: reverse}, &out)
			if err != nil {
				t.Fatalf("%v\nclient:\n%s\nserver:\n%s", err, out.String(), sout.String())
			}
			if rep.Bytes == 0 || rep.Peer == 0 {
				t.Fatalf("report %+v\n%s", rep, out.String())
			}
			srv.Wait()
			if !strings.Contains(sout.String(), "receiver") && !strings.Contains(sout.String(), "sender") {
				t.Fatalf("iperf3 server printed no summary:\n%s", sout.String())
			}
		})
	}
}

// TestPrintReportAsIperf3: the summary lines are iperf3 3.12's, byte for
// byte; the expected lines are copied from a run of the stock iperf3 on
// this machine that moved the same byte counts.
func TestPrintReportAsIperf3(t *testing.T) {
	var out bytes.Buffer
	printReport(&out, PerfReport{Duration: time.Second, Sender: true, Streams: []int64{2340700000}, PeerStreams: []int64{2340700000},
		SenderHasRetr: true, Retransmits: []int64{11}})
	want := "[ ID] Interval           Transfer     Bitrate         Retr\n" +
		"[  5]   0.00-1.00   sec  2.18 GBytes  18.7 Gbits/sec   11             sender\n" +
		"[  5]   0.00-1.00   sec  2.18 GBytes  18.7 Gbits/sec                  receiver\n"
	if out.String() != want {
		t.Errorf("got\n%swant\n%s", out.String(), want)
	}
	out.Reset()
	printReport(&out, PerfReport{Duration: time.Second, Sender: false, Streams: []int64{1000}, PeerStreams: []int64{1000}})
	want = "[ ID] Interval           Transfer     Bitrate\n" +
		"[  5]   0.00-1.00   sec  1000 Bytes  8.00 Kbits/sec                  sender\n" +
		"[  5]   0.00-1.00   sec  1000 Bytes  8.00 Kbits/sec                  receiver\n"
	if out.String() != want {
		t.Errorf("without retransmissions got\n%swant\n%s", out.String(), want)
	}
}

// lossyNS is hostNS whose UDP streams drop every eighth datagram after
// the first few without sending it, as a lossy path would.
type lossyNS struct{ hostNS }

type lossyConn struct {
	net.Conn
	n int
}

func (c *lossyConn) Write(b []byte) (int, error) {
	if c.n++; c.n > 3 && c.n%8 == 0 {
		return len(b), nil
	}
	return c.Conn.Write(b)
}

func (l lossyNS) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := l.hostNS.DialContext(ctx, network, addr)
	if err == nil && network == "udp" {
		return &lossyConn{Conn: c}, nil
	}
	return c, err
}

// TestPerfUDPClientWithStockServer: PerfClient -u against iperf3 -s -1,
// both directions; forward over a lossy path, usnet perf's receiver line
// (the server's figures) is the stock server's own, character for
// character.
func TestPerfUDPClientWithStockServer(t *testing.T) {
	needIperf3(t)
	for _, reverse := range []bool{false, true} {
		t.Run(fmt.Sprintf("reverse=%v", reverse), func(t *testing.T) {
			port, srv, sout := stockServer(t)
			var out bytes.Buffer
			rep, err := PerfClient(context.Background(), lossyNS{}, fmt.Sprintf("127.0.0.1:%d", port),
				PerfOptions{Duration: 2 * time.Second, UDP: true, Reverse: reverse, Block: 1000, Interval: time.Second}, &out)
			srv.Wait()
			if err != nil || rep.Bytes == 0 || rep.Peer == 0 {
				t.Fatalf("%v %+v\nclient:\n%s\nserver:\n%s", err, rep, out.String(), sout.String())
			}
			role := "receiver"
			if reverse {
				role = "sender"
			}
			ours, theirs := lastLine(out.String(), role), lastLine(sout.String(), role)
			if ours == "" || ours != theirs {
				t.Errorf("usnet perf's %s line\n%q\nthe stock server's\n%q", role, ours, theirs)
			}
			if !reverse && !strings.Contains(ours, "/") || strings.Contains(ours, " 0/") == !reverse {
				t.Errorf("want losses on the lossy path only (forward): %q", ours)
			}
		})
	}
}

// TestPerfUDPServerWithStockClient: iperf3 -u -c against PerfServe,
// both directions, two streams; iperf3's JSON must show the datagrams.
func TestPerfUDPServerWithStockClient(t *testing.T) {
	needIperf3(t)
	for _, reverse := range []bool{false, true} {
		t.Run(fmt.Sprintf("reverse=%v", reverse), func(t *testing.T) {
			port := freePort(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var log bytes.Buffer
			done := make(chan error, 1)
			go func() {
				done <- PerfServe(ctx, hostNS{}, fmt.Sprintf("127.0.0.1:%d", port), PerfServerOptions{Once: true, Interval: time.Second}, &log)
			}()
			time.Sleep(100 * time.Millisecond)
			args := []string{"-c", "127.0.0.1", "-p", fmt.Sprint(port), "-u", "-b", "10M", "-t", "1", "-J", "-P", "2"}
			if reverse {
				args = append(args, "-R")
			}
			out, err := exec.Command("iperf3", args...).Output()
			if err != nil {
				t.Fatalf("iperf3: %v\n%s", err, out)
			}
			var res struct {
				End struct {
					SumSent     struct{ Bytes, Packets int64 } `json:"sum_sent"`
					SumReceived struct{ Bytes, Packets int64 } `json:"sum_received"`
				} `json:"end"`
				Error string `json:"error"`
			}
			if err := json.Unmarshal(out, &res); err != nil || res.Error != "" {
				t.Fatalf("iperf3 output: %v %s\n%s", err, res.Error, out)
			}
			if err := <-done; err != nil {
				t.Fatalf("server: %v\n%s", err, log.String())
			}
			e := res.End
			// 20 Mbit/s for a second in datagrams of the loopback's
			// MSS (32 KiB): some 76.
			if e.SumSent.Packets < 60 || e.SumReceived.Packets < e.SumSent.Packets*9/10 || e.SumReceived.Bytes == 0 {
				t.Errorf("iperf3 -u reports %+v, want some 76 datagrams sent and arrived\n%s\nserver:\n%s", e, out, log.String())
			}
		})
	}
}

// lastLine is the last line of out that ends with " "+role.
func lastLine(out, role string) string {
	line := ""
	for _, l := range strings.Split(out, "\n") {
		if strings.HasSuffix(l, " "+role) {
			line = l
		}
	}
	return line
}

// TestPerfServerBounds: a client asking for more streams than iperf3
// allows (128) gets SERVER_ERROR, and the server stays up for the next.
func TestPerfServerBounds(t *testing.T) {
	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	go PerfServe(ctx, hostNS{}, addr, PerfServerOptions{}, nil)
	time.Sleep(100 * time.Millisecond)
	if _, err := PerfClient(ctx, hostNS{}, addr, PerfOptions{Duration: time.Second, Parallel: 129}, nil); err == nil ||
		!strings.Contains(err.Error(), "server reported an error") {
		t.Errorf("129 streams: %v, want the server's error", err)
	}
	if rep, err := PerfClient(ctx, hostNS{}, addr, PerfOptions{Duration: time.Second}, nil); err != nil || rep.Bytes == 0 {
		t.Errorf("the next test: %+v %v", rep, err)
	}
}

// TestPerfClientJSONError: with -J a failed test is reported in the
// JSON, as iperf3 -J does ({"start": ..., "intervals": [], "end": {},
// "error": "..."}).
func TestPerfClientJSONError(t *testing.T) {
	var out bytes.Buffer
	_, err := PerfClient(context.Background(), hostNS{}, fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		PerfOptions{Duration: time.Second, JSON: true}, &out)
	var doc struct {
		Start     map[string]any `json:"start"`
		Intervals []any          `json:"intervals"`
		End       map[string]any `json:"end"`
		Error     string         `json:"error"`
	}
	if err == nil || json.Unmarshal(out.Bytes(), &doc) != nil || doc.Error != err.Error() || doc.Start == nil || doc.End == nil || doc.Intervals == nil {
		t.Errorf("error %v, JSON %+v:\n%s", err, doc, out.String())
	}
}

// stockServer starts `iperf3 -s -1` on a free loopback port, killed when
// the test ends, and gives it a moment to listen; sout collects what it
// prints.
func stockServer(t *testing.T) (port int, srv *exec.Cmd, sout *bytes.Buffer) {
	t.Helper()
	port = freePort(t)
	srv = exec.Command("iperf3", "-s", "-1", "-p", fmt.Sprint(port), "-B", "127.0.0.1")
	sout = &bytes.Buffer{}
	srv.Stdout, srv.Stderr = sout, sout
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill() })
	time.Sleep(300 * time.Millisecond)
	return port, srv, sout
}
