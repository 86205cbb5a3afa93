package tools

import (
	"encoding/json"
	"io"
	"net"
	"os"
	"runtime"
	"time"
)

// perfJSON is iperf3's -J document: the fields the stock iperf3 3.12
// writes for a TCP test, in its order, so that tools reading iperf3's
// JSON (end.sum_sent.bytes, end.sum_received.bits_per_second,
// intervals[].sum, ...) read usnet perf's. Fields usnet cannot know
// (snd_wnd, pmtu) are left out rather than made up.
type perfJSON struct {
	Start     jsonStart      `json:"start"`
	Intervals []jsonInterval `json:"intervals"`
	End       *jsonEnd       `json:"end,omitempty"`
	Error     string         `json:"error,omitempty"`
}

type jsonHostPort struct {
	Host string `json:"host"`
	Port int    `json:"port"`
}

type jsonConnected struct {
	Socket     int    `json:"socket"`
	LocalHost  string `json:"local_host"`
	LocalPort  int    `json:"local_port"`
	RemoteHost string `json:"remote_host"`
	RemotePort int    `json:"remote_port"`
}

type jsonTimestamp struct {
	Time     string `json:"time"`
	Timesecs int64  `json:"timesecs"`
}

type jsonTestStart struct {
	Protocol      string `json:"protocol"`
	NumStreams    int    `json:"num_streams"`
	Blksize       int    `json:"blksize"`
	Omit          int    `json:"omit"`
	Duration      int    `json:"duration"`
	Bytes         int64  `json:"bytes"`
	Blocks        int64  `json:"blocks"`
	Reverse       int    `json:"reverse"`
	TOS           int    `json:"tos"`
	TargetBitrate int64  `json:"target_bitrate"`
}

type jsonStart struct {
	Connected          []jsonConnected `json:"connected"`
	Version            string          `json:"version"`
	SystemInfo         string          `json:"system_info"`
	Timestamp          jsonTimestamp   `json:"timestamp"`
	ConnectingTo       *jsonHostPort   `json:"connecting_to,omitempty"`
	AcceptedConnection *jsonHostPort   `json:"accepted_connection,omitempty"`
	Cookie             string          `json:"cookie"`
	TCPMSSDefault      int             `json:"tcp_mss_default"`
	TargetBitrate      int64           `json:"target_bitrate"`
	SockBufsize        int             `json:"sock_bufsize"`
	SndbufActual       int             `json:"sndbuf_actual"`
	RcvbufActual       int             `json:"rcvbuf_actual"`
	TestStart          jsonTestStart   `json:"test_start"`
}

// jsonSpan are the fields every interval and total has.
type jsonSpan struct {
	Start         float64 `json:"start"`
	End           float64 `json:"end"`
	Seconds       float64 `json:"seconds"`
	Bytes         int64   `json:"bytes"`
	BitsPerSecond float64 `json:"bits_per_second"`
}

func span(from, to time.Duration, bytes int64) jsonSpan {
	s := jsonSpan{Start: from.Seconds(), End: to.Seconds(), Seconds: (to - from).Seconds(), Bytes: bytes}
	if s.Seconds > 0 {
		s.BitsPerSecond = float64(bytes) * 8 / s.Seconds
	}
	return s
}

// jsonTCPInterval is the sender's TCP_INFO in an interval (rtt and rttvar
// in microseconds, snd_cwnd in bytes).
type jsonTCPInterval struct {
	Retransmits int64 `json:"retransmits"`
	SndCwnd     int64 `json:"snd_cwnd"`
	RTT         int64 `json:"rtt"`
	RTTVar      int64 `json:"rttvar"`
}

// jsonUDP are a UDP flow's counts: the datagrams, and on the receiver
// (or in totals) the jitter and losses.
type jsonUDP struct {
	JitterMS    *float64 `json:"jitter_ms,omitempty"`
	LostPackets *int64   `json:"lost_packets,omitempty"`
	Packets     int64    `json:"packets"`
	LostPercent *float64 `json:"lost_percent,omitempty"`
}

// udpCounts is jsonUDP of a sender (packets only) or, with lost and
// jitter, of a receiver.
func udpCounts(packets int64, receiver bool, lost int64, jitter float64) *jsonUDP {
	u := &jsonUDP{Packets: packets}
	if receiver {
		pct := 0.0
		if packets > 0 {
			pct = float64(lost) * 100 / float64(packets)
		}
		ms := jitter * 1000
		u.JitterMS, u.LostPackets, u.LostPercent = &ms, &lost, &pct
	}
	return u
}

type jsonIntervalStream struct {
	Socket int `json:"socket"`
	jsonSpan
	*jsonTCPInterval
	*jsonUDP
	Omitted bool `json:"omitted"`
	Sender  bool `json:"sender"`
}

type jsonIntervalSum struct {
	jsonSpan
	Retransmits *int64 `json:"retransmits,omitempty"`
	*jsonUDP
	Omitted bool `json:"omitted"`
	Sender  bool `json:"sender"`
}

type jsonInterval struct {
	Streams []jsonIntervalStream `json:"streams"`
	Sum     jsonIntervalSum      `json:"sum"`
}

// jsonTCPEnd is the sender's TCP_INFO over the test.
type jsonTCPEnd struct {
	MaxSndCwnd int64 `json:"max_snd_cwnd"`
	MaxRTT     int64 `json:"max_rtt"`
	MinRTT     int64 `json:"min_rtt"`
	MeanRTT    int64 `json:"mean_rtt"`
}

type jsonEndSender struct {
	Socket int `json:"socket"`
	jsonSpan
	Retransmits *int64 `json:"retransmits,omitempty"`
	*jsonTCPEnd
	Sender bool `json:"sender"`
}

type jsonEndReceiver struct {
	Socket int `json:"socket"`
	jsonSpan
	Sender bool `json:"sender"`
}

// jsonEndUDP is a UDP stream's totals.
type jsonEndUDP struct {
	Socket int `json:"socket"`
	jsonSpan
	*jsonUDP
	OutOfOrder int64 `json:"out_of_order"`
	Sender     bool  `json:"sender"`
}

type jsonEndStream struct {
	Sender   *jsonEndSender   `json:"sender,omitempty"`
	Receiver *jsonEndReceiver `json:"receiver,omitempty"`
	UDP      *jsonEndUDP      `json:"udp,omitempty"`
}

type jsonSum struct {
	jsonSpan
	Retransmits *int64 `json:"retransmits,omitempty"`
	*jsonUDP
	Sender bool `json:"sender"`
}

type jsonCPU struct {
	HostTotal    float64 `json:"host_total"`
	HostUser     float64 `json:"host_user"`
	HostSystem   float64 `json:"host_system"`
	RemoteTotal  float64 `json:"remote_total"`
	RemoteUser   float64 `json:"remote_user"`
	RemoteSystem float64 `json:"remote_system"`
}

type jsonEnd struct {
	Streams               []jsonEndStream `json:"streams"`
	Sum                   *jsonSum        `json:"sum,omitempty"` // UDP
	SumSent               jsonSum         `json:"sum_sent"`
	SumReceived           jsonSum         `json:"sum_received"`
	CPU                   jsonCPU         `json:"cpu_utilization_percent"`
	SenderTCPCongestion   string          `json:"sender_tcp_congestion,omitempty"`
	ReceiverTCPCongestion string          `json:"receiver_tcp_congestion,omitempty"`
}

func micros(d time.Duration) int64 { return int64(d / time.Microsecond) }

// newPerfJSON starts the document of a test: its connections and
// parameters. ctrl is the control connection; server says which end
// this is.
func newPerfJSON(r *perfRun, ctrl net.Conn, server bool, cookie []byte, p perfParams, now time.Time) *perfJSON {
	d := &perfJSON{Intervals: []jsonInterval{}}
	st := &d.Start
	for _, s := range r.streams {
		lh, lp := hostPort(s.conn.LocalAddr())
		rh, rp := hostPort(s.conn.RemoteAddr())
		st.Connected = append(st.Connected, jsonConnected{Socket: s.id, LocalHost: lh, LocalPort: lp, RemoteHost: rh, RemotePort: rp})
	}
	st.Version = perfVersion
	st.SystemInfo = systemInfo()
	st.Timestamp = jsonTimestamp{Time: now.UTC().Format(time.RFC1123), Timesecs: now.Unix()}
	h, port := hostPort(ctrl.RemoteAddr())
	if server {
		st.AcceptedConnection = &jsonHostPort{h, port}
	} else {
		st.ConnectingTo = &jsonHostPort{h, port}
	}
	if len(cookie) > 0 {
		st.Cookie = string(cookie[:len(cookie)-1])
	}
	if len(r.streams) > 0 {
		if i, ok := r.streams[0].info(); ok {
			st.TCPMSSDefault = i.SndMSS
			st.SndbufActual = i.SndBuf
		}
	}
	st.SockBufsize = p.Window
	reverse := 0
	if p.Reverse {
		reverse = 1
	}
	st.TestStart = jsonTestStart{Protocol: "TCP", NumStreams: len(r.streams), Blksize: p.Len, Omit: p.Omit,
		Duration: p.Time, Bytes: p.Num, Blocks: p.BlockCount, Reverse: reverse}
	if p.UDP {
		st.TestStart.Protocol = "UDP"
		st.TestStart.TargetBitrate, st.TargetBitrate = p.Bandwidth, p.Bandwidth
	}
	return d
}

// addInterval appends one report interval.
func (d *perfJSON) addInterval(ivs []streamInterval, sender bool) {
	var in jsonInterval
	var sum, packets, lost int64
	var jitter float64
	var retr *int64
	for _, iv := range ivs {
		s := jsonIntervalStream{Socket: iv.id, jsonSpan: span(iv.start, iv.end, iv.bytes), Omitted: iv.omitted, Sender: sender}
		if iv.udp {
			s.jsonUDP = udpCounts(iv.packets, !sender, iv.lost, iv.jitter)
			packets, lost, jitter = packets+iv.packets, lost+iv.lost, jitter+iv.jitter/float64(len(ivs))
		}
		if iv.tcp {
			s.jsonTCPInterval = &jsonTCPInterval{Retransmits: iv.retr, SndCwnd: iv.cwnd, RTT: micros(iv.rtt), RTTVar: micros(iv.rttvar)}
			if retr == nil {
				retr = new(int64)
			}
			*retr += iv.retr
		}
		sum += iv.bytes
		in.Streams = append(in.Streams, s)
	}
	if len(ivs) > 0 {
		in.Sum = jsonIntervalSum{jsonSpan: span(ivs[0].start, ivs[0].end, sum), Retransmits: retr, Omitted: ivs[0].omitted, Sender: sender}
		if ivs[0].udp {
			in.Sum.jsonUDP = udpCounts(packets, !sender, lost, jitter)
		}
	}
	d.Intervals = append(d.Intervals, in)
}

// setEnd writes the totals from the finished test's report.
func (d *perfJSON) setEnd(r *perfRun, rep PerfReport, cpu cpuPercent) {
	sent, received := rep.Streams, rep.PeerStreams
	sentD, receivedD := rep.Duration, rep.PeerDuration
	if receivedD <= 0 {
		receivedD = rep.Duration
	}
	if !rep.Sender {
		sent, received = received, sent
		sentD, receivedD = receivedD, sentD
	}
	e := &jsonEnd{CPU: jsonCPU{HostTotal: cpu.total, HostUser: cpu.user, HostSystem: cpu.system,
		RemoteTotal: rep.peerCPU.total, RemoteUser: rep.peerCPU.user, RemoteSystem: rep.peerCPU.system}}
	if rep.UDP {
		d.End = udpEnd(r, rep, e, sentD, receivedD)
		return
	}
	var sumSent, sumReceived, sumRetr int64
	for i, s := range r.streams {
		es := jsonEndStream{
			Sender:   &jsonEndSender{Socket: s.id, jsonSpan: span(0, sentD, at(sent, i)), Sender: rep.Sender},
			Receiver: &jsonEndReceiver{Socket: s.id, jsonSpan: span(0, receivedD, at(received, i)), Sender: rep.Sender},
		}
		if rep.SenderHasRetr {
			n := at(rep.Retransmits, i)
			es.Sender.Retransmits = &n
			sumRetr += n
		}
		tcpEnd := &jsonTCPEnd{}
		if rep.Sender && r.hasInfo {
			tcpEnd.MaxSndCwnd, tcpEnd.MaxRTT, tcpEnd.MinRTT = s.maxCwnd, micros(s.maxRTT), micros(s.minRTT)
			if s.nRTT > 0 {
				tcpEnd.MeanRTT = micros(s.sumRTT / time.Duration(s.nRTT))
			}
		}
		if rep.SenderHasRetr {
			es.Sender.jsonTCPEnd = tcpEnd
		}
		sumSent += at(sent, i)
		sumReceived += at(received, i)
		e.Streams = append(e.Streams, es)
	}
	e.SumSent = jsonSum{jsonSpan: span(0, sentD, sumSent), Sender: rep.Sender}
	if rep.SenderHasRetr {
		e.SumSent.Retransmits = &sumRetr
	}
	e.SumReceived = jsonSum{jsonSpan: span(0, receivedD, sumReceived), Sender: rep.Sender}
	own, _ := r.congestion()
	if rep.Sender {
		e.SenderTCPCongestion, e.ReceiverTCPCongestion = own, rep.peerCongestion
	} else {
		e.SenderTCPCongestion, e.ReceiverTCPCongestion = rep.peerCongestion, own
	}
	d.End = e
}

// udpEnd fills the totals of a UDP test: per stream and in sum this
// side's bytes with the receiver's jitter and losses; sum_sent the
// sender's datagrams, sum_received the receiver's counts.
func udpEnd(r *perfRun, rep PerfReport, e *jsonEnd, sentD, receivedD time.Duration) *jsonEnd {
	type side struct {
		bytes, packets, lost []int64
		jitter               []float64
	}
	own := side{rep.Streams, rep.Packets, rep.Lost, rep.Jitter}
	peer := side{rep.PeerStreams, rep.PeerPackets, rep.PeerLost, rep.PeerJitter}
	snd, rcv := own, peer
	if !rep.Sender {
		snd, rcv = peer, own
	}
	jit := func(s side, i int) float64 {
		if i < len(s.jitter) {
			return s.jitter[i]
		}
		return 0
	}
	n := float64(max(len(r.streams), 1))
	var ownBytes, ownPackets, sentBytes, sentPackets, rcvBytes, rcvPackets, lost, ooo int64
	var jitter float64
	for i, s := range r.streams {
		_, _, o, _ := s.udpTotals(rep.Sender)
		ownBytes, ownPackets = ownBytes+at(own.bytes, i), ownPackets+at(own.packets, i)
		sentBytes, sentPackets = sentBytes+at(snd.bytes, i), sentPackets+at(snd.packets, i)
		rcvBytes, rcvPackets = rcvBytes+at(rcv.bytes, i), rcvPackets+at(rcv.packets, i)
		lost, jitter, ooo = lost+at(rcv.lost, i), jitter+jit(rcv, i)/n, ooo+o
		e.Streams = append(e.Streams, jsonEndStream{UDP: &jsonEndUDP{Socket: s.id, jsonSpan: span(0, rep.Duration, at(own.bytes, i)),
			jsonUDP: udpCounts(at(own.packets, i), true, at(rcv.lost, i), jit(rcv, i)), OutOfOrder: o, Sender: rep.Sender}})
	}
	e.Sum = &jsonSum{jsonSpan: span(0, receivedD, ownBytes), jsonUDP: udpCounts(ownPackets, true, lost, jitter), Sender: rep.Sender}
	e.SumSent = jsonSum{jsonSpan: span(0, sentD, sentBytes), jsonUDP: udpCounts(sentPackets, true, 0, 0), Sender: true}
	e.SumReceived = jsonSum{jsonSpan: span(0, receivedD, rcvBytes), jsonUDP: udpCounts(rcvPackets, true, lost, jitter), Sender: false}
	return e
}

// write prints the document as iperf3 does, indented with tabs.
func (d *perfJSON) write(w io.Writer) error {
	b, err := json.MarshalIndent(d, "", "\t")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// writeJSONError writes iperf3's -J document of a failed test: what is
// known of its start and intervals, an empty end, and the error.
func writeJSONError(w io.Writer, r *perfRun, err error) {
	d := struct {
		Start     any            `json:"start"`
		Intervals []jsonInterval `json:"intervals"`
		End       struct{}       `json:"end"`
		Error     string         `json:"error"`
	}{
		Start: struct {
			Connected  []jsonConnected `json:"connected"`
			Version    string          `json:"version"`
			SystemInfo string          `json:"system_info"`
		}{[]jsonConnected{}, perfVersion, systemInfo()},
		Intervals: []jsonInterval{},
		Error:     err.Error(),
	}
	if r != nil && r.doc != nil {
		d.Start, d.Intervals = r.doc.Start, r.doc.Intervals
	}
	if b, err := json.MarshalIndent(d, "", "\t"); err == nil {
		w.Write(append(b, '\n'))
	}
}

// systemInfo stands for iperf3's uname: the program, the OS, the host
// and the machine.
func systemInfo() string {
	host, _ := os.Hostname()
	return "usnet " + runtime.GOOS + " " + host + " " + runtime.GOARCH
}
