package tools

import (
	"bytes"
	"testing"
	"time"
)

// The golden lines below are copied from runs of the stock iperf3 3.12 on
// this machine (client and server in a kernel namespace of their own);
// the byte counts and durations are chosen so that the figures match.

const sec = time.Second

// TestPrintIntervalAsIperf3: the interval reports, as the sender (Retr
// and Cwnd), the receiver, several streams with [SUM] lines and
// separators, and omitted seconds.
func TestPrintIntervalAsIperf3(t *testing.T) {
	for _, tc := range []struct {
		name   string
		sender bool
		groups [][]streamInterval
		want   string
	}{
		{"sender", true, [][]streamInterval{
			{{id: 5, start: 0, end: sec, bytes: 2459000000, tcp: true, retr: 34, cwnd: 895 << 10}},
			{{id: 5, start: 2 * sec, end: 3 * sec, bytes: 2405000000, tcp: true, retr: 2, cwnd: 2223000}},
		}, "[ ID] Interval           Transfer     Bitrate         Retr  Cwnd\n" +
			"[  5]   0.00-1.00   sec  2.29 GBytes  19.7 Gbits/sec   34    895 KBytes       \n" +
			"[  5]   2.00-3.00   sec  2.24 GBytes  19.2 Gbits/sec    2   2.12 MBytes       \n"},
		{"omitted", true, [][]streamInterval{
			{{id: 5, start: 0, end: sec, bytes: 2305000000, tcp: true, retr: 13, cwnd: 895 << 10, omitted: true}},
			{{id: 5, start: 0, end: sec, bytes: 2083000000, tcp: true, retr: 4, cwnd: 895 << 10}},
		}, "[ ID] Interval           Transfer     Bitrate         Retr  Cwnd\n" +
			"[  5]   0.00-1.00   sec  2.15 GBytes  18.4 Gbits/sec   13    895 KBytes       (omitted)\n" +
			"[  5]   0.00-1.00   sec  1.94 GBytes  16.7 Gbits/sec    4    895 KBytes       \n"},
		{"receiver", false, [][]streamInterval{
			{{id: 5, start: 0, end: sec, bytes: 2416000000, retr: -1}},
			{{id: 5, start: 2 * sec, end: 2*sec + 3*time.Millisecond, bytes: 1 << 20, retr: -1}},
		}, "[ ID] Interval           Transfer     Bitrate\n" +
			"[  5]   0.00-1.00   sec  2.25 GBytes  19.3 Gbits/sec                  \n" +
			"[  5]   2.00-2.00   sec  1.00 MBytes  2.80 Gbits/sec                  \n"},
		{"parallel-sender", true, [][]streamInterval{
			{{id: 5, start: 0, end: sec, bytes: 1589000000, tcp: true, retr: 5, cwnd: 767 << 10},
				{id: 7, start: 0, end: sec, bytes: 1589000000, tcp: true, retr: 1, cwnd: 767 << 10}},
			{{id: 5, start: sec, end: 2004 * time.Millisecond, bytes: 934281216, tcp: true, retr: 3, cwnd: 2360000},
				{id: 7, start: sec, end: 2004 * time.Millisecond, bytes: 931764633, tcp: true, retr: 5, cwnd: 2360000}},
		}, "[ ID] Interval           Transfer     Bitrate         Retr  Cwnd\n" +
			"[  5]   0.00-1.00   sec  1.48 GBytes  12.7 Gbits/sec    5    767 KBytes       \n" +
			"[  7]   0.00-1.00   sec  1.48 GBytes  12.7 Gbits/sec    1    767 KBytes       \n" +
			"[SUM]   0.00-1.00   sec  2.96 GBytes  25.4 Gbits/sec    6             \n" +
			"- - - - - - - - - - - - - - - - - - - - - - - - -\n" +
			"[  5]   1.00-2.00   sec   891 MBytes  7.44 Gbits/sec    3   2.25 MBytes       \n" +
			"[  7]   1.00-2.00   sec   889 MBytes  7.42 Gbits/sec    5   2.25 MBytes       \n" +
			"[SUM]   1.00-2.00   sec  1.74 GBytes  14.9 Gbits/sec    8             \n"},
		{"parallel-receiver", false, [][]streamInterval{
			{{id: 5, start: 0, end: sec, bytes: 1577000000, retr: -1},
				{id: 8, start: 0, end: sec, bytes: 1582000000, retr: -1}},
		}, "[ ID] Interval           Transfer     Bitrate\n" +
			"[  5]   0.00-1.00   sec  1.47 GBytes  12.6 Gbits/sec                  \n" +
			"[  8]   0.00-1.00   sec  1.47 GBytes  12.7 Gbits/sec                  \n" +
			"[SUM]   0.00-1.00   sec  2.94 GBytes  25.3 Gbits/sec                  \n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			r := &perfRun{sender: tc.sender, hasInfo: tc.sender, out: &out}
			for _, g := range tc.groups {
				r.printInterval(g)
			}
			if out.String() != tc.want {
				t.Errorf("got\n%swant\n%s", out.String(), tc.want)
			}
		})
	}
}

// TestPrintServerSummaryAsIperf3: iperf3's server prints only its own
// role's lines, with Retr when it sent.
func TestPrintServerSummaryAsIperf3(t *testing.T) {
	var out bytes.Buffer
	d := 2006 * time.Millisecond
	printSummary(&out, PerfReport{Duration: d, Sender: false, IDs: []int{5, 8},
		Streams: []int64{2520100000, 2520100000}, PeerStreams: []int64{2520100000, 2520100000}}, false, 0)
	want := "[ ID] Interval           Transfer     Bitrate\n" +
		"[  5]   0.00-2.01   sec  2.35 GBytes  10.1 Gbits/sec                  receiver\n" +
		"[  8]   0.00-2.01   sec  2.35 GBytes  10.1 Gbits/sec                  receiver\n" +
		"[SUM]   0.00-2.01   sec  4.69 GBytes  20.1 Gbits/sec                  receiver\n"
	if out.String() != want {
		t.Errorf("receiving server: got\n%swant\n%s", out.String(), want)
	}
	out.Reset()
	printSummary(&out, PerfReport{Duration: 2 * sec, Sender: true, IDs: []int{5}, Streams: []int64{4864000000},
		PeerStreams: []int64{4864000000}, SenderHasRetr: true, Retransmits: []int64{16}}, false, 0)
	want = "[ ID] Interval           Transfer     Bitrate         Retr\n" +
		"[  5]   0.00-2.00   sec  4.53 GBytes  19.5 Gbits/sec   16             sender\n"
	if out.String() != want {
		t.Errorf("sending server: got\n%swant\n%s", out.String(), want)
	}
}

// TestPrintClientSummaryDurations: the client's sender and receiver lines
// carry each side's own duration, as iperf3's do ("0.00-2.00 sender",
// "0.00-2.01 receiver").
func TestPrintClientSummaryDurations(t *testing.T) {
	var out bytes.Buffer
	printReport(&out, PerfReport{Duration: 2 * sec, PeerDuration: 2006 * time.Millisecond, Sender: true,
		IDs: []int{5, 7}, Streams: []int64{2523000000, 2523000000}, PeerStreams: []int64{2523000000, 2523000000},
		SenderHasRetr: true, Retransmits: []int64{8, 6}})
	want := "[ ID] Interval           Transfer     Bitrate         Retr\n" +
		"[  5]   0.00-2.00   sec  2.35 GBytes  10.1 Gbits/sec    8             sender\n" +
		"[  5]   0.00-2.01   sec  2.35 GBytes  10.1 Gbits/sec                  receiver\n" +
		"[  7]   0.00-2.00   sec  2.35 GBytes  10.1 Gbits/sec    6             sender\n" +
		"[  7]   0.00-2.01   sec  2.35 GBytes  10.1 Gbits/sec                  receiver\n" +
		"[SUM]   0.00-2.00   sec  4.70 GBytes  20.2 Gbits/sec   14             sender\n" +
		"[SUM]   0.00-2.01   sec  4.70 GBytes  20.1 Gbits/sec                  receiver\n"
	if out.String() != want {
		t.Errorf("got\n%swant\n%s", out.String(), want)
	}
}

// TestPerfStreamIDs: the bracketed numbers are iperf3's socket numbers
// (5, 7, 9 on the client and 5, 8, 11 on the server of a -P 3 test).
func TestPerfStreamIDs(t *testing.T) {
	for i, want := range []int{5, 7, 9} {
		if got := clientStreamID(i); got != want {
			t.Errorf("client stream %d is [%d], want [%d]", i, got, want)
		}
	}
	for i, want := range []int{5, 8, 11} {
		if got := serverStreamID(i); got != want {
			t.Errorf("server stream %d is [%d], want [%d]", i, got, want)
		}
	}
}

// TestPrintUDPAsIperf3: a UDP test's reports: the sender's datagrams,
// the receiver's jitter and losses (the percentage with two significant
// digits, "12%"), and the summary, from the stock iperf3's lines.
func TestPrintUDPAsIperf3(t *testing.T) {
	for _, tc := range []struct {
		name   string
		sender bool
		groups [][]streamInterval
		want   string
	}{
		{"sender", true, [][]streamInterval{
			{{id: 5, start: 0, end: sec, bytes: 131072, udp: true, packets: 4}},
		}, "[ ID] Interval           Transfer     Bitrate         Total Datagrams\n" +
			"[  5]   0.00-1.00   sec   128 KBytes  1.05 Mbits/sec  4  \n"},
		{"receiver", false, [][]streamInterval{
			{{id: 5, start: 0, end: sec, bytes: 163840, udp: true, packets: 5, jitter: 0.000013}},
			{{id: 5, start: sec, end: 2 * sec, bytes: 98304, udp: true, packets: 3, jitter: 0.000014}},
			{{id: 5, start: 0, end: sec, bytes: 115000, udp: true, packets: 131, lost: 16, jitter: 0.000083}},
		}, "[ ID] Interval           Transfer     Bitrate         Jitter    Lost/Total Datagrams\n" +
			"[  5]   0.00-1.00   sec   160 KBytes  1.31 Mbits/sec  0.013 ms  0/5 (0%)  \n" +
			"[  5]   1.00-2.00   sec  96.0 KBytes   786 Kbits/sec  0.014 ms  0/3 (0%)  \n" +
			"[  5]   0.00-1.00   sec   112 KBytes   920 Kbits/sec  0.083 ms  16/131 (12%)  \n"},
		{"parallel-receiver", false, [][]streamInterval{
			{{id: 5, start: 0, end: sec, bytes: 1277952, udp: true, packets: 39, jitter: 0.000036},
				{id: 7, start: 0, end: sec, bytes: 1277952, udp: true, packets: 39, jitter: 0.000028}},
		}, "[ ID] Interval           Transfer     Bitrate         Jitter    Lost/Total Datagrams\n" +
			"[  5]   0.00-1.00   sec  1.22 MBytes  10.2 Mbits/sec  0.036 ms  0/39 (0%)  \n" +
			"[  7]   0.00-1.00   sec  1.22 MBytes  10.2 Mbits/sec  0.028 ms  0/39 (0%)  \n" +
			"[SUM]   0.00-1.00   sec  2.44 MBytes  20.4 Mbits/sec  0.032 ms  0/78 (0%)  \n"},
		{"parallel-sender", true, [][]streamInterval{
			{{id: 5, start: 0, end: sec, bytes: 1277952, udp: true, packets: 39},
				{id: 6, start: 0, end: sec, bytes: 1277952, udp: true, packets: 39}},
		}, "[ ID] Interval           Transfer     Bitrate         Total Datagrams\n" +
			"[  5]   0.00-1.00   sec  1.22 MBytes  10.2 Mbits/sec  39  \n" +
			"[  6]   0.00-1.00   sec  1.22 MBytes  10.2 Mbits/sec  39  \n" +
			"[SUM]   0.00-1.00   sec  2.44 MBytes  20.4 Mbits/sec  78  \n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			r := &perfRun{sender: tc.sender, udp: true, out: &out}
			for _, g := range tc.groups {
				r.printInterval(g)
			}
			if out.String() != tc.want {
				t.Errorf("got\n%swant\n%s", out.String(), tc.want)
			}
		})
	}
	var out bytes.Buffer
	printReport(&out, PerfReport{UDP: true, Duration: 2 * sec, Sender: true, IDs: []int{5},
		Streams: []int64{263000}, Packets: []int64{263}, Lost: []int64{0}, Jitter: []float64{0},
		PeerStreams: []int64{230000}, PeerPackets: []int64{262}, PeerLost: []int64{32}, PeerJitter: []float64{0.000118}})
	want := "[ ID] Interval           Transfer     Bitrate         Jitter    Lost/Total Datagrams\n" +
		"[  5]   0.00-2.00   sec   257 KBytes  1.05 Mbits/sec  0.000 ms  0/263 (0%)  sender\n" +
		"[  5]   0.00-2.00   sec   225 KBytes   920 Kbits/sec  0.118 ms  32/262 (12%)  receiver\n"
	if out.String() != want {
		t.Errorf("summary: got\n%swant\n%s", out.String(), want)
	}
}

// TestPerfFormatAsIperf3: -f fixes the bitrate's unit (k, m, g, t bits;
// K, M, G, T bytes) and leaves the transfer's adaptive, as the stock
// iperf3's -f m and -f K lines show.
func TestPerfFormatAsIperf3(t *testing.T) {
	for _, tc := range []struct {
		format byte
		d      time.Duration
		bytes  int64
		want   string
	}{
		{'m', sec, 2952378000, "[  5]   0.00-1.00   sec  2.75 GBytes  23619 Mbits/sec"},
		{'k', 1002 * time.Millisecond, 3264882857, "[  5]   0.00-1.00   sec  3.04 GBytes  26066929 Kbits/sec"},
		{'K', sec, 131072, "[  5]   0.00-1.00   sec   128 KBytes   128 KBytes/sec"},
		{0, sec, 131072, "[  5]   0.00-1.00   sec   128 KBytes  1.05 Mbits/sec"},
	} {
		if got := perfSpan("  5", 0, tc.d, tc.bytes, tc.format); got != tc.want {
			t.Errorf("-f %c: got\n%q\nwant\n%q", tc.format, got, tc.want)
		}
	}
}
