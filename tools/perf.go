package tools

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// PerfReport is one side's view of a finished test.
type PerfReport struct {
	Bytes    int64         // payload bytes this side sent or received
	Duration time.Duration // of the data phase, past the omitted seconds
	Sender   bool
	Peer     int64 // bytes the peer reports
	// PeerDuration is the peer's data phase, as its results say.
	PeerDuration time.Duration
	// Streams and PeerStreams are Bytes and Peer per data stream, in
	// the order the streams were opened; IDs their bracketed numbers.
	Streams, PeerStreams []int64
	IDs                  []int
	// Retransmits are the sending side's per stream (from TCP_INFO, ours
	// or the peer's report) when SenderHasRetr; Congestion is the
	// sender's congestion control.
	Retransmits   []int64
	SenderHasRetr bool
	Congestion    string

	// UDP tests: the datagrams, losses and jitter (seconds) per stream,
	// this side's and the peer's (a sender's are its datagrams sent,
	// no losses, no jitter).
	UDP                  bool
	Packets, PeerPackets []int64
	Lost, PeerLost       []int64
	Jitter, PeerJitter   []float64

	peerCPU        cpuPercent
	peerCongestion string
}

// Bitrate is the goodput in bits per second.
func (r PerfReport) Bitrate() float64 {
	if r.Duration <= 0 {
		return 0
	}
	return float64(r.Bytes) * 8 / r.Duration.Seconds()
}

// ownResults fills rep with this side's counts at the end of run.
func (rep *PerfReport) ownResults(r *perfRun) {
	rep.Sender = r.sender
	rep.Duration = r.end.Sub(r.zero)
	rep.UDP = r.udp
	for _, s := range r.streams {
		rep.Bytes += s.total()
		rep.Streams = append(rep.Streams, s.total())
		rep.IDs = append(rep.IDs, s.id)
		if r.udp {
			p, l, _, j := s.udpTotals(r.sender)
			rep.Packets = append(rep.Packets, p)
			rep.Lost = append(rep.Lost, l)
			rep.Jitter = append(rep.Jitter, j)
		}
	}
	if cc, ok := r.congestion(); r.sender && ok {
		rep.SenderHasRetr, rep.Congestion = true, cc
		for _, s := range r.streams {
			rep.Retransmits = append(rep.Retransmits, s.retransmits())
		}
	}
}

// sendLoop writes blocks until stop closes or, with limit > 0, the
// streams sharing total have sent limit bytes between them (iperf3's -n
// counts the whole test, not each stream).
func sendLoop(c net.Conn, block int, limit int64, total *atomic.Int64, stop <-chan struct{}, n *atomic.Int64) {
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
		n.Add(int64(k))
		if err != nil {
			return
		}
	}
}

// recvLoop reads until the stream closes, counting into n, noting the
// time of the last bytes in last, calling got (if set) after each read.
func recvLoop(c net.Conn, block int, n, last *atomic.Int64, got func()) {
	buf := make([]byte, max(block, 64<<10))
	for {
		k, err := c.Read(buf)
		if k > 0 {
			n.Add(int64(k))
			last.Store(time.Now().UnixNano())
		}
		if got != nil {
			got()
		}
		if err != nil {
			return
		}
	}
}

// setStreamOptions applies -w (SO_SNDBUF and SO_RCVBUF) and -C
// (TCP_CONGESTION) to a data stream.
func setStreamOptions(c net.Conn, window int, congestion string) error {
	if window > 0 {
		b, ok := c.(interface {
			SetReadBuffer(int) error
			SetWriteBuffer(int) error
		})
		if !ok {
			return errors.New("perf: -w: the connection has no socket buffers to set")
		}
		if err := b.SetWriteBuffer(window); err != nil {
			return fmt.Errorf("perf: -w: %w", err)
		}
		if err := b.SetReadBuffer(window); err != nil {
			return fmt.Errorf("perf: -w: %w", err)
		}
	}
	if congestion != "" {
		cc, ok := c.(interface{ SetCongestion(string) error })
		if !ok {
			return errors.New("perf: -C: the connection's congestion control cannot be set")
		}
		if err := cc.SetCongestion(congestion); err != nil {
			return fmt.Errorf("perf: unable to set TCP_CONGESTION %s: %w", congestion, err)
		}
	}
	return nil
}

// printConnected prints iperf3's line for a new data stream.
func printConnected(w io.Writer, id int, c net.Conn) {
	lh, lp := hostPort(c.LocalAddr())
	rh, rp := hostPort(c.RemoteAddr())
	fmt.Fprintf(w, "[%3d] local %s port %d connected to %s port %d\n", id, lh, lp, rh, rp)
}

// stopDataPhase ends the streams' loops: senders stop at their next
// block, and a sender blocked in Write (the peer stopped reading) must
// not hold the test up, so its writes expire.
func stopDataPhase(stopSend chan struct{}, streams []net.Conn) {
	close(stopSend)
	for _, s := range streams {
		s.SetWriteDeadline(time.Now())
	}
}

// streamsOf are the connections of run's streams.
func streamsOf(r *perfRun) []net.Conn {
	var cs []net.Conn
	for _, s := range r.streams {
		cs = append(cs, s.conn)
	}
	return cs
}

// startLoops starts a sender or receiver per stream; a UDP server's
// streams share its socket, which one receiver reads (pc).
func startLoops(r *perfRun, wg *sync.WaitGroup, block int, rate float64, limit int64, stopSend <-chan struct{}, got func(), pc net.PacketConn) {
	var sent atomic.Int64 // against limit, across the streams
	if r.udp && !r.sender && pc != nil {
		wg.Add(1)
		go func() { defer wg.Done(); udpServeRecv(pc, r) }()
		return
	}
	for _, s := range r.streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch {
			case r.udp && r.sender:
				udpSendLoop(s.conn, block, rate, limit, &sent, stopSend, s)
			case r.udp:
				udpRecvLoop(s.conn, block, s, got)
			case r.sender:
				sendLoop(s.conn, block, limit, &sent, stopSend, &s.n)
			default:
				recvLoop(s.conn, block, &s.n, &s.lastRead, got)
			}
		}()
	}
}
