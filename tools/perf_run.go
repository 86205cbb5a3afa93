package tools

import (
	"io"
	"net"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/usnet/usnet/tcp"
)

// perfStream is one data connection of a running test and its counters.
type perfStream struct {
	conn net.Conn
	id   int          // the number iperf3 shows in brackets (its socket descriptor)
	n    atomic.Int64 // bytes moved since the test started
	// lastRead is when a receiver last got bytes (UnixNano): its data
	// phase lasts until then, past the sender's TEST_END.
	lastRead atomic.Int64

	// UDP: datagrams sent, or the receiver's counts.
	packets atomic.Int64
	udp     udpRecv

	// The reporter's bookkeeping (one goroutine at a time).
	base, last         int64  // bytes when the omitted seconds ended; at the last report
	packetsBase        int64  // UDP datagrams (sent, or the receiver's sequence) when the omitted seconds ended
	packetsLast        int64  // at the last report
	lostBase, lostLast int64  // UDP losses, likewise
	retrBase, retrLast uint64 // retransmissions, likewise
	maxCwnd            int64  // bytes
	minRTT, maxRTT     time.Duration
	sumRTT             time.Duration
	nRTT               int
}

// total is the stream's bytes past the omitted seconds.
func (s *perfStream) total() int64 { return s.n.Load() - s.base }

// udpTotals are the stream's UDP counts past the omitted seconds: the
// datagrams, and for a receiver the losses, reorderings and jitter.
func (s *perfStream) udpTotals(sender bool) (packets, lost, outOfOrder int64, jitter float64) {
	if sender {
		return s.packets.Load() - s.packetsBase, 0, 0, 0
	}
	p, l, o, j := s.udp.snapshot()
	return p - s.packetsBase, l - s.lostBase, o, j
}

// retransmissions past the omitted seconds, as of the last report.
func (s *perfStream) retransmits() int64 { return int64(s.retrLast - s.retrBase) }

// info is the stream's TCP_INFO when it is a usnet TCP connection.
func (s *perfStream) info() (tcp.Info, bool) {
	ic, ok := s.conn.(interface{ Info() tcp.Info })
	if !ok {
		return tcp.Info{}, false
	}
	i := ic.Info()
	// A closed proxied socket answers the zero Info: keep the last
	// counters rather than report them going back.
	return i, i.State != 0
}

// streamInterval is one stream's share of one report interval.
type streamInterval struct {
	id          int
	start, end  time.Duration // since the measured time began
	bytes       int64
	tcp         bool // the sender's TCP_INFO: retr, cwnd, rtt are known
	retr        int64
	cwnd        int64 // bytes
	rtt, rttvar time.Duration
	omitted     bool
	// UDP: datagrams; losses and jitter (seconds) on the receiver.
	udp     bool
	packets int64
	lost    int64
	jitter  float64
}

// perfRun is a test in progress on one side: its streams, its clock and
// its interval reports, which go out as iperf3's text or into its JSON.
type perfRun struct {
	sender   bool // this side sends the data
	udp      bool // a UDP test (-u)
	streams  []*perfStream
	interval time.Duration // 0: no reports until the end
	omit     time.Duration // iperf3's -O: the first seconds do not count

	out    io.Writer // text reports; nil for none
	format byte      // their bitrate unit (-f), 0 for adaptive
	doc    *perfJSON // the JSON document with -J (then out is nil)

	start     time.Time // the data phase began
	zero      time.Time // the measured time began (start, then the end of the omitted seconds)
	last      time.Time // the previous report ended
	end       time.Time // the data phase ended
	ticks     int       // reports since zero
	omitting  bool
	hasInfo   bool // every stream is a usnet TCP connection: TCP_INFO is known
	groups    int  // report groups printed
	cpu0      cpuTimes
	finalDone bool
	cc        string // congestion control, as TCP_INFO last said
}

func newPerfRun(sender bool, conns []net.Conn, ids []int, interval, omit time.Duration) *perfRun {
	r := &perfRun{sender: sender, interval: interval, omit: omit, hasInfo: len(conns) > 0}
	for i, c := range conns {
		s := &perfStream{conn: c, id: ids[i]}
		if _, ok := c.(interface{ Info() tcp.Info }); !ok {
			r.hasInfo = false
		}
		r.streams = append(r.streams, s)
	}
	return r
}

// begin starts the clock of the data phase.
func (r *perfRun) begin(now time.Time) {
	r.start, r.zero, r.last = now, now, now
	r.omitting = r.omit > 0
	r.cpu0 = readCPU(now)
	r.congestion()
}

// run reports each interval until stop closes or the deadline (if not
// zero) passes, and returns when the data phase ended. A deadline on a
// report's time wins: the last interval is then reported whole by
// finish, not as a full one and a sliver.
func (r *perfRun) run(stop <-chan struct{}, deadline time.Time) time.Time {
	const (
		tick = iota
		omitEnd
		done
	)
	for {
		var next time.Time
		kind := tick
		if r.interval > 0 {
			next = r.zero.Add(time.Duration(r.ticks+1) * r.interval)
		}
		if r.omitting {
			if e := r.start.Add(r.omit); next.IsZero() || !e.After(next) {
				next, kind = e, omitEnd
			}
		}
		if !deadline.IsZero() && (next.IsZero() || !deadline.After(next)) {
			next, kind = deadline, done
		}
		var fire <-chan time.Time
		var t *time.Timer
		if !next.IsZero() {
			t = time.NewTimer(time.Until(next))
			fire = t.C
		}
		select {
		case <-stop:
			if t != nil {
				t.Stop()
			}
			return time.Now()
		case now := <-fire:
			switch kind {
			case done:
				return now
			case omitEnd:
				r.report(now, true)
				r.endOmit(now)
			default:
				r.report(now, false)
			}
		}
	}
}

// endOmit restarts the counts and the clock when the omitted seconds
// are over (iperf_reset_stats).
func (r *perfRun) endOmit(now time.Time) {
	r.omitting = false
	r.zero, r.last, r.ticks = now, now, 0
	for _, s := range r.streams {
		s.base, s.last = s.n.Load(), s.n.Load()
		s.packetsBase, s.lostBase = s.packetsLast, s.lostLast
		s.retrBase = s.retrLast
		s.maxCwnd, s.minRTT, s.maxRTT, s.sumRTT, s.nRTT = 0, 0, 0, 0, 0
	}
}

// finish reports the last interval, up to the end of the data phase
// (the bytes counted are those moved until now).
func (r *perfRun) finish() {
	if r.finalDone {
		return
	}
	r.finalDone = true
	if !r.sender {
		for _, s := range r.streams {
			if t := time.Unix(0, s.lastRead.Load()); t.After(r.end) {
				r.end = t
			}
		}
	}
	r.report(r.end, true)
}

// report takes one interval's counts, ending at now. A last or partial
// interval is shown, as iperf3 shows it, if it moved bytes or lasted at
// least a tenth of the interval.
func (r *perfRun) report(now time.Time, partial bool) {
	span := now.Sub(r.last)
	ivs := make([]streamInterval, 0, len(r.streams))
	var total int64
	for _, s := range r.streams {
		n := s.n.Load()
		iv := streamInterval{id: s.id, start: r.last.Sub(r.zero), end: now.Sub(r.zero),
			bytes: n - s.last, retr: -1, omitted: r.omitting}
		s.last = n
		if r.udp {
			iv.udp = true
			if r.sender {
				p := s.packets.Load()
				iv.packets, s.packetsLast = p-s.packetsLast, p
			} else {
				p, l, _, j := s.udp.snapshot()
				iv.packets, iv.lost, iv.jitter = p-s.packetsLast, l-s.lostLast, j
				s.packetsLast, s.lostLast = p, l
			}
		} else if r.sender {
			if i, ok := s.info(); ok {
				r.cc = i.Congestion
				iv.tcp = true
				iv.retr = int64(i.Retransmits - s.retrLast)
				s.retrLast = i.Retransmits
				iv.cwnd = int64(i.Cwnd) * int64(i.SndMSS)
				iv.rtt, iv.rttvar = i.RTT, i.RTTVar
				s.maxCwnd = max(s.maxCwnd, iv.cwnd)
				if i.RTT > 0 {
					if s.nRTT == 0 || i.RTT < s.minRTT {
						s.minRTT = i.RTT
					}
					s.maxRTT = max(s.maxRTT, i.RTT)
					s.sumRTT += i.RTT
					s.nRTT++
				}
			}
		}
		total += iv.bytes
		ivs = append(ivs, iv)
	}
	r.last = now
	if !partial {
		r.ticks++
	}
	if partial && total == 0 && (r.interval <= 0 || span < r.interval/10) {
		return
	}
	if r.doc != nil {
		r.doc.addInterval(ivs, r.sender)
	}
	if r.out != nil {
		r.printInterval(ivs)
	}
}

// congestion is this side's congestion control and whether its
// retransmissions are known (TCP_INFO of usnet connections). The streams
// may be closed by the end of a test: the last name read stands then.
func (r *perfRun) congestion() (string, bool) {
	if !r.hasInfo {
		return "", false
	}
	for _, s := range r.streams {
		if i, ok := s.info(); ok {
			r.cc = i.Congestion
			break
		}
	}
	return r.cc, true
}

// cpuTimes is the process's CPU time at a moment, for iperf3's
// cpu_utilization_percent.
type cpuTimes struct {
	wall         time.Time
	user, system time.Duration
}

// cpuPercent is CPU use over the test, in percent of one CPU.
type cpuPercent struct{ total, user, system float64 }

func readCPU(now time.Time) cpuTimes {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return cpuTimes{wall: now}
	}
	return cpuTimes{wall: now, user: time.Duration(ru.Utime.Nano()), system: time.Duration(ru.Stime.Nano())}
}

// cpuSince is the CPU use from c0 to now.
func cpuSince(c0 cpuTimes, now time.Time) cpuPercent {
	c := readCPU(now)
	wall := c.wall.Sub(c0.wall).Seconds()
	if wall <= 0 {
		return cpuPercent{}
	}
	u := (c.user - c0.user).Seconds() / wall * 100
	s := (c.system - c0.system).Seconds() / wall * 100
	return cpuPercent{total: u + s, user: u, system: s}
}
