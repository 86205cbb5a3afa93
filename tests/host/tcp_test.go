package host

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/usnet/usnet/tools"
)

// payloadFile writes size bytes of a fixed pattern and returns its path
// and SHA-256.
func payloadFile(t *testing.T, size int) (string, string) {
	dir := t.TempDir()
	p := filepath.Join(dir, "blob")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	chunk := make([]byte, 1<<20)
	for i := range chunk {
		chunk[i] = byte(i*131 + i>>9)
	}
	w := io.MultiWriter(f, h)
	for done := 0; done < size; done += len(chunk) {
		chunk[0] = byte(done >> 20)
		w.Write(chunk[:min(len(chunk), size-done)])
	}
	f.Close()
	return p, hex.EncodeToString(h.Sum(nil))
}

// TestHostTCPBothWays: the kernel's curl fetches a file from usnet's HTTP
// server, and a usnet client sends the same bytes to a kernel socket;
// SHA-256 must match both ways. Over TAP and over AF_PACKET.
func TestHostTCPBothWays(t *testing.T) {
	for _, tool := range []string{"curl", "socat"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skip("needs " + tool + " (test.sh installs it)")
		}
	}
	size := 256 << 20
	if testing.Short() {
		size = 16 << 20
	}
	path, sum := payloadFile(t, size)
	for name, mk := range backends(t) {
		t.Run(name, func(t *testing.T) {
			r := mk(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			srvDone := make(chan error, 1)
			go func() { srvDone <- tools.HTTPServe(ctx, r.ns, filepath.Dir(path), "10.99.0.2:8080", nil) }()
			time.Sleep(100 * time.Millisecond)
			cmd := exec.Command("ip", "netns", "exec", r.kns, "curl", "-sS", "--max-time", "120", "-o", "-", "http://10.99.0.2:8080/blob")
			h := sha256.New()
			var stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = h, &stderr
			start := time.Now()
			if err := cmd.Run(); err != nil {
				t.Fatalf("curl: %v %s", err, stderr.String())
			}
			took := time.Since(start)
			if got := hex.EncodeToString(h.Sum(nil)); got != sum {
				t.Fatalf("kernel curl from usnet: sha256 %s, want %s", got, sum)
			}
			t.Logf("kernel curl fetched %d MiB from usnet in %v (%.0f Mb/s)", size>>20, took, float64(size)*8/took.Seconds()/1e6)
			cancel()

			// usnet -> kernel: socat in the kernel namespace sinks the stream
			// into sha256sum.
			got := make(chan string, 1)
			sink := exec.Command("ip", "netns", "exec", r.kns, "sh", "-c",
				"socat -u TCP4-LISTEN:9000,bind=10.99.0.1,reuseaddr STDOUT | sha256sum")
			var sinkOut bytes.Buffer
			sink.Stdout = &sinkOut
			if err := sink.Start(); err != nil {
				t.Fatal(err)
			}
			go func() {
				sink.Wait()
				f := strings.Fields(sinkOut.String())
				if len(f) == 0 {
					got <- "no output"
					return
				}
				got <- f[0]
			}()
			time.Sleep(300 * time.Millisecond)
			c, err := r.ns.Dial("tcp", "10.99.0.1:9000")
			if err != nil {
				t.Fatal(err)
			}
			f, _ := os.Open(path)
			start = time.Now()
			if _, err := io.Copy(c, f); err != nil {
				t.Fatal(err)
			}
			f.Close()
			c.(interface{ CloseWrite() error }).CloseWrite()
			select {
			case s := <-got:
				if s != sum {
					t.Fatalf("usnet to kernel: %s, want %s", s, sum)
				}
			case <-time.After(2 * time.Minute):
				sink.Process.Kill()
				t.Fatal("kernel receiver timed out")
			}
			t.Logf("usnet sent %d MiB to the kernel in %v", size>>20, time.Since(start))
			c.Close()
		})
	}
}

// TestHostIperf3AgainstPerf: the stock iperf3 client in the kernel
// namespace runs against usnet's perf server, both directions.
func TestHostIperf3AgainstPerf(t *testing.T) {
	if _, err := exec.LookPath("iperf3"); err != nil {
		t.Skip("needs iperf3 (test.sh installs it)")
	}
	r := backends(t)["tap"](t)
	for _, reverse := range []bool{false, true} {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- tools.PerfServe(ctx, r.ns, "10.99.0.2:5201", tools.PerfServerOptions{Once: true}, nil) }()
		time.Sleep(100 * time.Millisecond)
		args := []string{"netns", "exec", r.kns, "iperf3", "-c", "10.99.0.2", "-t", "2", "-J"}
		if reverse {
			args = append(args, "-R")
		}
		tctx, tcancel := context.WithTimeout(context.Background(), time.Minute)
		out, err := exec.CommandContext(tctx, "ip", args...).Output()
		tcancel()
		cancel()
		if err != nil || !strings.Contains(string(out), "sum_received") {
			t.Fatalf("iperf3 (reverse=%v): %v\n%s", reverse, err, out)
		}
		if err := <-done; err != nil {
			t.Fatalf("perf server: %v", err)
		}
		// Whichever side sent, iperf3 reports its retransmissions and
		// congestion control: the kernel's from TCP_INFO, usnet's from
		// the RESULTS usnet's server sent.
		var res struct {
			End struct {
				SumSent struct {
					Retransmits *int64 `json:"retransmits"`
				} `json:"sum_sent"`
				SenderCC string `json:"sender_tcp_congestion"`
			} `json:"end"`
		}
		if err := json.Unmarshal(out, &res); err != nil || res.End.SumSent.Retransmits == nil || res.End.SenderCC == "" {
			t.Errorf("iperf3 (reverse=%v) has no sender retransmissions or congestion control: %v %+v", reverse, err, res)
		} else if reverse && res.End.SenderCC != "cubic" {
			t.Errorf("iperf3 -R names usnet's congestion control %q, want cubic", res.End.SenderCC)
		}
		t.Logf("iperf3 reverse=%v ok (%d bytes of JSON)", reverse, len(out))
	}
	// The stock client's text against usnet's server: both print the
	// same summary line for the side usnet's server is.
	for _, reverse := range []bool{false, true} {
		slog, out := stockClientAgainstPerf(t, r, reverse, "-t", "2")
		role := "receiver"
		if reverse {
			role = "sender"
		}
		if l := perfRoleLine(slog, role); l == "" || l != perfRoleLine(out, role) {
			t.Errorf("reverse=%v: usnet perf -s printed the %s line\n%q\nthe stock client\n%q\nserver:\n%s\nclient:\n%s",
				reverse, role, l, perfRoleLine(out, role), slog, out)
		}
		if n := strings.Count(slog, " sec "); n < 3 {
			t.Errorf("reverse=%v: usnet perf -s printed %d interval and summary lines:\n%s", reverse, n, slog)
		}
	}
	// And usnet's perf client against the stock iperf3 server in the
	// kernel namespace, both directions: its reports per interval (Retr
	// and Cwnd when usnet sends), its summary line for the server's side
	// as the stock server prints it.
	for _, reverse := range []bool{false, true} {
		srv := exec.Command("ip", "netns", "exec", r.kns, "iperf3", "-s", "-1", "-B", "10.99.0.1")
		var sout bytes.Buffer
		srv.Stdout = &sout
		if err := srv.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		var out bytes.Buffer
		rep, err := tools.PerfClient(context.Background(), r.ns, "10.99.0.1:5201",
			tools.PerfOptions{Duration: 2 * time.Second, Reverse: reverse, Interval: time.Second}, &out)
		srv.Wait()
		if err != nil || rep.Bytes == 0 {
			t.Fatalf("usnet perf client (reverse=%v) against iperf3 -s: %+v %v\n%s", reverse, rep, err, out.String())
		}
		if !rep.SenderHasRetr || len(rep.Retransmits) != 1 {
			t.Errorf("usnet perf client (reverse=%v): no sender retransmissions (%+v)", reverse, rep)
		}
		role, intervals := "receiver", "Retr  Cwnd\n"
		if reverse {
			role, intervals = "sender", "Bitrate\n"
		}
		if !strings.Contains(out.String(), intervals+"[  5]   0.00-1.00   sec ") || !strings.HasSuffix(out.String(), "\niperf Done.\n") {
			t.Errorf("usnet perf client (reverse=%v): no interval reports:\n%s", reverse, out.String())
		}
		if l := perfRoleLine(sout.String(), role); l == "" || l != perfRoleLine(out.String(), role) {
			t.Errorf("usnet perf client (reverse=%v) printed the %s line\n%q\nthe stock server\n%q\nclient:\n%s\nserver:\n%s",
				reverse, role, perfRoleLine(out.String(), role), l, out.String(), sout.String())
		}
		t.Logf("usnet perf -c reverse=%v: %.0f Mb/s", reverse, rep.Bitrate()/1e6)
	}
}

// TestHostIperf3UDPAgainstPerf: UDP tests (-u) between the stock
// iperf3 in the kernel namespace and usnet perf, each as client and as
// server, both directions: the datagrams arrive, and both ends print the
// same summary line for the side usnet is.
func TestHostIperf3UDPAgainstPerf(t *testing.T) {
	if _, err := exec.LookPath("iperf3"); err != nil {
		t.Skip("needs iperf3 (test.sh installs it)")
	}
	r := backends(t)["tap"](t)
	for _, reverse := range []bool{false, true} {
		slog, out := stockClientAgainstPerf(t, r, reverse, "-u", "-b", "20M", "-t", "2")
		role := "receiver"
		if reverse {
			role = "sender"
		}
		if l := perfRoleLine(slog, role); l == "" || l != perfRoleLine(out, role) {
			t.Errorf("-u reverse=%v: usnet perf -s printed the %s line\n%q\nthe stock client\n%q\nserver:\n%s\nclient:\n%s",
				reverse, role, l, perfRoleLine(out, role), slog, out)
		}
		t.Logf("iperf3 -u -c reverse=%v:\n%s", reverse, perfRoleLine(out, "receiver"))
	}
	for _, reverse := range []bool{false, true} {
		srv := exec.Command("ip", "netns", "exec", r.kns, "iperf3", "-s", "-1", "-B", "10.99.0.1")
		var sout bytes.Buffer
		srv.Stdout = &sout
		if err := srv.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		var out bytes.Buffer
		rep, err := tools.PerfClient(context.Background(), r.ns, "10.99.0.1:5201",
			tools.PerfOptions{Duration: 2 * time.Second, Reverse: reverse, Interval: time.Second, UDP: true, Bitrate: 20e6}, &out)
		srv.Wait()
		// 20 Mbit/s for 2 s in datagrams of the TAP's MSS (1448): some 3450.
		if err != nil || len(rep.Packets) != 1 || rep.Packets[0] < 3000 || len(rep.PeerPackets) != 1 || rep.PeerPackets[0] < 3000 {
			t.Fatalf("usnet perf -u client (reverse=%v) against iperf3 -s: %+v %v\n%s", reverse, rep, err, out.String())
		}
		role := "receiver"
		if reverse {
			role = "sender"
		}
		if l := perfRoleLine(sout.String(), role); l == "" || l != perfRoleLine(out.String(), role) {
			t.Errorf("usnet perf -u client (reverse=%v) printed the %s line\n%q\nthe stock server\n%q\nclient:\n%s\nserver:\n%s",
				reverse, role, perfRoleLine(out.String(), role), l, out.String(), sout.String())
		}
		t.Logf("usnet perf -u -c reverse=%v:\n%s", reverse, perfRoleLine(out.String(), "receiver"))
	}
}

// stockClientAgainstPerf runs the stock iperf3 client in the kernel
// namespace with args (and -R when reverse) against usnet's perf server
// for one test, and returns what each printed.
func stockClientAgainstPerf(t *testing.T, r ipRig, reverse bool, args ...string) (server, client string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var slog bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- tools.PerfServe(ctx, r.ns, "10.99.0.2:5201", tools.PerfServerOptions{Once: true, Interval: time.Second}, &slog)
	}()
	time.Sleep(100 * time.Millisecond)
	cmd := append([]string{"netns", "exec", r.kns, "iperf3", "-c", "10.99.0.2"}, args...)
	if reverse {
		cmd = append(cmd, "-R")
	}
	tctx, tcancel := context.WithTimeout(context.Background(), time.Minute)
	out, err := exec.CommandContext(tctx, "ip", cmd...).Output()
	tcancel()
	cancel()
	if err != nil {
		t.Fatalf("iperf3 %v (reverse=%v): %v\n%s", args, reverse, err, out)
	}
	if err := <-done; err != nil {
		t.Fatalf("perf server: %v", err)
	}
	return slog.String(), string(out)
}

// perfRoleLine is the last summary line of an iperf3 output that ends
// with role ("sender" or "receiver").
func perfRoleLine(out, role string) string {
	line := ""
	for _, l := range strings.Split(out, "\n") {
		if strings.HasSuffix(l, " "+role) {
			line = l
		}
	}
	return line
}
