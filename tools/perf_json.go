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

type jsonIntervalStream struct {
	Socket int `json:"socket"`
	jsonSpan
	*jsonTCPInterval
	Omitted bool `json:"omitted"`
	Sender  bool `json:"sender"`
}

type jsonIntervalSum struct {
	jsonSpan
	Retransmits *int64 `json:"retransmits,omitempty"`
	Omitted     bool   `json:"omitted"`
	Sender      bool   `json:"sender"`
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

type jsonEndStream struct {
	Sender   jsonEndSender   `json:"sender"`
	Receiver jsonEndReceiver `json:"receiver"`
}

type jsonSum struct {
	jsonSpan
	Retransmits *int64 `json:"retransmits,omitempty"`
	Sender      bool   `json:"sender"`
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
	host, _ := os.Hostname()
	st.SystemInfo = "usnet " + runtime.GOOS + " " + host + " " + runtime.GOARCH
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
	return d
}

// addInterval appends one report interval.
func (d *perfJSON) addInterval(ivs []streamInterval, sender bool) {
	var in jsonInterval
	var sum int64
	var retr *int64
	for _, iv := range ivs {
		s := jsonIntervalStream{Socket: iv.id, jsonSpan: span(iv.start, iv.end, iv.bytes), Omitted: iv.omitted, Sender: sender}
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
	var sumSent, sumReceived, sumRetr int64
	for i, s := range r.streams {
		es := jsonEndStream{
			Sender:   jsonEndSender{Socket: s.id, jsonSpan: span(0, sentD, at(sent, i)), Sender: rep.Sender},
			Receiver: jsonEndReceiver{Socket: s.id, jsonSpan: span(0, receivedD, at(received, i)), Sender: rep.Sender},
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

// write prints the document as iperf3 does, indented with tabs.
func (d *perfJSON) write(w io.Writer) error {
	b, err := json.MarshalIndent(d, "", "\t")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
