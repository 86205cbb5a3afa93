package tools

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/usnet/usnet/tcp"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
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
	Len           int    `json:"len"`
	PacingTimer   int    `json:"pacing_timer,omitempty"`
	ClientVersion string `json:"client_version,omitempty"`
}

type perfStream struct {
	ID          int         `json:"id"`
	Bytes       int64       `json:"bytes"`
	Retransmits json.Number `json:"retransmits"`
	Jitter      float64     `json:"jitter"`
	Errors      int         `json:"errors"`
	Packets     int         `json:"packets"`
	StartTime   float64     `json:"start_time"`
	EndTime     float64     `json:"end_time"`
}

type perfResults struct {
	CPUUtilTotal   float64      `json:"cpu_util_total"`
	CPUUtilUser    float64      `json:"cpu_util_user"`
	CPUUtilSystem  float64      `json:"cpu_util_system"`
	SenderHasRetr  json.Number  `json:"sender_has_retransmits"`
	CongestionUsed string       `json:"congestion_used,omitempty"`
	Streams        []perfStream `json:"streams"`
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

// PerfReport is one side's view of a finished test.
type PerfReport struct {
	Bytes    int64         // payload bytes this side sent or received
	Duration time.Duration // of the data phase
	Sender   bool
	Peer     int64 // bytes the peer reports
	// Streams and PeerStreams are Bytes and Peer per data stream, in
	// the order the streams were opened.
	Streams, PeerStreams []int64
	// Retransmits are the sending side's per stream (from TCP_INFO, ours
	// or the peer's report) when SenderHasRetr; Congestion is the
	// sender's congestion control.
	Retransmits   []int64
	SenderHasRetr bool
	Congestion    string
}

// senderStats reads what iperf3's sender reports from TCP_INFO: each
// stream's retransmissions and the congestion control. Streams that are
// not usnet TCP connections leave ok false (iperf3's
// sender_has_retransmits 0).
func senderStats(streams []net.Conn) (retr []int64, cc string, ok bool) {
	for _, s := range streams {
		ic, isTCP := s.(interface{ Info() tcp.Info })
		if !isTCP {
			return nil, "", false
		}
		i := ic.Info()
		retr = append(retr, int64(i.Retransmits))
		cc = i.Congestion
	}
	return retr, cc, len(streams) > 0
}

// results is this side's RESULTS message. sender says whether this
// side sent the data; then retransmissions are reported if known.
func results(counters []*counter, d time.Duration, sender bool, retr []int64, cc string, hasRetr bool) perfResults {
	r := perfResults{SenderHasRetr: "-1", CongestionUsed: cc}
	if sender {
		r.SenderHasRetr = "0"
		if hasRetr {
			r.SenderHasRetr = "1"
		}
	}
	if r.CongestionUsed == "" {
		r.CongestionUsed = "cubic"
	}
	for i, n := range counters {
		id := 1
		if i > 0 {
			id = i + 2 // iperf3 numbers streams 1, 3, 4, ...
		}
		st := perfStream{ID: id, Bytes: n.n.Load(), Retransmits: "0", EndTime: d.Seconds()}
		if sender && hasRetr && i < len(retr) {
			st.Retransmits = json.Number(strconv.FormatInt(retr[i], 10))
		}
		r.Streams = append(r.Streams, st)
	}
	return r
}

// peerResults takes the peer's RESULTS into rep; a sending peer's
// retransmissions are kept when it reports them.
func (rep *PerfReport) peerResults(theirs perfResults, peerSent bool) {
	for _, s := range theirs.Streams {
		rep.Peer += s.Bytes
		rep.PeerStreams = append(rep.PeerStreams, s.Bytes)
	}
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

// Bitrate is the goodput in bits per second.
func (r PerfReport) Bitrate() float64 {
	if r.Duration <= 0 {
		return 0
	}
	return float64(r.Bytes) * 8 / r.Duration.Seconds()
}

// counter counts stream bytes while the test runs.
type counter struct{ n atomic.Int64 }

// sendLoop writes blocks until stop closes or, with limit > 0, the
// streams sharing total have sent limit bytes between them (iperf3's -n
// counts the whole test, not each stream).
func sendLoop(c net.Conn, block int, limit int64, total *atomic.Int64, stop <-chan struct{}, n *counter) {
	buf := make([]byte, block)
	for i := range buf {
		buf[i] = byte(i)
	}
	for {
		select {
		case <-stop:
			return
		default:
		}
		w := buf
		if limit > 0 {
			// Reserve the block's bytes first so that concurrent
			// streams never overshoot the limit together.
			over := total.Add(int64(len(w))) - limit
			if over >= int64(len(w)) {
				return
			}
			if over > 0 {
				w = w[:int64(len(w))-over]
			}
		}
		k, err := c.Write(w)
		n.n.Add(int64(k))
		if err != nil {
			return
		}
	}
}

// recvLoop reads until the stream closes, calling got (if set) after
// each read.
func recvLoop(c net.Conn, block int, n *counter, got func()) {
	buf := make([]byte, max(block, 64<<10))
	for {
		k, err := c.Read(buf)
		n.n.Add(int64(k))
		if got != nil {
			got()
		}
		if err != nil {
			return
		}
	}
}

// PerfServe runs an iperf3-compatible server on addr in ns: one test at a
// time until ctx ends (or after one test when once is set).
func PerfServe(ctx context.Context, ns Namespace, addr string, once bool, log io.Writer) error {
	l, err := ns.Listen("tcp", addr)
	if err != nil {
		return err
	}
	defer l.Close()
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	if log != nil {
		fmt.Fprintf(log, "-----------------------------------------------------------\nServer listening on %s (usnet perf)\n-----------------------------------------------------------\n", l.Addr())
	}
	for {
		c, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		rep, err := serveTest(c, l)
		c.Close()
		if log != nil {
			if err != nil {
				fmt.Fprintf(log, "perf: test failed: %v\n", err)
			} else {
				printReport(log, rep)
			}
		}
		if once {
			return err
		}
	}
}

// serveTest runs one test on control connection c, accepting its data
// streams on l.
func serveTest(c net.Conn, l net.Listener) (PerfReport, error) {
	var rep PerfReport
	cookie := make([]byte, cookieLen)
	if _, err := io.ReadFull(c, cookie); err != nil {
		return rep, err
	}
	if err := writeState(c, stParamExchange); err != nil {
		return rep, err
	}
	var p perfParams
	if err := readJSON(c, &p); err != nil {
		return rep, err
	}
	if p.UDP {
		writeState(c, stServerError)
		binary.Write(c, binary.BigEndian, int32(1)) // i_errno: unsupported
		binary.Write(c, binary.BigEndian, int32(0))
		return rep, errors.New("UDP tests are not supported")
	}
	p.Parallel = max(p.Parallel, 1)
	if p.Len <= 0 {
		p.Len = defaultBlock
	}
	if err := writeState(c, stCreateStreams); err != nil {
		return rep, err
	}
	var streams []net.Conn
	defer func() {
		for _, s := range streams {
			s.Close()
		}
	}()
	for len(streams) < p.Parallel {
		s, err := l.Accept()
		if err != nil {
			return rep, err
		}
		got := make([]byte, cookieLen)
		s.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.ReadFull(s, got); err != nil || string(got) != string(cookie) {
			s.Close() // a stranger (or another client): iperf3 refuses it
			continue
		}
		s.SetReadDeadline(time.Time{})
		streams = append(streams, s)
	}
	if err := writeState(c, stTestStart); err != nil {
		return rep, err
	}
	if err := writeState(c, stTestRunning); err != nil {
		return rep, err
	}
	start := time.Now()
	counters := make([]*counter, len(streams))
	stopSend := make(chan struct{})
	var sent atomic.Int64 // against p.Num, across the streams
	var wg sync.WaitGroup
	for i, s := range streams {
		counters[i] = &counter{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if p.Reverse {
				sendLoop(s, p.Len, p.Num, &sent, stopSend, counters[i])
			} else {
				recvLoop(s, p.Len, counters[i], nil)
			}
		}()
	}
	// Wait for the client's TEST_END.
	for {
		st, err := readState(c)
		if err != nil {
			close(stopSend)
			return rep, err
		}
		if st == stTestEnd {
			break
		}
		if st == stClientTerminate {
			close(stopSend)
			return rep, errors.New("client terminated the test")
		}
	}
	close(stopSend)
	rep.Duration = time.Since(start)
	if p.Reverse {
		rep.Retransmits, rep.Congestion, rep.SenderHasRetr = senderStats(streams)
	}
	// A sender blocked in Write (the peer stopped reading) must not hold
	// the test up: expire its writes.
	for _, s := range streams {
		s.SetWriteDeadline(time.Now())
	}
	if p.Reverse {
		wg.Wait() // the senders stop at once (their writes expired)
	} else {
		// The receivers keep reading until the streams close: a client
		// still blocked writing must not stall before it reads
		// EXCHANGE_RESULTS. Bytes still in flight get a moment to arrive
		// before the count is taken.
		time.Sleep(100 * time.Millisecond)
	}
	// iperf3's server closes the data streams on TEST_END, and its
	// client relies on it: at TEST_END the client turns its data sockets
	// blocking and, in reverse mode, drains them with reads of a whole
	// block. Its reads during the test need not have ended on a block
	// boundary, so without the EOF it can wait forever for the rest of a
	// block, and never send its results.
	for _, s := range streams {
		s.Close()
	}
	if !p.Reverse {
		wg.Wait()
	}
	if err := writeState(c, stExchangeResults); err != nil {
		return rep, err
	}
	var theirs perfResults
	if err := readJSON(c, &theirs); err != nil {
		return rep, err
	}
	mine := results(counters, rep.Duration, p.Reverse, rep.Retransmits, rep.Congestion, rep.SenderHasRetr)
	for i := range streams {
		b := counters[i].n.Load()
		rep.Bytes += b
		rep.Streams = append(rep.Streams, b)
	}
	rep.peerResults(theirs, !p.Reverse)
	rep.Sender = p.Reverse
	if err := writeJSON(c, mine); err != nil {
		return rep, err
	}
	if err := writeState(c, stDisplayResults); err != nil {
		return rep, err
	}
	if st, err := readState(c); err != nil || st != stIperfDone {
		// iperf3 clients close right after IPERF_DONE; a missing one is
		// not worth failing a finished test.
		_ = st
	}
	return rep, nil
}

// PerfOptions are iperf3 client options usnet perf supports.
type PerfOptions struct {
	Duration time.Duration // -t (10 s); ignored when Bytes is set
	Bytes    int64         // -n
	Reverse  bool          // -R: the server sends
	Parallel int           // -P
	Block    int           // -l
}

// PerfClient runs one TCP test against an iperf3 server at addr.
func PerfClient(ctx context.Context, ns Namespace, addr string, o PerfOptions, out io.Writer) (PerfReport, error) {
	var rep PerfReport
	if o.Duration <= 0 {
		o.Duration = 10 * time.Second
	}
	o.Parallel = max(o.Parallel, 1)
	if o.Block <= 0 {
		o.Block = defaultBlock
	}
	c, err := ns.DialContext(ctx, "tcp", addr)
	if err != nil {
		return rep, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if out != nil {
		fmt.Fprintf(out, "Connecting to host %s\n", addr)
	}
	cookie := newCookie()
	if _, err := c.Write(cookie); err != nil {
		return rep, err
	}
	var streams []net.Conn
	defer func() {
		for _, s := range streams {
			s.Close()
		}
	}()
	counters := []*counter{}
	stopSend := make(chan struct{})
	var wg sync.WaitGroup
	var start time.Time
	ended := false
	for {
		st, err := readState(c)
		if err != nil {
			return rep, fmt.Errorf("perf: control connection: %w", err)
		}
		switch st {
		case stParamExchange:
			p := perfParams{TCP: true, Time: int(o.Duration / time.Second), Num: o.Bytes, Parallel: o.Parallel,
				Reverse: o.Reverse, Len: o.Block, PacingTimer: 1000, ClientVersion: "3.12"}
			if p.Time == 0 {
				p.Time = 1
			}
			if err := writeJSON(c, p); err != nil {
				return rep, err
			}
		case stCreateStreams:
			for range o.Parallel {
				s, err := ns.DialContext(ctx, "tcp", addr)
				if err != nil {
					return rep, err
				}
				streams = append(streams, s)
				if _, err := s.Write(cookie); err != nil {
					return rep, err
				}
				if out != nil {
					fmt.Fprintf(out, "[%3d] local %s connected to %s\n", len(streams)+4, s.LocalAddr(), s.RemoteAddr())
				}
			}
		case stTestStart:
		case stTestRunning:
			start = time.Now()
			for range streams {
				counters = append(counters, &counter{})
			}
			// In reverse the client ends a byte-counted test when it
			// has received the bytes, as iperf3's client does.
			received := make(chan struct{})
			var receivedOnce sync.Once
			var got func()
			if o.Reverse && o.Bytes > 0 {
				got = func() {
					var sum int64
					for _, n := range counters {
						sum += n.n.Load()
					}
					if sum >= o.Bytes {
						receivedOnce.Do(func() { close(received) })
					}
				}
			}
			var sent atomic.Int64 // against o.Bytes, across the streams
			for i, s := range streams {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if o.Reverse {
						recvLoop(s, o.Block, counters[i], got)
					} else {
						sendLoop(s, o.Block, o.Bytes, &sent, stopSend, counters[i])
					}
				}()
			}
			// The test ends by time, or when the byte count is sent
			// (received, in reverse).
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			var timer <-chan time.Time
			if o.Bytes == 0 {
				timer = time.After(o.Duration)
			}
			select {
			case <-timer:
			case <-received:
			case <-done:
			case <-ctx.Done():
				writeState(c, stClientTerminate)
				return rep, ctx.Err()
			}
			close(stopSend)
			rep.Duration = time.Since(start)
			if !o.Reverse {
				rep.Retransmits, rep.Congestion, rep.SenderHasRetr = senderStats(streams)
			}
			for _, s := range streams {
				s.SetWriteDeadline(time.Now())
			}
			if !o.Reverse {
				wg.Wait()
			}
			ended = true
			if err := writeState(c, stTestEnd); err != nil {
				return rep, err
			}
		case stExchangeResults:
			if o.Reverse {
				// Keep reading until the streams close; give bytes in
				// flight a moment before counting.
				time.Sleep(100 * time.Millisecond)
			}
			mine := results(counters, rep.Duration, !o.Reverse, rep.Retransmits, rep.Congestion, rep.SenderHasRetr)
			for _, n := range counters {
				rep.Bytes += n.n.Load()
				rep.Streams = append(rep.Streams, n.n.Load())
			}
			if err := writeJSON(c, mine); err != nil {
				return rep, err
			}
			var theirs perfResults
			if err := readJSON(c, &theirs); err != nil {
				return rep, err
			}
			rep.peerResults(theirs, o.Reverse)
		case stDisplayResults:
			writeState(c, stIperfDone)
			rep.Sender = !o.Reverse
			if out != nil {
				printReport(out, rep)
				fmt.Fprintf(out, "\niperf Done.\n")
			}
			if !ended {
				return rep, errors.New("perf: server ended the test early")
			}
			return rep, nil
		case stAccessDenied:
			return rep, errors.New("perf: the server is busy running a test")
		case stServerError:
			return rep, errors.New("perf: the server reported an error")
		case stServerTerminate:
			return rep, errors.New("perf: the server terminated the test")
		default:
			return rep, fmt.Errorf("perf: unexpected state %d", st)
		}
	}
}

// printReport prints iperf3's end-of-test summary: a sender and a
// receiver line per stream (numbered as the "connected" lines are) and,
// with several streams, their [SUM]; the sender lines carry the
// retransmissions (Retr) when the sender reported them.
func printReport(w io.Writer, r PerfReport) {
	sent, received := r.Streams, r.PeerStreams
	if !r.Sender {
		sent, received = received, sent
	}
	n := max(len(sent), len(received), 1)
	line := func(id string, b int64, retr int64, role string) {
		bits := 0.0
		if r.Duration > 0 {
			bits = float64(b) * 8 / r.Duration.Seconds()
		}
		col := "                  " // iperf3's report_bw_format: no Retr
		if retr >= 0 {
			col = fmt.Sprintf("  %3d             ", retr)
		}
		fmt.Fprintf(w, "[%s] %6.2f-%-6.2f sec  %ss  %ss/sec%s%s\n", id, 0.0, r.Duration.Seconds(),
			unitString(float64(b), 1024, "Byte"), unitString(bits, 1000, "bit"), col, role)
	}
	if r.SenderHasRetr {
		fmt.Fprintf(w, "[ ID] Interval           Transfer     Bitrate         Retr\n")
	} else {
		fmt.Fprintf(w, "[ ID] Interval           Transfer     Bitrate\n")
	}
	var sumSent, sumReceived, sumRetr int64
	for i := range n {
		s, rc := at(sent, i), at(received, i)
		sumSent += s
		sumReceived += rc
		retr := int64(-1)
		if r.SenderHasRetr {
			retr = at(r.Retransmits, i)
			sumRetr += retr
		}
		line(fmt.Sprintf("%3d", i+5), s, retr, "sender")
		line(fmt.Sprintf("%3d", i+5), rc, -1, "receiver")
	}
	if n > 1 {
		if !r.SenderHasRetr {
			sumRetr = -1
		}
		line("SUM", sumSent, sumRetr, "sender")
		line("SUM", sumReceived, -1, "receiver")
	}
}

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
	switch {
	case v < 9.995:
		return fmt.Sprintf("%4.2f %s%s", v, prefix, label)
	case v < 99.95:
		return fmt.Sprintf("%4.1f %s%s", v, prefix, label)
	}
	return fmt.Sprintf("%4.0f %s%s", v, prefix, label)
}
