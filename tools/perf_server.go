package tools

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// streamTimeout bounds the wait for a test's data streams.
const streamTimeout = 30 * time.Second

// PerfServerOptions are the iperf3 server options usnet perf supports.
type PerfServerOptions struct {
	Once     bool          // -1: exit after one test
	Interval time.Duration // -i: seconds between reports; 0 for none
	JSON     bool          // -J: a JSON document per test instead of text
	Format   byte          // -f: the bitrates' unit, as PerfOptions.Format
}

// PerfServe runs an iperf3-compatible server on addr in ns, one test at
// a time until ctx ends (or after one test with o.Once), printing to out
// what iperf3's server prints.
func PerfServe(ctx context.Context, ns Namespace, addr string, o PerfServerOptions, out io.Writer) error {
	l, err := ns.Listen("tcp", addr)
	if err != nil {
		return err
	}
	defer l.Close()
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	if out == nil {
		out = io.Discard
	}
	_, port := hostPort(l.Addr())
	// One goroutine accepts for the server's life: a test waits for its
	// data streams and for its control connection at once, and a client
	// that dies before opening its streams must not leave an Accept
	// behind that would take the next client's connection.
	accepted := make(chan net.Conn)
	quit := make(chan struct{})
	defer close(quit)
	var acceptErr error
	go func() {
		defer close(accepted)
		for {
			c, err := l.Accept()
			if err != nil {
				acceptErr = err
				return
			}
			select {
			case accepted <- c:
			case <-quit:
				c.Close()
				return
			}
		}
	}()
	for test := 1; ; test++ {
		if !o.JSON {
			fmt.Fprintf(out, "%sServer listening on %d (test #%d)\n%s", perfBanner, port, test, perfBanner)
		}
		c, ok := <-accepted
		if !ok {
			if ctx.Err() != nil {
				return nil
			}
			return acceptErr
		}
		err := serveTest(c, accepted, ns, addr, o, out)
		c.Close()
		if err != nil {
			fmt.Fprintf(out, "perf: error - %v\n", err)
		}
		if o.Once {
			return err
		}
	}
}

// serveTest runs one test on control connection c, taking its data
// streams from accepted (TCP) or from a UDP socket it opens on addr in
// ns.
func serveTest(c net.Conn, accepted <-chan net.Conn, ns Namespace, addr string, o PerfServerOptions, out io.Writer) error {
	text := out
	if o.JSON {
		text = nil
	}
	cookie := make([]byte, cookieLen)
	if _, err := io.ReadFull(c, cookie); err != nil {
		return err
	}
	if text != nil {
		h, p := hostPort(c.RemoteAddr())
		fmt.Fprintf(text, "Accepted connection from %s, port %d\n", h, p)
	}
	if err := writeState(c, stParamExchange); err != nil {
		return err
	}
	var p perfParams
	if err := readJSON(c, &p); err != nil {
		return err
	}
	p.Parallel = max(p.Parallel, 1)
	if p.Len <= 0 {
		p.Len = defaultBlock
		if p.UDP {
			p.Len = udpDefaultBlock
		}
	}
	// iperf3's own bounds (MAX_STREAMS, MAX_BLOCKSIZE, the largest
	// datagram): a client cannot make the server hold more.
	if p.Parallel > maxStreams || p.Len > maxBlock || p.UDP && p.Len > udpMaxBlock {
		writeServerError(c, 1)
		return fmt.Errorf("client asks for %d streams of %d-byte blocks", p.Parallel, p.Len)
	}
	var pc net.PacketConn
	if p.UDP {
		// The UDP socket must be there before the client sends its
		// streams' hellos, on CREATE_STREAMS.
		var err error
		if pc, err = ns.ListenPacket("udp", addr); err != nil {
			writeServerError(c, 1)
			return err
		}
		defer pc.Close()
	}
	// From here the client sends nothing but TEST_END (or
	// CLIENT_TERMINATE, or it goes away): a reader watches for it while
	// the streams are made and the data phase runs.
	ended := make(chan struct{})
	var ctlErr error
	go func() {
		defer close(ended)
		for {
			st, err := readState(c)
			switch {
			case err != nil:
				ctlErr = err
			case st == stClientTerminate:
				ctlErr = errors.New("client terminated the test")
			case st != stTestEnd:
				continue
			}
			return
		}
	}()
	if err := writeState(c, stCreateStreams); err != nil {
		return err
	}
	var conns []net.Conn
	defer func() {
		for _, s := range conns {
			s.Close()
		}
	}()
	var ids []int
	if p.UDP {
		var err error
		if conns, err = udpAccept(pc, c, p.Parallel, ended); err != nil {
			writeServerError(c, 1)
			return err
		}
		for i, s := range conns {
			ids = append(ids, serverUDPStreamID(i))
			if text != nil {
				printConnected(text, ids[i], s)
			}
		}
	}
	timeout := time.NewTimer(streamTimeout)
	defer timeout.Stop()
	for !p.UDP && len(conns) < p.Parallel {
		var s net.Conn
		select {
		case s = <-accepted:
			if s == nil {
				return errors.New("the listener closed")
			}
		case <-ended:
			if ctlErr == nil {
				ctlErr = errors.New("TEST_END before the streams")
			}
			return fmt.Errorf("control connection: %w", ctlErr)
		case <-timeout.C:
			writeServerError(c, 1)
			return errors.New("the client opened no data streams")
		}
		got := make([]byte, cookieLen)
		s.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.ReadFull(s, got); err != nil || string(got) != string(cookie) {
			s.Close() // a stranger (or another client): iperf3 refuses it
			continue
		}
		s.SetReadDeadline(time.Time{})
		if err := setStreamOptions(s, p.Window, p.Congestion); err != nil {
			s.Close()
			writeServerError(c, 1)
			return err
		}
		ids = append(ids, serverStreamID(len(conns)))
		conns = append(conns, s)
		if text != nil {
			printConnected(text, ids[len(ids)-1], s)
		}
	}
	r := newPerfRun(p.Reverse, conns, ids, o.Interval, time.Duration(p.Omit)*time.Second)
	r.udp = p.UDP
	r.hasInfo = r.hasInfo && !p.UDP
	r.out, r.format = text, o.Format
	if err := writeState(c, stTestStart); err != nil {
		return err
	}
	if err := writeState(c, stTestRunning); err != nil {
		return err
	}
	now := time.Now()
	r.begin(now)
	if o.JSON {
		r.doc = newPerfJSON(r, c, true, cookie, p, now)
	}
	stopSend := make(chan struct{})
	var wg sync.WaitGroup
	startLoops(r, &wg, p.Len, float64(p.Bandwidth), p.Num, stopSend, nil, pc)
	r.end = r.run(ended, time.Time{})
	<-ended
	stopDataPhase(stopSend, conns)
	if ctlErr != nil {
		return ctlErr
	}
	if r.sender {
		wg.Wait() // the senders stop at once (their writes expired)
		r.finish()
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
	for _, s := range conns {
		s.Close()
	}
	if pc != nil {
		pc.Close() // ends the UDP receiver
	}
	wg.Wait()
	r.finish()
	cpu := cpuSince(r.cpu0, time.Now())
	if err := writeState(c, stExchangeResults); err != nil {
		return err
	}
	var theirs perfResults
	if err := readJSON(c, &theirs); err != nil {
		return err
	}
	var rep PerfReport
	rep.ownResults(r)
	rep.peerResults(theirs, !p.Reverse)
	if err := writeJSON(c, results(r, rep.Duration, cpu)); err != nil {
		return err
	}
	if err := writeState(c, stDisplayResults); err != nil {
		return err
	}
	// iperf3 clients close right after IPERF_DONE; a missing one is not
	// worth failing a finished test.
	readState(c)
	if r.doc != nil {
		r.doc.setEnd(r, rep, cpu)
		return r.doc.write(out)
	}
	io.WriteString(text, perfSeparator)
	printSummary(text, rep, false, o.Format)
	return nil
}
