package tcp

import (
	"net/netip"
	"syscall"
	"time"

	"github.com/usnet/usnet/executor"
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/skb"
	"github.com/usnet/usnet/tcp/cc"
)

// State is a connection state (TCP_ESTABLISHED ...).
type State uint8

const (
	Closed State = iota
	Listen
	SynSent
	SynRecv
	Established
	FinWait1
	FinWait2
	CloseWait
	Closing
	LastAck
	TimeWait
)

var stateNames = [...]string{"CLOSED", "LISTEN", "SYN-SENT", "SYN-RECV", "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "CLOSE-WAIT", "CLOSING", "LAST-ACK", "TIME-WAIT"}

func (s State) String() string { return stateNames[s] }

// RTO bounds (RFC 6298 with Linux's TCP_RTO_MIN and TCP_RTO_MAX).
const (
	rtoInit   = time.Second
	rtoMin    = 200 * time.Millisecond
	rtoMax    = 120 * time.Second
	maxOOO    = 256 // out-of-order segments held
	initCwnd  = 10  // TCP_INIT_CWND
	defaultMS = 536 // RFC 1122 default MSS
)

// Conn is one connection. Its methods run on the namespace executor.
type Conn struct {
	t     *Table
	state State
	k     key

	// send side: sndq holds the bytes from sndUna on (sent and not
	// acknowledged, then not yet sent); SYN and FIN occupy sequence
	// numbers but no buffer bytes.
	iss, sndUna, sndNxt uint32
	sndWnd              uint32 // peer's window, scaled
	sndWl1, sndWl2      uint32
	sndq                sndQueue // sndqueue.go
	xmitGoal            int      // payload of the largest segment to build (gsoMax)
	sndCap              int      // send buffer in truesize (sk_sndbuf; buffer.go)
	finQueued, finSent  bool
	sndNoSpace          bool   // a Send found the buffer full (SOCK_NOSPACE)
	sndMax              uint32 // highest sequence sent (go-back-N rewinds sndNxt, not this)
	finSeq              uint32 // sequence number of our FIN, once sent
	finEver             bool
	sndSml              uint32 // end of the last short segment sent (snd_sml, for Nagle)
	sndSmlSet           bool   // sndSml holds a sequence number of this connection
	mss                 int    // payload per segment (mss_cache)
	advMSS              int    // MSS we announce: route MTU - 40
	sndShift, rcvShift  uint8
	peerWScale          bool

	// send-buffer accounting (buffer.go)
	notsentLow               uint32        // TCP_NOTSENT_LOWAT (0: no limit)
	sndLimStart, sndLimTotal time.Duration // time limited by the send buffer (TCP_CHRONO_SNDBUF_LIMITED): since (+1), before

	// receive side
	irs, rcvNxt uint32
	rcvq        rcvQueue // in-order data not yet read (rcvqueue.go)
	rcvMem      int      // truesize of rcvq and ooo (sk_rmem_alloc)
	rcvCap      int
	ooo         []oooSeg
	finRcvd     bool
	userClosed  bool   // Close or Abort: nothing will be read any more
	rcvShutdown bool   // CloseRead: an empty queue reads as end-of-file (RCV_SHUTDOWN)
	advertised  uint32 // right edge of the window last advertised (rcv_wup + rcv_wnd)

	// window selection (rcvwnd.go)
	rcvWnd      uint32 // window last advertised, unscaled (rcv_wnd)
	rcvSsthresh uint32 // cap on the window offered, grown by good data (rcv_ssthresh)
	windowClamp int    // most the window may grow to (window_clamp); 0 before establishment
	rcvMSS      int    // the peer's segment size as seen (icsk_ack.rcv_mss)
	lastSegSize int    // payload of the last short segment (icsk_ack.last_seg_size)

	// urgent data (urgent.go)
	copiedSeq          uint32 // next byte the application reads (copied_seq)
	urgSeq, sndUp      uint32
	urgState           urgState
	urgByte            byte
	oobInline, urgMode bool

	// ECN (ecn.go)
	ecnOK, ecnDemandCWR, ecnQueueCWR bool

	// buffer autotuning (autotune.go)
	rcvLocked, sndLocked bool   // SO_RCVBUF / SO_SNDBUF set (SOCK_*BUF_LOCK)
	copied               uint64 // bytes the application has read
	rsSpace              int    // rcvq_space.space
	rsCopied             uint64 // rcvq_space.seq, as a count of bytes read
	rsTime               time.Duration
	rcvRTT               time.Duration // rcv_rtt_est
	rcvRTTLastEcr        uint32
	rcvRTTSeq            uint32
	rcvRTTTime           time.Duration

	// timers and RTT
	rto, srtt, rttvar time.Duration
	rtoTimer          executor.Timer // timers.go: embedded, one allocation less each
	ackTimer          executor.Timer
	compTimer         executor.Timer // compsack.go
	comp              compState
	twTimer           executor.Timer
	retries           int
	rttTiming         bool
	rttSeq            uint32
	rttStart          time.Duration
	rcvWup            uint32   // rcv_nxt when we last advertised a window (rcv_wup)
	ack               ackState // delayed ACKs (delack.go)

	// congestion control (congestion.go)
	ca          cc.Algorithm
	snd         cc.Sender
	caState     cc.CAState
	priorCwnd   uint32
	cwndLimited bool   // the last send stopped at cwnd
	maxInflight uint32 // segments in flight at the last send
	minRTT      time.Duration
	dupAcks     int
	recover     uint32

	// timestamps (timestamps.go)
	tsOK, tsRecentSet bool
	tsOff, tsRecent   uint32

	// tail loss probe (tlp.go)
	ptoArmed bool
	tlp      tlpState

	// SACK (sack.go)
	sackOK  bool
	sacks   [4]seqRange // blocks to report, most recently used first (selective_acks, TCP_NUM_SACKS)
	nsacks  int
	dsack   seqRange // D-SACK block to report in the next ACK (tcp_dsack_set)
	dsackOn bool

	// RACK-TLP and PRR (rack.go, congestion.go)
	txq          []txSeg // retransmission queue records, by sequence
	rack         rack
	reoTimer     executor.Timer
	prrDelivered uint32
	prrOut       uint32

	// undo of spurious reductions, F-RTO (undo.go, frto.go)
	undo     undoState
	ackFlags ackFlag // what the ACK being processed showed

	// keepalive (keepalive.go)
	keepalive       bool
	kaTimer         *executor.Timer
	kaIdle, kaIntvl time.Duration
	kaCnt, kaProbes int
	lastRcv         time.Duration
	lastOOW         time.Duration // last rate-limited dupACK (oowRateLimited)

	flow ipv4.FlowKey // route() scratch
	rt   ipv4.Route
	// rtOK: rt is the output route cached under generation rtGen
	// (sk_dst_cache); see route.
	rtOK  bool
	rtGen uint64
	// rxOK: segments of this connection arriving on rxIfindex under
	// route generation rxGen are delivered locally without a lookup
	// (sk_rx_dst, sk_rx_dst_ifindex); see Table.earlyDemux.
	rxOK      bool
	rxIfindex int
	rxGen     uint64

	// SO_LINGER close waiting for the FIN's acknowledgment (shutdown.go)
	lingerDone  func(drained bool)
	lingerTimer *executor.Timer

	err       error
	listener  *Listener     // for a passive open until accepted
	bound     bool          // the local port was given to connect (counted in Table.bound)
	twEntered time.Duration // when TIME_WAIT began (+1, 0: not in TIME_WAIT)
	NoDelay   bool
	// Callbacks the socket layer sets (on the executor).
	OnReadable, OnWritable func()

	Info Info
}

// Info is a TCP_INFO-like summary.
type Info struct {
	State                         State
	RTT, RTTVar, RTO              time.Duration
	Cwnd, Ssthresh                uint32 // segments, as tcpi_snd_cwnd
	PriorCwnd                     uint32 // cwnd before the last reduction
	Recoveries                    uint64 // fast recoveries entered
	Congestion                    string
	BytesSent, BytesAcked         uint64
	BytesReceived, Retransmits    uint64
	SegsOut, SegsIn, DupAcksTotal uint64
	PAWSDrops, TLPs               uint64
	DSACKs                        uint64 // D-SACK blocks received
	ReordSeen                     uint64 // reordering events detected (tcpi_reord_seen)
	RACKLost                      uint64 // bytes RACK marked lost
	Timeouts                      uint64 // retransmission timeouts on data (TCPTimeouts)
	TLPRecoveries                 uint64 // probes that repaired a loss, answered by a reduction (TCPLossProbeRecovery)
	LostRetransmits               uint64 // retransmitted segments found lost again (TCPLostRetransmit)
	SpuriousRTOs                  uint64 // timeouts F-RTO found spurious (TCPSpuriousRTOs)
	FullUndo, PartialUndo         uint64 // fast recoveries undone at their end, or on a partial ACK (TCPFullUndo, TCPPartialUndo)
	DSACKUndo, LossUndo           uint64 // undone because every retransmission was D-SACKed; timeouts undone (TCPDSACKUndo, TCPLossUndo)
	ECN                           bool   // ECN negotiated (TCPI_OPT_ECN)
	Timestamps, SACK, WScale      bool   // options in use (TCPI_OPT_TIMESTAMPS, TCPI_OPT_SACK, TCPI_OPT_WSCALE)
	SndWScale, RcvWScale          uint8  // window scale shifts, the peer's and ours (tcpi_snd_wscale, tcpi_rcv_wscale)
	CEReceived                    uint64 // data segments that arrived CE-marked
	CWRReductions                 uint64 // window reductions for ECE (entries into CWR)
	UrgentMarks, UrgentSkipped    uint64 // urgent pointers taken; urgent bytes stepped over in the stream
	RcvSsthresh, RcvWnd           uint32 // window cap grown by received data; window last advertised, unscaled (tcpi_rcv_ssthresh, tcpi_rcv_wnd)
	RcvMSS                        int    // the peer's segment size as seen (tcpi_rcv_mss)
	SndMSS                        int    // the segment size this side sends (tcpi_snd_mss): iperf3 shows Cwnd as Cwnd*SndMSS bytes

	// The send buffer (buffer.go): its size and the truesize queued
	// against it (sk_sndbuf, sk_wmem_queued as SO_MEMINFO shows them),
	// the bytes queued and never sent (tcpi_notsent_bytes), and the time
	// spent with nothing to send while the writer waited for buffer
	// (tcpi_sndbuf_limited).
	SndBuf, WmemQueued, NotsentBytes int
	SndbufLimited                    time.Duration
}

// oooSeg is an out-of-order segment: its payload skb (nil for a bare
// FIN) and data, a view of the skb's bytes.
type oooSeg struct {
	seq  uint32
	data []byte
	b    *skb.Buf
	fin  bool
}

// seq comparisons modulo 2^32.
func seqLT(a, b uint32) bool  { return int32(a-b) < 0 }
func seqLEQ(a, b uint32) bool { return int32(a-b) <= 0 }

func (t *Table) newConn(k key) *Conn {
	c := &Conn{t: t, k: k, sndCap: t.Sysctl.WmemDefault, rcvCap: winFromSpace(t.Sysctl.RmemDefault), rto: rtoInit, mss: defaultMS}
	c.initTimers()
	c.rack.reordering = defaultReordering
	c.iss = t.secureSeq(k)
	c.tsOff = t.tsOffset(k.la, k.ra)
	c.caInit()
	c.initWScale()
	return c
}

// TCPInfo returns the TCP_INFO-like summary.
func (c *Conn) TCPInfo() Info {
	i := c.Info
	i.State = c.state
	i.Cwnd, i.Ssthresh, i.PriorCwnd = c.snd.Cwnd, c.snd.Ssthresh, c.priorCwnd
	i.Congestion = c.ca.Name()
	i.RcvSsthresh, i.RcvWnd, i.RcvMSS = c.rcvSsthresh, c.rcvWnd, c.rcvMSS
	i.SndMSS = c.mss
	i.Timestamps, i.SACK, i.WScale = c.tsOK, c.sackOK, c.peerWScale
	if c.peerWScale {
		i.SndWScale, i.RcvWScale = c.sndShift, c.rcvShift
	}
	i.SndBuf, i.WmemQueued, i.NotsentBytes = c.sndCap, c.sndq.Mem(), c.notsent()
	i.SndbufLimited = c.sndLimTotal
	if c.sndLimStart != 0 {
		i.SndbufLimited += c.t.exec.Now() + 1 - c.sndLimStart
	}
	return i
}

// SetSendBuffer sets SO_SNDBUF: the kernel doubles the value for
// bookkeeping overhead, with a floor of SOCK_MIN_SNDBUF; the queue's
// truesize is held to that. A writer is woken if it now fits
// (sk_write_space).
func (c *Conn) SetSendBuffer(n int) {
	c.sndCap = max(2*min(n, 1<<30), 4608)
	c.sndLocked = true
	c.writeSpace()
}

// SetRecvBuffer sets SO_RCVBUF (doubled, floor SOCK_MIN_RCVBUF), which
// allows a window of half that, as Linux's tcp_full_space at the default
// scaling ratio: SO_RCVBUF n offers about n. The window already offered
// is honoured: the buffer never shrinks below what the peer may send into
// it now. On a connection the window clamp follows the new buffer, as
// Linux's tcp_set_window_clamp does when it re-derives it from sk_rcvbuf.
func (c *Conn) SetRecvBuffer(n int) {
	want := winFromSpace(max(2*min(n, 1<<30), 2304))
	c.rcvLocked = true
	if c.state == Closed || c.state == SynSent || c.state == Listen {
		c.rcvCap = want
		c.initWScale()
		return
	}
	offered := int(c.windowLeft()) + c.rcvq.Len()
	c.rcvCap = max(want, offered)
	if c.windowClamp > 0 {
		c.setWindowClamp(want)
	}
}

// State returns the connection's state.
func (c *Conn) State() State { return c.state }

// LocalAddr and RemoteAddr are the connection's endpoints.
func (c *Conn) LocalAddr() netip.AddrPort  { return netip.AddrPortFrom(c.k.la, c.k.lp) }
func (c *Conn) RemoteAddr() netip.AddrPort { return netip.AddrPortFrom(c.k.ra, c.k.rp) }

// Connect opens a connection from laddr (any address/port when unset) to
// raddr (tcp_v4_connect). Established or failed is signalled through
// OnWritable/OnReadable; Err tells which.
func (t *Table) Connect(laddr, raddr netip.AddrPort) (*Conn, error) {
	if len(t.conns) >= t.Sysctl.MaxConnections {
		return nil, syscall.ENOBUFS
	}
	if !raddr.Addr().Is4() || raddr.Port() == 0 {
		return nil, syscall.EINVAL
	}
	src := laddr.Addr()
	if !src.IsValid() || src.IsUnspecified() {
		rt, err := t.ip.RouteOutput(&ipv4.FlowKey{Dst: raddr.Addr(), Proto: 6})
		if err != nil {
			return nil, err
		}
		src = rt.Src
	} else if !t.ip.IsLocal(src) {
		return nil, syscall.EADDRNOTAVAIL
	}
	port := laddr.Port()
	var tw *Conn
	if port == 0 {
		var err error
		if port, tw, err = t.connectPort(src, raddr.Addr(), raddr.Port()); err != nil {
			return nil, err
		}
	}
	k := key{la: src, ra: raddr.Addr(), lp: port, rp: raddr.Port()}
	if o := t.conns[k]; o != nil && tw == nil {
		if laddr.Port() == 0 || o.state != TimeWait || !t.twUnique(o, false) {
			return nil, syscall.EADDRINUSE
		}
		tw = o
	}
	c := t.newConn(k)
	if tw != nil {
		c.takeOver(tw)
	}
	if laddr.Port() != 0 {
		c.bound = true
		t.bound[port]++
	}
	c.setMSS()
	t.conns[k] = c
	t.hold(port)
	c.state = SynSent
	c.sndUna, c.sndNxt, c.sndMax = c.iss, c.iss+1, c.iss+1
	c.rttStart = t.exec.Now()
	t.Stats.ActiveOpens++
	c.sendSyn(false)
	c.armRTO()
	return c, nil
}

// Err returns the connection's pending error (ECONNREFUSED, ECONNRESET,
// ETIMEDOUT ...), if any.
func (c *Conn) Err() error { return c.err }

// Established reports whether data can flow.
func (c *Conn) Established() bool {
	return c.state == Established || c.state == CloseWait || c.state == FinWait1 || c.state == FinWait2
}

// Send queues p (tcp_sendmsg) and returns how much fitted in the send
// buffer (sndAppend: new skbs while the queued truesize is below it);
// 0 with a nil error means "full, wait for OnWritable".
func (c *Conn) Send(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	switch c.state {
	case Established, CloseWait:
	case SynSent, SynRecv:
		return 0, nil
	default:
		return 0, syscall.EPIPE
	}
	if c.finQueued {
		return 0, syscall.EPIPE
	}
	n := c.sndAppend(p)
	if n < len(p) {
		c.sndNoSpace = true // wait_for_space
	}
	if n == 0 {
		return 0, nil
	}
	c.Info.BytesSent += uint64(n)
	c.output()
	return n, nil
}

// Writable reports whether poll would report the socket writable
// (tcp_poll: __sk_stream_is_writeable): room for a third of the buffer
// at least, not just for one more byte.
func (c *Conn) Writable() bool {
	return c.err != nil || c.Established() && !c.finQueued && c.sndWriteable(true) || c.state == Closed
}

// Recv copies received bytes into p. eof reports the peer's FIN once the
// data before it is read.
func (c *Conn) Recv(p []byte) (n int, eof bool, err error) {
	lim := c.urgLimit(len(p)) // may step over the urgent byte
	if c.rcvq.Len() > 0 {
		n = c.readRcv(p[:lim], lim)
		c.copied += uint64(n)
		c.copiedSeq += uint32(n)
		c.urgPassed()
		c.rcvSpaceAdjust()
		if c.rcvq.Len() == 0 && (c.finRcvd || c.state == Closed) {
			c.releaseRecv()
		}
		c.cleanupRbuf(n)
		return n, false, nil
	}
	// The peer's FIN, once read up to, is reported before an error that
	// came later, as Linux's recvmsg tests SOCK_DONE before sk_err: after
	// a FIN then an RST the reader sees end of file, the writer the error.
	if c.finRcvd {
		return 0, true, nil
	}
	if c.err != nil {
		return 0, false, c.err
	}
	if c.rcvShutdown {
		return 0, true, nil
	}
	return 0, false, nil
}

// Readable reports whether Recv would return something.
func (c *Conn) Readable() bool {
	return c.rcvq.Len() > 0 || c.finRcvd || c.rcvShutdown || c.err != nil
}

// CloseWrite sends FIN after the queued data (shutdown(SHUT_WR)).
func (c *Conn) CloseWrite() {
	switch c.state {
	case SynSent:
		c.destroy()
		return
	case Established:
		c.state = FinWait1
	case CloseWait:
		c.state = LastAck
	case SynRecv:
		c.state = FinWait1
	default:
		return
	}
	c.finQueued = true
	c.output()
}

// Close closes the connection (close(2)): unread data makes it a reset
// in any synchronized state, as in Linux (tcp_close, TCPAbortOnClose;
// RFC 2525 2.17); otherwise FIN after the queued data.
func (c *Conn) Close() {
	if c.rcvq.Len() > 0 && c.resettable() {
		c.t.Stats.TCPAbortOnClose++
		c.Abort()
		return
	}
	c.userClosed = true
	c.purgeRcv()
	c.CloseWrite()
}

// Abort resets the connection (SO_LINGER 0 close).
func (c *Conn) Abort() {
	c.userClosed = true
	c.purgeRcv()
	if c.resettable() {
		c.sendRst(c.sndNxt)
	}
	c.destroy()
}

// resettable reports whether an abort is told to the peer with a RST.
func (c *Conn) resettable() bool {
	return c.state != Closed && c.state != SynSent && c.state != TimeWait && c.state != Listen
}

// destroy removes the connection from the table and stops its timers.
func (c *Conn) destroy() {
	if c.state == Closed && c.t.conns[c.k] != c {
		return
	}
	if c.state != TimeWait {
		c.twEntered = 0
	}
	c.state = Closed
	c.rtoTimer.Stop()
	c.ackTimer.Stop()
	c.compTimer.Stop()
	c.twTimer.Stop()
	c.reoTimer.Stop()
	if c.kaTimer != nil {
		c.kaTimer.Stop()
	}
	if c.t.conns[c.k] == c {
		delete(c.t.conns, c.k)
		c.t.release(c.k.lp)
		if c.bound {
			if c.t.bound[c.k.lp]--; c.t.bound[c.k.lp] <= 0 {
				delete(c.t.bound, c.k.lp)
			}
		}
		if c.twEntered != 0 {
			c.t.tw--
		}
	}
	if c.listener != nil {
		c.listener.synq--
		c.listener = nil
	}
	c.releaseSend()
	c.releaseRecv()
	c.wake()
	c.lingerCheck()
}

func (c *Conn) wake() {
	if c.OnReadable != nil {
		c.OnReadable()
	}
	if c.OnWritable != nil {
		c.OnWritable()
	}
}

// fail ends the connection with err.
func (c *Conn) fail(err error) {
	if c.err == nil {
		c.err = err
	}
	c.destroy()
}
