package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestIPBatchTopology checks that the configuration pair makes (netns
// add, veth across namespaces, -batch) is what `usnet ip -j` reports,
// and that netns del takes the veth pair with it.
func TestIPBatchTopology(t *testing.T) {
	d := startDaemon(t)
	d.pair()
	var addrs []struct {
		Ifname    string `json:"ifname"`
		Operstate string `json:"operstate"`
		AddrInfo  []struct {
			Local     string `json:"local"`
			Prefixlen int    `json:"prefixlen"`
		} `json:"addr_info"`
	}
	out := d.must("ip", "-n", "a", "-j", "addr", "show", "dev", "v0")
	if err := json.Unmarshal([]byte(out), &addrs); err != nil {
		t.Fatalf("ip -j addr: %v\n%s", err, out)
	}
	if len(addrs) != 1 || addrs[0].Ifname != "v0" || addrs[0].Operstate != "UP" ||
		len(addrs[0].AddrInfo) != 1 || addrs[0].AddrInfo[0].Local != addrA || addrs[0].AddrInfo[0].Prefixlen != 24 {
		t.Errorf("ip -n a -j addr show dev v0 = %s, want v0 UP with %s/24", out, addrA)
	}
	// A failing line stops the batch with ip's exit status 1 and names
	// the line, as iproute2 does.
	bad := filepath.Join(d.dir, "bad.batch")
	os.WriteFile(bad, []byte("link set lo up\nlink set nosuchdev up\n"), 0o644)
	r := d.run(nil, "ip", "-n", "a", "-batch", bad)
	if r.code() == 0 || !strings.Contains(r.stderr, "Command failed") || !strings.Contains(r.stderr, ":2") {
		t.Errorf("ip -batch with a bad line 2: exit %d, stderr %q; want a failure naming line 2", r.code(), r.stderr)
	}
	// Deleting b destroys v1 and with it its peer v0 in a, as on Linux.
	d.must("ip", "netns", "del", "b")
	if out := d.must("ip", "netns"); strings.TrimSpace(out) != "a" {
		t.Errorf("ip netns after del b lists %q, want a", out)
	}
	if r := d.run(nil, "ip", "-n", "a", "link", "show", "v0"); r.err == nil {
		t.Errorf("v0 outlived its peer's namespace:\n%s", r.stdout)
	}
}

var (
	pingHead    = regexp.MustCompile(`^PING ` + regexp.QuoteMeta(addrB) + ` \(` + regexp.QuoteMeta(addrB) + `\) 56\(84\) bytes of data\.$`)
	pingReply   = regexp.MustCompile(`^64 bytes from ` + regexp.QuoteMeta(addrB) + `: icmp_seq=(\d+) ttl=64 time=\d+(\.\d+)? ms$`)
	pingStats   = regexp.MustCompile(`^(\d+) packets transmitted, (\d+) received, (\d+)% packet loss, time \d+ms$`)
	pingRTT     = regexp.MustCompile(`^rtt min/avg/max/mdev = \d+(\.\d+)?/\d+\.\d{3}/\d+(\.\d+)?/\d+\.\d{3} ms$`)
	pingSummary = "--- " + addrB + " ping statistics ---"
)

// TestPing checks `usnet ping` line by line against iputils ping's output.
func TestPing(t *testing.T) {
	d := startDaemon(t)
	d.pair()
	out := d.must("ping", "-n", "a", "-c", "3", "-i", "0.2", addrB)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 8 {
		t.Fatalf("usnet ping printed %d lines, want 8:\n%s", len(lines), out)
	}
	if !pingHead.MatchString(lines[0]) {
		t.Errorf("first line %q, want iputils' %q", lines[0], pingHead)
	}
	for i, l := range lines[1:4] {
		m := pingReply.FindStringSubmatch(l)
		if m == nil || m[1] != strconv.Itoa(i+1) {
			t.Errorf("reply line %q, want iputils' %q with icmp_seq=%d", l, pingReply, i+1)
		}
	}
	if lines[4] != "" || lines[5] != pingSummary {
		t.Errorf("summary heading %q %q, want an empty line and %q", lines[4], lines[5], pingSummary)
	}
	if m := pingStats.FindStringSubmatch(lines[6]); m == nil || m[1] != "3" || m[2] != "3" || m[3] != "0" {
		t.Errorf("statistics line %q, want 3 transmitted, 3 received, 0%% loss", lines[6])
	}
	if !pingRTT.MatchString(lines[7]) {
		t.Errorf("rtt line %q, want %q", lines[7], pingRTT)
	}
}

// TestPingNoReply: with no answer, iputils ping reports 100% loss and
// exits 1.
func TestPingNoReply(t *testing.T) {
	d := startDaemon(t)
	d.pair()
	r := d.run(nil, "ping", "-n", "a", "-c", "1", "-W", "0.5", "10.77.0.9")
	if r.code() != 1 {
		t.Errorf("ping of a silent address exited %d (%v), want 1\n%s%s", r.code(), r.err, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "1 packets transmitted, 0 received, 100% packet loss") {
		t.Errorf("ping of a silent address printed\n%s\nwant 100%% packet loss", r.stdout)
	}
}

// randomBytes is n reproducible pseudo-random bytes.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(int64(n))).Read(b)
	return b
}

// TestNC sends 1 MiB from `usnet nc HOST PORT`'s stdin to `usnet nc -l
// PORT`'s stdout; the client ends when its stdin does, and the bytes
// arrive exactly. With input on the listener too, both directions are
// byte-exact at once.
func TestNC(t *testing.T) {
	d := startDaemon(t)
	d.pair()
	for _, tc := range []struct {
		name string
		port string
		back []byte // the listener's stdin
	}{
		{"one-way", "5000", nil},
		{"both-ways", "5001", randomBytes(300000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := randomBytes(1 << 20)
			l := d.startInput(bytes.NewReader(tc.back), "nc", "-n", "b", "-l", tc.port)
			// nc -l prints nothing when it listens: retry while the
			// connection is refused.
			deadline := time.Now().Add(cmdTimeout)
			var got []byte
			for {
				out, stderr, err := ncClient(t, d, data, tc.back, tc.port)
				if err == nil {
					got = out
					break
				}
				if !strings.Contains(stderr, "refused") || time.Now().After(deadline) {
					t.Fatalf("usnet nc client: %v\n%s", err, stderr)
				}
				time.Sleep(50 * time.Millisecond)
			}
			l.wait(t)
			if got := []byte(l.stdout.String()); !bytes.Equal(got, data) {
				t.Errorf("nc -l received %d bytes, want the %d sent (first difference at %d)", len(got), len(data), firstDiff(got, data))
			}
			if !bytes.Equal(got, tc.back) {
				t.Errorf("nc client received %d bytes, want the listener's %d (first difference at %d)", len(got), len(tc.back), firstDiff(got, tc.back))
			}
		})
	}
}

// ncClient runs `usnet nc -n a addrB PORT` with data as its input, whose
// end it holds back until the client has received back's length: the
// listener, like OpenBSD nc's, quits as soon as the client's side ends,
// and must not be cut short in the middle of its own input.
func ncClient(t *testing.T, d *daemon, data, back []byte, port string) (out []byte, stderr string, err error) {
	t.Helper()
	ctx, cancel := contextTimeout()
	defer cancel()
	c := d.command(ctx, "nc", "-n", "a", addrB, port)
	w := &notifyWriter{want: len(back), full: make(chan struct{})}
	if len(back) == 0 {
		close(w.full)
	}
	c.Stdin = io.MultiReader(bytes.NewReader(data), eofAfter{w.full, ctx.Done()})
	var errb bytes.Buffer
	c.Stdout, c.Stderr = w, &errb
	err = c.Run()
	if ctx.Err() != nil {
		t.Fatalf("usnet nc client: timed out after %v (%d bytes back)\n%s", cmdTimeout, len(w.buf.String()), errb.String())
	}
	return []byte(w.buf.String()), errb.String(), err
}

// notifyWriter closes full once want bytes were written to it.
type notifyWriter struct {
	buf  syncBuffer
	want int
	full chan struct{}
	once sync.Once
}

func (w *notifyWriter) Write(p []byte) (int, error) {
	n, err := w.buf.Write(p)
	if len(w.buf.String()) >= w.want {
		w.once.Do(func() {
			if w.want > 0 {
				close(w.full)
			}
		})
	}
	return n, err
}

// eofAfter is a reader that ends (EOF) once either channel closes.
type eofAfter struct{ a, b <-chan struct{} }

func (e eofAfter) Read([]byte) (int, error) {
	select {
	case <-e.a:
	case <-e.b:
	}
	return 0, io.EOF
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestHTTP serves a directory from b and fetches a 1 MiB file from a.
func TestHTTP(t *testing.T) {
	d := startDaemon(t)
	d.pair()
	www := filepath.Join(d.dir, "www")
	os.Mkdir(www, 0o755)
	data := randomBytes(1<<20 + 17)
	if err := os.WriteFile(filepath.Join(www, "blob.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	srv := d.start("http", "-n", "b", "serve", www, "--addr", ":8080")
	srv.waitOutput(t, "serving")
	dst := filepath.Join(d.dir, "got.bin")
	r := d.run(nil, "http", "-n", "a", "get", "http://"+addrB+":8080/blob.bin", "-o", dst)
	if r.err != nil {
		t.Fatalf("usnet http get: %v\n%s", r.err, r.stderr)
	}
	got, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("http get wrote %d bytes, want the %d served (first difference at %d)", len(got), len(data), firstDiff(got, data))
	}
	if want := strconv.Itoa(len(data)) + " bytes, sha256 "; !strings.Contains(r.stderr, want) {
		t.Errorf("http get printed %q, want %q...", r.stderr, want)
	}
	// A missing file is an error (exit 1), not an empty download.
	if r := d.run(nil, "http", "-n", "a", "get", "http://"+addrB+":8080/nope", "-o", filepath.Join(d.dir, "nope")); r.code() != 1 {
		t.Errorf("http get of a missing file exited %d, want 1\n%s", r.code(), r.stderr)
	}
}

// perfLine is an iperf3 summary line: "[  5]   0.00-1.00   sec   579 MBytes  4.86 Gbits/sec    0             sender",
// "[SUM]" in place of the stream's number for the total of several; the
// sender's lines carry its retransmissions (Retr).
var perfLine = regexp.MustCompile(`^\[(\s*\d+|SUM)\]\s+0\.00-\d+\.\d+\s+sec\s+\d+(?:\.\d+)? [KMGT]?Bytes\s+\d+(\.\d+)? [KMGT]?bits/sec\s+(?:(\d+)\s+)?(sender|receiver)$`)

// perfSummary checks an iperf3-like summary of streams streams (with a
// [SUM] when there are several) and returns the total's lines by role.
// The client prints the sender's and the receiver's lines; a server
// (server set) only those of its own role, as iperf3's server does.
func perfSummary(t *testing.T, out string, streams int, server, serverSends bool) map[string]string {
	t.Helper()
	lines := map[string]string{} // "ID role" -> line
	for _, l := range strings.Split(out, "\n") {
		if m := perfLine.FindStringSubmatch(l); m != nil {
			lines[strings.TrimSpace(m[1])+" "+m[4]] = l
			if (m[3] != "") != (m[4] == "sender") {
				t.Errorf("%s line %q: want Retr on sender lines only", m[4], l)
			}
		}
	}
	roles := []string{"sender", "receiver"}
	if server {
		roles = roles[1:]
		if serverSends {
			roles = []string{"sender"}
		}
	}
	want := len(roles) * streams
	if streams > 1 {
		want += len(roles)
	}
	total := "5"
	if streams > 1 {
		total = "SUM"
	}
	header := "[ ID] Interval           Transfer     Bitrate         Retr\n"
	if len(roles) == 1 && roles[0] == "receiver" {
		header = "[ ID] Interval           Transfer     Bitrate\n"
	}
	ok := len(lines) == want && strings.Contains(out, "- - - - - - - - - - - - - - - - - - - - - - - - -\n"+header)
	for _, r := range roles {
		ok = ok && lines[total+" "+r] != ""
	}
	if !ok {
		t.Errorf("want an iperf3 summary (separator, heading, %v lines of %d streams, [%s] for the total) in\n%s", roles, streams, total, out)
	}
	return map[string]string{"sender": lines[total+" sender"], "receiver": lines[total+" receiver"]}
}

var (
	// perfConnectedLine is iperf3's line for a data stream.
	perfConnectedLine = regexp.MustCompile(`(?m)^\[ *\d+\] local 10\.77\.0\.[12] port \d+ connected to 10\.77\.0\.[12] port \d+$`)
	// perfSenderInterval is an interval report of the sender: Retr and
	// Cwnd (from TCP_INFO), then "(omitted)" in the omitted seconds.
	perfSenderInterval = regexp.MustCompile(`(?m)^\[  5\] +\d+\.\d\d-\d+\.\d\d +sec +[\d.]+ [KMG]?Bytes +[\d.]+ [KMG]?bits/sec +\d+ +[\d.]+ [KMG]?Bytes {7}(\(omitted\))?$`)
	// perfReceiverInterval is an interval report of the receiver.
	perfReceiverInterval = regexp.MustCompile(`(?m)^\[  5\] +\d+\.\d\d-\d+\.\d\d +sec +[\d.]+ [KMG]?Bytes +[\d.]+ [KMG]?bits/sec {18}(\(omitted\))?$`)
)

// TestPerf runs `usnet perf -s -1` against a timed client and
// byte-counted ones (forward, reverse, two streams), and with iperf3's
// options: reports per interval, omitted seconds, -C, -w, -l.
func TestPerf(t *testing.T) {
	d := startDaemon(t)
	d.pair()
	for _, tc := range []struct {
		name    string
		args    []string
		streams int
		want    string // the transfer the total's lines show, if fixed
	}{
		{"time", []string{"-t", "2"}, 1, ""},
		{"bytes", []string{"--bytes", "10000000"}, 1, "9.54 MBytes"},
		// -n counts the whole test: the server's bytes in reverse, the
		// sum of the streams in parallel.
		{"reverse-bytes", []string{"--bytes", "10000000", "-R"}, 1, "9.54 MBytes"},
		{"parallel-bytes", []string{"--bytes", "10000000", "-P", "2"}, 2, "9.54 MBytes"},
		{"options", []string{"-t", "1", "-O", "1", "-i", "0.5", "-C", "reno", "-w", "1M", "-l", "64K", "-f", "m"}, 1, ""},
		{"reverse-time", []string{"-t", "2", "-R", "-i", "0.5"}, 1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := d.start("perf", "-n", "b", "-s", "-1")
			srv.waitOutput(t, "Server listening on 5201 (test #1)")
			out := d.must(append([]string{"perf", "-n", "a", "-c", addrB}, tc.args...)...)
			reverse := slices.Contains(tc.args, "-R")
			head := "Connecting to host " + addrB + ", port 5201\n"
			if reverse {
				head += "Reverse mode, remote host " + addrB + " is sending\n"
			}
			if !strings.HasPrefix(out, head) || !perfConnectedLine.MatchString(out) || !strings.HasSuffix(out, "\niperf Done.\n") {
				t.Errorf("perf client output lacks iperf3's framing:\n%s", out)
			}
			client := perfSummary(t, out, tc.streams, false, false)
			srv.wait(t)
			sout := srv.stdout.String()
			if !strings.Contains(sout, "Accepted connection from "+addrA+", port ") || !perfConnectedLine.MatchString(sout) {
				t.Errorf("perf server output lacks iperf3's framing:\n%s", sout)
			}
			server := perfSummary(t, sout, tc.streams, true, reverse)
			// Both sides report intervals; the sender's with Retr and Cwnd.
			sender, receiver := out, sout
			if reverse {
				sender, receiver = sout, out
			}
			if !perfSenderInterval.MatchString(sender) || !strings.Contains(sender, "Retr  Cwnd\n") {
				t.Errorf("sender: no interval report with Retr and Cwnd in\n%s", sender)
			}
			if tc.streams == 1 && !perfReceiverInterval.MatchString(receiver) {
				t.Errorf("receiver: no interval report in\n%s", receiver)
			}
			// The client's reports come every -i seconds, and its test
			// ends on one; the server reports every second (its own -i)
			// until TEST_END reaches it, then the rest, if any.
			if timed := slices.Contains(tc.args, "-t"); timed && !reverse {
				secs, _ := strconv.ParseFloat(tc.args[slices.Index(tc.args, "-t")+1], 64)
				every := 1.0
				if i := slices.Index(tc.args, "-i"); i >= 0 {
					every, _ = strconv.ParseFloat(tc.args[i+1], 64)
				}
				omitted := 0.0
				if i := slices.Index(tc.args, "-O"); i >= 0 {
					omitted, _ = strconv.ParseFloat(tc.args[i+1], 64)
				}
				want := int((secs + omitted) / every)
				if n := len(perfSenderInterval.FindAllString(sender, -1)); n != want {
					t.Errorf("sender: %d interval reports, want %d in\n%s", n, want, sender)
				}
				if n := strings.Count(out, "(omitted)\n"); n != int(omitted/every) {
					t.Errorf("client: %d omitted reports, want %d in\n%s", n, int(omitted/every), out)
				}
			}
			if slices.Contains(tc.args, "-f") && (!strings.Contains(client["sender"], " Mbits/sec ") || strings.Contains(out, " Gbits/sec ")) {
				t.Errorf("-f m: client's bitrates not in Mbits/sec:\n%s", out)
			}
			if tc.want != "" {
				for role, l := range client {
					if !strings.Contains(l, tc.want) {
						t.Errorf("client %s line %q, want %s", role, l, tc.want)
					}
				}
				role := "receiver"
				if reverse {
					role = "sender"
				}
				if !strings.Contains(server[role], tc.want) {
					t.Errorf("server %s line %q, want %s", role, server[role], tc.want)
				}
			}
		})
	}
}

// TestPerfJSON: `usnet perf -J` on both ends writes iperf3's JSON, with
// the fields tools reading it take.
func TestPerfJSON(t *testing.T) {
	d := startDaemon(t)
	d.pair()
	type doc struct {
		Start struct {
			Connected []struct {
				Socket     int    `json:"socket"`
				RemoteHost string `json:"remote_host"`
			} `json:"connected"`
			TestStart struct {
				NumStreams int `json:"num_streams"`
				Reverse    int `json:"reverse"`
			} `json:"test_start"`
		} `json:"start"`
		Intervals []struct {
			Streams []struct {
				Bytes   int64  `json:"bytes"`
				SndCwnd *int64 `json:"snd_cwnd"`
				Sender  bool   `json:"sender"`
			} `json:"streams"`
			Sum struct {
				Bytes         int64   `json:"bytes"`
				BitsPerSecond float64 `json:"bits_per_second"`
			} `json:"sum"`
		} `json:"intervals"`
		End struct {
			SumSent struct {
				Bytes       int64  `json:"bytes"`
				Retransmits *int64 `json:"retransmits"`
			} `json:"sum_sent"`
			SumReceived struct {
				Bytes         int64   `json:"bytes"`
				BitsPerSecond float64 `json:"bits_per_second"`
			} `json:"sum_received"`
			SenderTCPCongestion string `json:"sender_tcp_congestion"`
		} `json:"end"`
	}
	for _, reverse := range []bool{false, true} {
		t.Run(fmt.Sprintf("reverse=%v", reverse), func(t *testing.T) {
			srv := d.start("perf", "-n", "b", "-s", "-1", "-J")
			time.Sleep(300 * time.Millisecond) // -J prints no banner to wait for
			args := []string{"perf", "-n", "a", "-c", addrB, "-t", "2", "-J", "-P", "2"}
			if reverse {
				args = append(args, "-R")
			}
			out := d.must(args...)
			srv.wait(t)
			var c, s doc
			if err := json.Unmarshal([]byte(out), &c); err != nil {
				t.Fatalf("client -J: %v\n%s", err, out)
			}
			if err := json.Unmarshal([]byte(srv.stdout.String()), &s); err != nil {
				t.Fatalf("server -J: %v\n%s", err, srv.stdout.String())
			}
			if len(c.Start.Connected) != 2 || c.Start.Connected[0].RemoteHost != addrB || c.Start.TestStart.NumStreams != 2 ||
				(c.Start.TestStart.Reverse == 1) != reverse {
				t.Errorf("client -J start: %+v", c.Start)
			}
			for _, side := range []struct {
				name   string
				d      doc
				sender bool
			}{{"client", c, !reverse}, {"server", s, reverse}} {
				e := side.d.End
				// Two reports of a second each; the server's may end with
				// the moment until TEST_END reached it.
				if n := len(side.d.Intervals); n != 2 && (side.name == "client" || n != 3) || e.SumSent.Bytes == 0 || e.SumReceived.Bytes == 0 ||
					e.SumReceived.BitsPerSecond <= 0 || e.SumSent.Retransmits == nil || e.SenderTCPCongestion == "" {
					t.Errorf("%s -J: %d intervals, end %+v", side.name, len(side.d.Intervals), e)
				}
				var sum int64
				for _, iv := range side.d.Intervals {
					sum += iv.Sum.Bytes
					for _, st := range iv.Streams {
						if st.Sender != side.sender || (st.SndCwnd != nil) != side.sender {
							t.Errorf("%s -J interval stream %+v: want sender %v with snd_cwnd on the sender only", side.name, st, side.sender)
						}
					}
				}
				own := e.SumReceived.Bytes
				if side.sender {
					own = e.SumSent.Bytes
				}
				if sum != own {
					t.Errorf("%s -J: intervals add up to %d bytes, its end total is %d", side.name, sum, own)
				}
			}
			if c.End.SumSent.Bytes != s.End.SumSent.Bytes || c.End.SumReceived.Bytes != s.End.SumReceived.Bytes {
				t.Errorf("client and server disagree: client %+v server %+v", c.End, s.End)
			}
		})
	}
}

// perfUDPLine is a summary line of a UDP test: the receiver's jitter and
// losses ("0.021 ms  0/3424 (0%)  receiver").
var perfUDPLine = regexp.MustCompile(`(?m)^\[  5\]   0\.00-\d+\.\d\d +sec +[\d.]+ [KMG]?Bytes +[\d.]+ [KMG]?bits/sec  \d+\.\d{3} ms  \d+/(\d+) \([\d.e+-]+%\)  (sender|receiver)$`)

// TestPerfUDP runs `usnet perf -u` both ways: datagrams paced to -b,
// the receiver's jitter and losses in iperf3's layout on both ends.
func TestPerfUDP(t *testing.T) {
	d := startDaemon(t)
	d.pair()
	for _, reverse := range []bool{false, true} {
		t.Run(fmt.Sprintf("reverse=%v", reverse), func(t *testing.T) {
			srv := d.start("perf", "-n", "b", "-s", "-1")
			srv.waitOutput(t, "Server listening on 5201 (test #1)")
			args := []string{"perf", "-n", "a", "-c", addrB, "-u", "-b", "5M", "-t", "2"}
			if reverse {
				args = append(args, "-R")
			}
			out := d.must(args...)
			srv.wait(t)
			sout := srv.stdout.String()
			lines := map[string]int{}
			for _, m := range perfUDPLine.FindAllStringSubmatch(out, -1) {
				lines[m[2]], _ = strconv.Atoi(m[1])
			}
			// 5 Mbit/s for 2 s in datagrams of 1448 bytes: some 860.
			if len(lines) != 2 || lines["sender"] < 700 || lines["receiver"] < 700 ||
				!strings.Contains(out, "Lost/Total Datagrams\n") || !strings.HasSuffix(out, "\niperf Done.\n") {
				t.Errorf("client: want iperf3's UDP summary, some 860 datagrams each way, in\n%s", out)
			}
			role, header := "receiver", "Jitter    Lost/Total Datagrams\n[  5]   0.00-1.00   sec "
			if reverse {
				role, header = "sender", "Total Datagrams\n[  5]   0.00-1.00   sec "
			}
			if m := perfUDPLine.FindStringSubmatch(sout); m == nil || m[2] != role || !strings.Contains(sout, header) {
				t.Errorf("server: want iperf3's UDP reports and its %s line in\n%s", role, sout)
			}
		})
	}
}

// TestCapture captures five packets of a ping on v0 into a pcapng file
// and has tshark read it, when tshark is installed.
func TestCapture(t *testing.T) {
	d := startDaemon(t)
	d.pair()
	file := filepath.Join(d.dir, "v0.pcapng")
	capt := d.start("capture", "-n", "a", "-i", "v0", "-w", file, "-c", "5")
	// The capture announces nothing when it is attached: ping until it
	// has its five packets.
	for !capt.exited() {
		d.run(nil, "ping", "-n", "a", "-c", "1", "-W", "1", addrB)
	}
	capt.wait(t)
	if !strings.Contains(capt.stderr.String(), "5 packets captured") {
		t.Errorf("capture printed %q, want 5 packets captured", capt.stderr.String())
	}
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed: the pcapng file is not checked")
	}
	out, err := exec.Command(tshark, "-n", "-r", file).CombinedOutput()
	if err != nil {
		t.Fatalf("tshark -r: %v\n%s", err, out)
	}
	var packets []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, "ICMP") || strings.Contains(l, "ARP") {
			packets = append(packets, l)
		}
	}
	if len(packets) != 5 || !strings.Contains(string(out), "Echo (ping) request") {
		t.Errorf("tshark read %d ARP/ICMP packets, want 5 with an echo request:\n%s", len(packets), out)
	}
}

// devRates is one device of `usnet stat -j`.
type devRates struct {
	Name        string   `json:"name"`
	RxBytes     *float64 `json:"rx_bytes_per_sec"`
	RxPackets   *float64 `json:"rx_packets_per_sec"`
	TxBytes     *float64 `json:"tx_bytes_per_sec"`
	TxPackets   *float64 `json:"tx_packets_per_sec"`
	RxDrops     *float64 `json:"rx_drops"`
	TxDrops     *float64 `json:"tx_drops"`
	Errors      *float64 `json:"errors"`
	FlowControl *float64 `json:"flow_control"`
}

// TestStat: `usnet stat -j INTERVAL COUNT` prints COUNT JSON arrays, one
// a line, listing every device with every field.
func TestStat(t *testing.T) {
	d := startDaemon(t)
	d.pair()
	out := d.must("stat", "-n", "a", "-j", "0.2", "2")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("stat -j 0.2 2 printed %d lines, want 2:\n%s", len(lines), out)
	}
	for _, l := range lines {
		var devs []devRates
		dec := json.NewDecoder(strings.NewReader(l))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&devs); err != nil {
			t.Fatalf("stat -j line %q: %v", l, err)
		}
		names := map[string]bool{}
		for _, dv := range devs {
			names[dv.Name] = true
			if dv.RxBytes == nil || dv.RxPackets == nil || dv.TxBytes == nil || dv.TxPackets == nil ||
				dv.RxDrops == nil || dv.TxDrops == nil || dv.Errors == nil || dv.FlowControl == nil {
				t.Errorf("stat -j device %q lacks fields: %s", dv.Name, l)
			}
		}
		if len(devs) != 2 || !names["lo"] || !names["v0"] {
			t.Errorf("stat -j lists %v, want lo and v0", names)
		}
	}
}

// TestReadOnlyUser: a client of another user (nobody) may read but every
// change answers EPERM, as Linux answers a process without
// CAP_NET_ADMIN; what needs CAP_NET_RAW (capture, raw sockets, so ping
// on a default ping_group_range) is EPERM and ports below 1024 (which
// need CAP_NET_BIND_SERVICE) are EACCES, while other sockets work.
func TestReadOnlyUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run the client as nobody")
	}
	d := startDaemon(t)
	d.pair()
	// The daemon makes its socket 0660 for its own group; open it to
	// everyone so that the daemon, not the file mode, decides.
	if err := os.Chmod(d.sock, 0o666); err != nil {
		t.Fatal(err)
	}
	asNobody := d.runAs(nobody())
	if r := asNobody("ip", "-n", "a", "link", "show", "v0"); r.err != nil || !strings.Contains(r.stdout, "v0@") {
		t.Fatalf("ip link show as nobody: %v\n%s%s", r.err, r.stdout, r.stderr)
	}
	if r := asNobody("ip", "-n", "a", "link", "set", "v0", "down"); r.code() != 2 || !strings.Contains(r.stderr, "Operation not permitted") {
		t.Errorf("ip link set down as nobody: exit %d, stderr %q; want 2 and Operation not permitted", r.code(), r.stderr)
	}
	if r := asNobody("ip", "netns", "add", "c"); r.code() == 0 || !strings.Contains(r.stderr, "operation not permitted") && !strings.Contains(r.stderr, "Operation not permitted") {
		t.Errorf("ip netns add as nobody: exit %d, stderr %q; want a failure with Operation not permitted", r.code(), r.stderr)
	}
	// The change was refused: v0 is still up.
	if out := d.must("ip", "-n", "a", "link", "show", "v0"); !strings.Contains(out, "state UP") {
		t.Errorf("after nobody's refused change v0 is\n%s", out)
	}
	for _, c := range []struct {
		args []string
		want string
		code int // 0: any failure
	}{
		{[]string{"capture", "-n", "a", "-i", "v0", "-w", "-", "-c", "1"}, "operation not permitted", 0},
		// iputils ping exits 2 on an error other than no reply.
		{[]string{"ping", "-n", "a", "-c", "1", addrB}, "operation not permitted", 2},
		{[]string{"nc", "-n", "a", "-l", "80"}, "permission denied", 0},
		{[]string{"nc", "-n", "a", "-u", "-l", "53"}, "permission denied", 0},
	} {
		if r := asNobody(c.args...); r.code() == 0 || c.code != 0 && r.code() != c.code || !strings.Contains(r.stderr, c.want) {
			t.Errorf("usnet %s as nobody: exit %d, stderr %q; want a failure (exit %d) with %q", strings.Join(c.args, " "), r.code(), r.stderr, c.code, c.want)
		}
	}
	// Sockets on unprivileged ports are everyone's.
	srv := d.startAs(nobody(), "nc", "-n", "b", "-l", "8080")
	for deadline := time.Now().Add(cmdTimeout); ; { // nc -l says nothing when it listens
		r := d.run(strings.NewReader("hi\n"), "nc", "-n", "a", addrB, "8080")
		if r.err == nil {
			break
		}
		if !strings.Contains(r.stderr, "refused") || time.Now().After(deadline) {
			t.Fatalf("nc to nobody's listener on port 8080: %v\n%s", r.err, r.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	srv.wait(t)
	if got := srv.stdout.String(); got != "hi\n" {
		t.Errorf("nobody's nc -l 8080 printed %q, want \"hi\\n\"", got)
	}
}

// TestAdminGroup: `usnet daemon --admin-group GID` makes the group's
// members administrators, here by a supplementary group: they change
// links, capture and ping, while the other users stay read-only.
func TestAdminGroup(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run the client as nobody")
	}
	const gid = 4242
	d := startDaemon(t, "--admin-group", strconv.Itoa(gid))
	d.pair()
	if err := os.Chmod(d.sock, 0o666); err != nil {
		t.Fatal(err)
	}
	member, other := d.runAs(nobody(gid)), d.runAs(nobody(100))
	if r := other("ip", "-n", "a", "link", "set", "v0", "mtu", "1400"); r.code() != 2 || !strings.Contains(r.stderr, "Operation not permitted") {
		t.Errorf("ip link set as a non-member: exit %d, stderr %q; want 2 and Operation not permitted", r.code(), r.stderr)
	}
	if r := member("ip", "-n", "a", "link", "set", "v0", "mtu", "1400"); r.err != nil {
		t.Fatalf("ip link set as a member of the admin group: %v\n%s", r.err, r.stderr)
	}
	if out := d.must("ip", "-n", "a", "link", "show", "v0"); !strings.Contains(out, "mtu 1400") {
		t.Errorf("after the member's change v0 is\n%s", out)
	}
	if r := member("ping", "-n", "a", "-c", "1", addrB); r.err != nil || !strings.Contains(r.stdout, "1 received") {
		t.Errorf("ping as a member of the admin group: %v\n%s%s", r.err, r.stdout, r.stderr)
	}
}

// runAs returns a runner of `usnet ARGS...` with the credentials of attr.
func (d *daemon) runAs(attr *syscall.SysProcAttr) func(args ...string) result {
	return func(args ...string) result {
		d.t.Helper()
		ctx, cancel := contextTimeout()
		defer cancel()
		c := d.command(ctx, args...)
		c.Dir = d.dir
		c.SysProcAttr = attr
		var out, errb bytes.Buffer
		c.Stdout, c.Stderr = &out, &errb
		err := c.Run()
		return result{out.String(), errb.String(), err}
	}
}
