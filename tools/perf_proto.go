package tools

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// usnet perf speaks iperf3's control protocol (TCP tests only) so that the
// stock iperf3 client or server can be the peer. The protocol: the client
// opens a control connection and sends a 37-byte cookie; the server drives
// the client through states, one signed byte each; parameters and results
// are JSON objects preceded by their length (4 bytes, big-endian); each
// data stream is a further connection that starts with the same cookie.

// iperf3 states (iperf_api.h).
const (
	stTestStart       = 1
	stTestRunning     = 2
	stTestEnd         = 4
	stParamExchange   = 9
	stCreateStreams   = 10
	stServerTerminate = 11
	stClientTerminate = 12
	stExchangeResults = 13
	stDisplayResults  = 14
	stIperfDone       = 16
	stAccessDenied    = -1
	stServerError     = -2
)

const (
	cookieLen     = 37
	defaultBlock  = 128 << 10
	perfVersion   = "usnet-perf 3.12"
	maxJSONLength = 1 << 20
	maxStreams    = 128     // iperf3's MAX_STREAMS
	maxBlock      = 1 << 20 // iperf3's MAX_BLOCKSIZE (TCP)
)

// perfParams are the client's test parameters (the subset usnet uses;
// unknown keys are ignored, as iperf3 does).
type perfParams struct {
	TCP           bool   `json:"tcp,omitempty"`
	UDP           bool   `json:"udp,omitempty"`
	Omit          int    `json:"omit"`
	Time          int    `json:"time"`
	Num           int64  `json:"num"`
	BlockCount    int64  `json:"blockcount"`
	Parallel      int    `json:"parallel"`
	Reverse       bool   `json:"reverse,omitempty"`
	Window        int    `json:"window,omitempty"` // -w: SO_SNDBUF and SO_RCVBUF of the data streams
	Len           int    `json:"len"`
	Bandwidth     int64  `json:"bandwidth,omitempty"` // -b: the target bitrate (UDP), bits/s
	PacingTimer   int    `json:"pacing_timer,omitempty"`
	Congestion    string `json:"congestion,omitempty"` // -C: TCP_CONGESTION of the data streams
	ClientVersion string `json:"client_version,omitempty"`
}

// resultStream is one stream in a RESULTS message.
type resultStream struct {
	ID          int         `json:"id"`
	Bytes       int64       `json:"bytes"`
	Retransmits json.Number `json:"retransmits"`
	Jitter      float64     `json:"jitter"`
	Errors      int64       `json:"errors"`
	Packets     int64       `json:"packets"`
	StartTime   float64     `json:"start_time"`
	EndTime     float64     `json:"end_time"`
}

// perfResults is a RESULTS message: one side's totals, exchanged at the
// end of a test.
type perfResults struct {
	CPUUtilTotal   float64        `json:"cpu_util_total"`
	CPUUtilUser    float64        `json:"cpu_util_user"`
	CPUUtilSystem  float64        `json:"cpu_util_system"`
	SenderHasRetr  json.Number    `json:"sender_has_retransmits"`
	CongestionUsed string         `json:"congestion_used,omitempty"`
	Streams        []resultStream `json:"streams"`
}

func writeState(c net.Conn, s int8) error {
	_, err := c.Write([]byte{byte(s)})
	return err
}

func readState(c net.Conn) (int8, error) {
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		return 0, err
	}
	return int8(b[0]), nil
}

func writeJSON(c net.Conn, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	msg := make([]byte, 4+len(b))
	binary.BigEndian.PutUint32(msg, uint32(len(b)))
	copy(msg[4:], b)
	_, err = c.Write(msg)
	return err
}

func readJSON(c net.Conn, v any) error {
	var l [4]byte
	if _, err := io.ReadFull(c, l[:]); err != nil {
		return err
	}
	n := binary.BigEndian.Uint32(l[:])
	if n > maxJSONLength {
		return fmt.Errorf("perf: JSON message of %d bytes", n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(c, b); err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// writeServerError ends a test from the server with iperf3's SERVER_ERROR
// state and its two error numbers (i_errno, errno).
func writeServerError(c net.Conn, ierr int32) {
	writeState(c, stServerError)
	binary.Write(c, binary.BigEndian, ierr)
	binary.Write(c, binary.BigEndian, int32(0))
}

func newCookie() []byte {
	const chars = "abcdefghijklmnopqrstuvwxyz234567"
	c := make([]byte, cookieLen)
	rand.Read(c[:cookieLen-1])
	for i := range cookieLen - 1 {
		c[i] = chars[int(c[i])%len(chars)]
	}
	c[cookieLen-1] = 0
	return c
}

// results is this side's RESULTS message: the bytes each stream moved
// past the omitted seconds and, when this side sent and knows them, its
// retransmissions and congestion control.
func results(r *perfRun, d time.Duration, cpu cpuPercent) perfResults {
	cc, hasRetr := r.congestion()
	res := perfResults{SenderHasRetr: "-1", CongestionUsed: cc,
		CPUUtilTotal: cpu.total, CPUUtilUser: cpu.user, CPUUtilSystem: cpu.system}
	if r.sender {
		res.SenderHasRetr = "0"
		if hasRetr {
			res.SenderHasRetr = "1"
		}
	}
	if res.CongestionUsed == "" {
		res.CongestionUsed = "cubic"
	}
	for i, s := range r.streams {
		id := 1
		if i > 0 {
			id = i + 2 // iperf3 numbers streams 1, 3, 4, ...
		}
		st := resultStream{ID: id, Bytes: s.total(), Retransmits: "0", EndTime: d.Seconds()}
		if r.udp {
			p, l, _, j := s.udpTotals(r.sender)
			st.Packets, st.Errors, st.Jitter, st.Retransmits = p, l, j, "-1"
		}
		if r.sender && hasRetr {
			st.Retransmits = json.Number(strconv.FormatInt(s.retransmits(), 10))
		}
		res.Streams = append(res.Streams, st)
	}
	return res
}

// peerResults takes the peer's RESULTS into rep; a sending peer's
// retransmissions are kept when it reports them.
func (rep *PerfReport) peerResults(theirs perfResults, peerSent bool) {
	for _, s := range theirs.Streams {
		rep.Peer += s.Bytes
		rep.PeerStreams = append(rep.PeerStreams, s.Bytes)
		rep.PeerPackets = append(rep.PeerPackets, s.Packets)
		rep.PeerLost = append(rep.PeerLost, s.Errors)
		rep.PeerJitter = append(rep.PeerJitter, s.Jitter)
		rep.PeerDuration = max(rep.PeerDuration, time.Duration(s.EndTime*float64(time.Second)))
	}
	rep.peerCPU = cpuPercent{total: theirs.CPUUtilTotal, user: theirs.CPUUtilUser, system: theirs.CPUUtilSystem}
	rep.peerCongestion = theirs.CongestionUsed
	if !peerSent {
		return
	}
	rep.SenderHasRetr = theirs.SenderHasRetr == "1"
	rep.Congestion = theirs.CongestionUsed
	rep.Retransmits = nil
	for _, s := range theirs.Streams {
		n, _ := s.Retransmits.Int64()
		rep.Retransmits = append(rep.Retransmits, n)
	}
}
