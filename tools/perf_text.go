package tools

import (
	"fmt"
	"io"
	"math"
	"net"
	"strconv"
	"strings"
	"time"
)

// iperf3 3.12's text output. The layouts below reproduce, column for
// column, what the stock iperf3 prints on this machine (perf_test.go has
// its lines as golden strings).
const (
	perfSeparator      = "- - - - - - - - - - - - - - - - - - - - - - - - -\n"
	perfHeader         = "[ ID] Interval           Transfer     Bitrate\n"
	perfHeaderRetr     = "[ ID] Interval           Transfer     Bitrate         Retr\n"
	perfHeaderRetrCwnd = "[ ID] Interval           Transfer     Bitrate         Retr  Cwnd\n"
	perfBanner         = "-----------------------------------------------------------\n"
	perfHeaderUDPSend  = "[ ID] Interval           Transfer     Bitrate         Total Datagrams\n"
	perfHeaderUDP      = "[ ID] Interval           Transfer     Bitrate         Jitter    Lost/Total Datagrams\n"
)

// perfUDPTail is the end of a UDP receiver's line (and of both summary
// lines): jitter, losses of the datagrams sent, then the role or
// "(omitted)".
func perfUDPTail(jitter float64, lost, packets int64, what string) string {
	pct := 0.0
	if packets > 0 {
		pct = float64(lost) * 100 / float64(packets)
	}
	return fmt.Sprintf("  %5.3f ms  %d/%d (%.2g%%)  %s\n", jitter*1000, lost, packets, pct, what)
}

// perfSpan formats the columns every report line shares: the interval,
// the transfer and the bitrate, in the unit format names (iperf3's -f).
func perfSpan(id string, from, to time.Duration, bytes int64, format byte) string {
	bits := 0.0
	if d := (to - from).Seconds(); d > 0 {
		bits = float64(bytes) * 8 / d
	}
	return fmt.Sprintf("[%s] %6.2f-%-6.2f sec  %ss  %ss/sec", id, from.Seconds(), to.Seconds(),
		unitString(float64(bytes), 1024, "Byte"), rateString(bits, format))
}

// rateString is the bitrate column in iperf3's -f unit: k, m, g or t
// bits (powers of 1000), K, M, G or T bytes (powers of 1024), else the
// adaptive bits unit.
func rateString(bits float64, format byte) string {
	if i := strings.IndexByte("kmgt", format); i >= 0 {
		return threeDigits(bits/math.Pow(1000, float64(i+1)), "KMGT"[i:i+1], "bit")
	}
	if i := strings.IndexByte("KMGT", format); i >= 0 {
		return threeDigits(bits/8/math.Pow(1024, float64(i+1)), "KMGT"[i:i+1], "Byte")
	}
	return unitString(bits, 1000, "bit")
}

// perfTail is the end of a line: Retr (retr >= 0) or its blank column,
// then the role or "(omitted)".
func perfTail(retr int64, what string) string {
	if retr >= 0 {
		return fmt.Sprintf("  %3d             %s\n", retr, what)
	}
	return "                  " + what + "\n"
}

func omittedMark(omitted bool) string {
	if omitted {
		return "(omitted)"
	}
	return ""
}

// printInterval prints one interval: a line per stream, with the
// sender's Retr and Cwnd when known, and a [SUM] line for several
// streams, whose groups a separator divides.
func (r *perfRun) printInterval(ivs []streamInterval) {
	w := r.out
	tcpInfo := r.sender && r.hasInfo
	if r.groups == 0 {
		if r.udp && r.sender {
			io.WriteString(w, perfHeaderUDPSend)
		} else if r.udp {
			io.WriteString(w, perfHeaderUDP)
		} else if tcpInfo {
			io.WriteString(w, perfHeaderRetrCwnd)
		} else {
			io.WriteString(w, perfHeader)
		}
	} else if len(ivs) > 1 {
		io.WriteString(w, perfSeparator)
	}
	r.groups++
	var sum streamInterval
	sum.retr = -1
	for _, iv := range ivs {
		line := perfSpan(fmt.Sprintf("%3d", iv.id), iv.start, iv.end, iv.bytes, r.format)
		if iv.udp && r.sender {
			line += fmt.Sprintf("  %d  %s\n", iv.packets, omittedMark(iv.omitted))
		} else if iv.udp {
			line += perfUDPTail(iv.jitter, iv.lost, iv.packets, omittedMark(iv.omitted))
		} else if iv.tcp {
			line += fmt.Sprintf("  %3d   %ss       %s\n", iv.retr,
				unitString(float64(iv.cwnd), 1024, "Byte"), omittedMark(iv.omitted))
		} else {
			line += perfTail(-1, omittedMark(iv.omitted))
		}
		io.WriteString(w, line)
		sum.start, sum.end, sum.omitted = iv.start, iv.end, iv.omitted
		sum.bytes += iv.bytes
		sum.packets += iv.packets
		sum.lost += iv.lost
		sum.jitter += iv.jitter / float64(len(ivs))
		if tcpInfo {
			sum.retr = max(sum.retr, 0) + max(iv.retr, 0)
		}
	}
	if len(ivs) > 1 {
		line := perfSpan("SUM", sum.start, sum.end, sum.bytes, r.format)
		switch {
		case r.udp && r.sender:
			line += fmt.Sprintf("  %d  %s\n", sum.packets, omittedMark(sum.omitted))
		case r.udp:
			line += perfUDPTail(sum.jitter, sum.lost, sum.packets, omittedMark(sum.omitted))
		default:
			line += perfTail(sum.retr, omittedMark(sum.omitted))
		}
		io.WriteString(w, line)
	}
}

// printReport prints iperf3's end-of-test summary as its client does: a
// sender and a receiver line per stream (numbered as the "connected"
// lines are) and, with several streams, their [SUM]; the sender lines
// carry the retransmissions (Retr) when the sender reported them.
func printReport(w io.Writer, r PerfReport) { printSummary(w, r, true, 0) }

// printSummary prints the summary, bitrates in format's unit (-f); both
// false prints only this side's lines, as iperf3's server does.
func printSummary(w io.Writer, r PerfReport, both bool, format byte) {
	sent, received := r.Streams, r.PeerStreams
	sentD, receivedD := r.Duration, r.PeerDuration
	if receivedD <= 0 {
		receivedD = r.Duration
	}
	if !r.Sender {
		sent, received = received, sent
		sentD, receivedD = receivedD, sentD
	}
	n := max(len(sent), len(received), 1)
	if r.UDP {
		printUDPSummary(w, r, both, n, sentD, receivedD, format)
		return
	}
	if r.SenderHasRetr && (both || r.Sender) {
		io.WriteString(w, perfHeaderRetr)
	} else {
		io.WriteString(w, perfHeader)
	}
	var sumSent, sumReceived, sumRetr int64
	for i := range n {
		id := fmt.Sprintf("%3d", perfStreamID(r.IDs, i))
		s, rc := at(sent, i), at(received, i)
		sumSent += s
		sumReceived += rc
		retr := int64(-1)
		if r.SenderHasRetr {
			retr = at(r.Retransmits, i)
			sumRetr += retr
		}
		if both || r.Sender {
			io.WriteString(w, perfSpan(id, 0, sentD, s, format)+perfTail(retr, "sender"))
		}
		if both || !r.Sender {
			io.WriteString(w, perfSpan(id, 0, receivedD, rc, format)+perfTail(-1, "receiver"))
		}
	}
	if n > 1 {
		if !r.SenderHasRetr {
			sumRetr = -1
		}
		if both || r.Sender {
			io.WriteString(w, perfSpan("SUM", 0, sentD, sumSent, format)+perfTail(sumRetr, "sender"))
		}
		if both || !r.Sender {
			io.WriteString(w, perfSpan("SUM", 0, receivedD, sumReceived, format)+perfTail(-1, "receiver"))
		}
	}
}

// printUDPSummary prints the summary of a UDP test: the datagrams each
// side counted, the receiver's jitter and losses.
func printUDPSummary(w io.Writer, r PerfReport, both bool, n int, sentD, receivedD time.Duration, format byte) {
	type side struct {
		bytes, packets, lost []int64
		jitter               []float64
		d                    time.Duration
	}
	own := side{r.Streams, r.Packets, r.Lost, r.Jitter, r.Duration}
	peer := side{r.PeerStreams, r.PeerPackets, r.PeerLost, r.PeerJitter, r.PeerDuration}
	snd, rcv := own, peer
	if !r.Sender {
		snd, rcv = peer, own
	}
	snd.d, rcv.d = sentD, receivedD
	io.WriteString(w, perfHeaderUDP)
	type total struct {
		bytes, packets, lost int64
		jitter               float64
	}
	var sums [2]total
	line := func(id string, s side, i int, sum *total, role string) {
		b, p, l, j := at(s.bytes, i), at(s.packets, i), at(s.lost, i), 0.0
		if i < len(s.jitter) {
			j = s.jitter[i]
		}
		if role == "sender" {
			// iperf3's sender takes the receiver's figures into its
			// results; its line shows none.
			l, j = 0, 0
		}
		sum.bytes, sum.packets, sum.lost, sum.jitter = sum.bytes+b, sum.packets+p, sum.lost+l, sum.jitter+j/float64(n)
		io.WriteString(w, perfSpan(id, 0, s.d, b, format)+perfUDPTail(j, l, p, role))
	}
	for i := range n {
		id := fmt.Sprintf("%3d", perfStreamID(r.IDs, i))
		if both || r.Sender {
			line(id, snd, i, &sums[0], "sender")
		}
		if both || !r.Sender {
			line(id, rcv, i, &sums[1], "receiver")
		}
	}
	if n > 1 {
		if both || r.Sender {
			io.WriteString(w, perfSpan("SUM", 0, snd.d, sums[0].bytes, format)+perfUDPTail(sums[0].jitter, sums[0].lost, sums[0].packets, "sender"))
		}
		if both || !r.Sender {
			io.WriteString(w, perfSpan("SUM", 0, rcv.d, sums[1].bytes, format)+perfUDPTail(sums[1].jitter, sums[1].lost, sums[1].packets, "receiver"))
		}
	}
}

// perfStreamID is the bracketed number of the i-th stream: ids[i], or
// what iperf3's client shows when ids are not known.
func perfStreamID(ids []int, i int) int {
	if i < len(ids) {
		return ids[i]
	}
	return clientStreamID(i)
}

// clientStreamID and serverStreamID are the socket descriptors iperf3
// 3.12 gives the i-th data stream, which it shows as the stream's
// number: 5, 7, 9, ... on the client, 5, 8, 11, ... on the server.
func clientStreamID(i int) int { return 5 + 2*i }
func serverStreamID(i int) int { return 5 + 3*i }

// serverUDPStreamID is serverStreamID of a UDP test: 5, 6, 7, ...
func serverUDPStreamID(i int) int { return 5 + i }

// at is v[i], or 0 past its end (a peer that reported fewer streams).
func at(v []int64, i int) int64 {
	if i < len(v) {
		return v[i]
	}
	return 0
}

// unitString is iperf3's unit_snprintf in adaptive mode: the value in
// the largest unit (K, M, G, T by base) that keeps it at least 1, with
// three significant digits; "s" is appended by the caller's format.
func unitString(v float64, base float64, label string) string {
	prefix := ""
	for _, p := range []string{"K", "M", "G", "T"} {
		if v < base {
			break
		}
		v /= base
		prefix = p
	}
	return threeDigits(v, prefix, label)
}

// threeDigits prints v with iperf3's precision: three significant
// digits, or all of its integer part.
func threeDigits(v float64, prefix, label string) string {
	switch {
	case v < 9.995:
		return fmt.Sprintf("%4.2f %s%s", v, prefix, label)
	case v < 99.95:
		return fmt.Sprintf("%4.1f %s%s", v, prefix, label)
	}
	return fmt.Sprintf("%4.0f %s%s", v, prefix, label)
}

// hostPort splits an address for iperf3's "host, port" texts.
func hostPort(a net.Addr) (string, int) {
	h, p, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String(), 0
	}
	port, _ := strconv.Atoi(p)
	return h, port
}
