package tools

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/usnet/usnet/tcp"
)

// PerfOptions are the iperf3 client options usnet perf supports.
type PerfOptions struct {
	Duration   time.Duration // -t (10 s); ignored when Bytes is set
	Bytes      int64         // -n
	Reverse    bool          // -R: the server sends
	Parallel   int           // -P
	Block      int           // -l (128 KiB)
	Interval   time.Duration // -i: seconds between reports; 0 for none
	Omit       time.Duration // -O: seconds not counted at the start (whole seconds)
	Window     int           // -w: SO_SNDBUF and SO_RCVBUF of the data streams
	Congestion string        // -C: TCP_CONGESTION of the data streams
	JSON       bool          // -J: iperf3's JSON document instead of text
	UDP        bool          // -u: a UDP test
	Format     byte          // -f: the bitrates' unit, k, m, g, t (bits) or K, M, G, T (bytes); 0 adapts
	// Bitrate is -b, the UDP target in bits/s: 0 for iperf3's 1 Mbit/s,
	// negative for no limit. TCP tests are not paced.
	Bitrate int64
}

// PerfClient runs one TCP test against an iperf3 server at addr,
// printing to out (if not nil) what iperf3's client prints.
func PerfClient(ctx context.Context, ns Namespace, addr string, o PerfOptions, out io.Writer) (rep PerfReport, err error) {
	var r *perfRun
	if o.JSON && out != nil {
		// iperf3 -J reports a failure in its JSON too.
		defer func() {
			if err != nil {
				writeJSONError(out, r, err)
			}
		}()
	}
	if o.Duration <= 0 {
		o.Duration = 10 * time.Second
	}
	o.Parallel = max(o.Parallel, 1)
	if o.Block <= 0 && !o.UDP {
		o.Block = defaultBlock
	}
	text := out
	if o.JSON {
		text = nil
	}
	c, err := ns.DialContext(ctx, "tcp", addr)
	if err != nil {
		return rep, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	host, port, _ := net.SplitHostPort(addr)
	if text != nil {
		fmt.Fprintf(text, "Connecting to host %s, port %s\n", host, port)
	}
	cookie := newCookie()
	if _, err := c.Write(cookie); err != nil {
		return rep, err
	}
	if o.UDP && o.Block <= 0 {
		// iperf3 sends datagrams of the path's MSS, as the control
		// connection has it.
		o.Block = udpDefaultBlock
		if ic, ok := c.(interface{ Info() tcp.Info }); ok {
			if mss := ic.Info().SndMSS; mss > 0 {
				o.Block = mss
			}
		}
	}
	if o.UDP {
		o.Block = min(max(o.Block, udpHeaderLen), udpMaxBlock)
	}
	p := perfParams{TCP: !o.UDP, UDP: o.UDP, Time: int(o.Duration / time.Second), Num: o.Bytes, Parallel: o.Parallel,
		Reverse: o.Reverse, Len: o.Block, Omit: int(o.Omit / time.Second), Window: o.Window,
		Congestion: o.Congestion, PacingTimer: 1000, ClientVersion: "3.12"}
	if p.Time == 0 {
		p.Time = 1
	}
	var rate float64
	if o.UDP {
		p.Bandwidth = o.Bitrate
		if o.Bitrate == 0 {
			p.Bandwidth = udpDefaultRate
		}
		p.Bandwidth = max(p.Bandwidth, 0)
		rate = float64(p.Bandwidth)
	}
	var conns []net.Conn
	defer func() {
		for _, s := range conns {
			s.Close()
		}
	}()
	var wg sync.WaitGroup
	stopSend := make(chan struct{})
	ended := false
	for {
		st, err := readState(c)
		if err != nil {
			return rep, fmt.Errorf("perf: control connection: %w", err)
		}
		switch st {
		case stParamExchange:
			if err := writeJSON(c, p); err != nil {
				return rep, err
			}
		case stCreateStreams:
			for range o.Parallel {
				if o.UDP {
					s, err := ns.DialContext(ctx, "udp", addr)
					if err != nil {
						return rep, err
					}
					conns = append(conns, s)
					if err := udpHello(s, ctx.Done()); err != nil {
						return rep, err
					}
					continue
				}
				s, err := ns.DialContext(ctx, "tcp", addr)
				if err != nil {
					return rep, err
				}
				conns = append(conns, s)
				if err := setStreamOptions(s, o.Window, o.Congestion); err != nil {
					return rep, err
				}
				if _, err := s.Write(cookie); err != nil {
					return rep, err
				}
			}
		case stTestStart:
			ids := make([]int, len(conns))
			for i := range ids {
				ids[i] = clientStreamID(i)
			}
			r = newPerfRun(!o.Reverse, conns, ids, o.Interval, time.Duration(p.Omit)*time.Second)
			r.udp = o.UDP
			r.hasInfo = r.hasInfo && !o.UDP
			r.out, r.format = text, o.Format
			if text != nil {
				if o.Reverse {
					fmt.Fprintf(text, "Reverse mode, remote host %s is sending\n", host)
				}
				for i, s := range conns {
					printConnected(text, ids[i], s)
				}
			}
		case stTestRunning:
			if r == nil {
				return rep, errors.New("perf: the server started the test before its streams")
			}
			now := time.Now()
			r.begin(now)
			if o.JSON {
				r.doc = newPerfJSON(r, c, false, cookie, p, now)
			}
			// The test ends by time, or when the byte count is sent
			// (received, in reverse, as iperf3's client does).
			done := make(chan struct{})
			var doneOnce sync.Once
			finished := func() { doneOnce.Do(func() { close(done) }) }
			var got func()
			if o.Reverse && o.Bytes > 0 {
				got = func() {
					var sum int64
					for _, s := range r.streams {
						sum += s.n.Load()
					}
					if sum >= o.Bytes {
						finished()
					}
				}
			}
			startLoops(r, &wg, o.Block, rate, o.Bytes, stopSend, got, nil)
			if !o.Reverse {
				go func() { wg.Wait(); finished() }()
			}
			var deadline time.Time
			if o.Bytes == 0 {
				deadline = now.Add(time.Duration(p.Omit)*time.Second + o.Duration)
			}
			cancelled := context.AfterFunc(ctx, finished)
			r.end = r.run(done, deadline)
			cancelled()
			if ctx.Err() != nil {
				writeState(c, stClientTerminate)
				return rep, ctx.Err()
			}
			stopDataPhase(stopSend, conns)
			if !o.Reverse {
				wg.Wait()
			}
			ended = true
			if err := writeState(c, stTestEnd); err != nil {
				return rep, err
			}
		case stExchangeResults:
			if r == nil || !ended {
				return rep, errors.New("perf: the server asked for results before the test ended")
			}
			if o.Reverse {
				// Keep reading until the streams close; give bytes in
				// flight a moment before counting.
				time.Sleep(100 * time.Millisecond)
			}
			r.finish()
			cpu := cpuSince(r.cpu0, time.Now())
			rep.ownResults(r)
			if err := writeJSON(c, results(r, rep.Duration, cpu)); err != nil {
				return rep, err
			}
			var theirs perfResults
			if err := readJSON(c, &theirs); err != nil {
				return rep, err
			}
			rep.peerResults(theirs, o.Reverse)
			if r.doc != nil {
				r.doc.setEnd(r, rep, cpu)
			}
		case stDisplayResults:
			writeState(c, stIperfDone)
			if !ended || r == nil {
				return rep, errors.New("perf: server ended the test early")
			}
			if r.doc != nil && out != nil {
				if err := r.doc.write(out); err != nil {
					return rep, err
				}
			} else if text != nil {
				io.WriteString(text, perfSeparator)
				printSummary(text, rep, true, o.Format)
				fmt.Fprintf(text, "\niperf Done.\n")
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
