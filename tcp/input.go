package tcp

import (
	"math"
	"net/netip"
	"slices"
	"syscall"
	"time"

	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
	"github.com/usnet/usnet/tcp/cc"
)

// Receive is the protocol handler (tcp_v4_rcv): validate, demultiplex to
// a connection or a listener, or answer with RST.
func (t *Table) Receive(b *skb.Buf, src, dst netip.Addr, dev *netdev.Device) {
	defer b.Free()
	t.rxBuf = b
	defer func() { t.rxBuf = nil }()
	if b.PktType != skb.PacketHost {
		return
	}
	seg, err := header.ParseTCP(b.Bytes())
	if err != nil {
		t.Stats.InErrs++
		return
	}
	if b.Csum == skb.CsumNone && seg.VerifyChecksum(src, dst) != nil {
		t.Stats.InCsumErrors++
		t.Stats.InErrs++
		return
	}
	t.Stats.InSegs++
	t.rxCE = b.L3 >= 0 && len(b.From(b.L3)) > 1 && b.From(b.L3)[1]&ecnCE == ecnCE
	if c := t.conns[key{la: dst, ra: src, lp: seg.DstPort(), rp: seg.SrcPort()}]; c != nil {
		if c.state == TimeWait && t.twSyn(c, seg, src, dst) {
			return
		}
		// inet_sk_rx_dst_set: the segment was routed to us (looked up or
		// early demuxed) on dev under the current generation, so the
		// next one of this flow may skip the lookup (earlyDemux).
		c.rxGen, c.rxOK = t.ip.RouteGen()
		c.rxIfindex = dev.Ifindex()
		c.segment(seg)
		return
	}
	f := seg.Flags()
	if f&(header.TCPFlagSYN|header.TCPFlagRST|header.TCPFlagACK) == header.TCPFlagACK {
		if l := t.lookupListener(dst, seg.DstPort()); l != nil && !l.closed && l.cookieAck(src, dst, seg) {
			return
		}
	}
	if f&header.TCPFlagSYN != 0 && f&(header.TCPFlagACK|header.TCPFlagRST) == 0 {
		if l := t.lookupListener(dst, seg.DstPort()); l != nil && !l.closed {
			var o header.TCPOptions
			if seg.ParseOptions(&o) != nil {
				t.Stats.InErrs++
				return
			}
			l.synRcvd(src, dst, seg, &o, 0)
			return
		}
	}
	t.replyRst(src, dst, seg, len(seg.Payload()))
}

// segment runs the state machine for one segment (tcp_rcv_state_process).
func (c *Conn) segment(seg header.TCP) {
	f := seg.Flags()
	seq, ack := seg.Seq(), seg.Ack()
	payload := seg.Payload()
	c.Info.SegsIn++
	c.heard()
	if c.state == SynSent {
		c.synSent(seg)
		return
	}
	segLen := uint32(len(payload))
	if f&header.TCPFlagSYN != 0 {
		segLen++
	}
	if f&header.TCPFlagFIN != 0 {
		segLen++
	}
	var o header.TCPOptions
	if len(seg.Options()) > 0 && seg.ParseOptions(&o) != nil {
		o = header.TCPOptions{} // malformed options are ignored, as Linux does
	}
	if !c.tsCheck(&o, seq, f&header.TCPFlagRST != 0) {
		// PAWS: an old duplicate — a late original whose retransmission
		// got through first, say — is answered like any duplicate,
		// with a D-SACK (tcp_send_dupack); only pure ACKs are rate
		// limited (tcp_oow_rate_limited).
		if segLen > 0 && f&header.TCPFlagSYN == 0 || !c.oowRateLimited() {
			c.sendDupAck(seq, payload, f&header.TCPFlagFIN != 0)
		}
		return
	}
	if !c.acceptable(seq, segLen) {
		if f&header.TCPFlagRST == 0 && (segLen > 0 || !c.oowRateLimited()) {
			c.sendDupAck(seq, payload, f&header.TCPFlagFIN != 0)
		}
		return
	}
	if f&header.TCPFlagRST != 0 {
		// RFC 5961 3.2: only the exact next sequence resets; anything
		// else in the window draws a challenge ACK. A half-open passive
		// connection (Linux's request sock, tcp_check_req) takes any RST
		// in its window.
		if seq != c.rcvNxt && (c.state != SynRecv || c.listener == nil) {
			c.challengeAck()
			return
		}
		// tcp_reset: EPIPE in CLOSE_WAIT, where only writing is left to
		// fail, ECONNRESET elsewhere; EstabResets counts connections
		// leaving ESTABLISHED or CLOSE_WAIT for CLOSED (tcp_set_state).
		switch c.state {
		case SynRecv:
			if c.listener != nil {
				c.t.Stats.AttemptFails++ // tcp_check_req's embryonic reset
				c.destroy()
			} else {
				c.fail(syscall.ECONNRESET) // simultaneous open
			}
		case TimeWait:
			c.destroy() // tcp_rfc1337 = 0: the RST ends TIME_WAIT
		case CloseWait:
			c.t.Stats.EstabResets++
			c.fail(syscall.EPIPE)
		case Established:
			c.t.Stats.EstabResets++
			c.fail(syscall.ECONNRESET)
		default:
			c.fail(syscall.ECONNRESET)
		}
		return
	}
	if f&header.TCPFlagSYN != 0 {
		c.challengeAck() // RFC 5961 4.2
		return
	}
	if f&header.TCPFlagACK == 0 {
		return
	}
	if c.state == SynRecv {
		if !seqLT(c.sndUna, ack) || seqLT(c.sndNxt, ack) {
			c.sendRst(ack)
			return
		}
		c.establishPassive(seg, &o)
	}
	if !c.ackRcvd(seg, &o) {
		return
	}
	if c.state == Closed {
		return
	}
	if f&header.TCPFlagURG != 0 || c.urgState == urgNotYet {
		switch c.state {
		case Established, FinWait1, FinWait2:
			c.urg(seg)
		}
	}
	if len(payload) > 0 || f&header.TCPFlagFIN != 0 {
		if c.abortOnData(seq, len(payload)) {
			// Nobody will read it: reset, as RFC 1122 4.2.2.13 asks
			// (TCPAbortOnData); the RST answers this segment.
			c.t.Stats.TCPAbortOnData++
			c.t.replyRst(c.k.ra, c.k.la, seg, len(payload))
			c.fail(syscall.ECONNRESET)
			return
		}
		switch c.state {
		case Established, FinWait1, FinWait2:
			if len(payload) > 0 {
				c.ecnRcvData(f, c.t.rxCE)
				if c.tsOK {
					c.rcvRTTMeasureTS(&o, len(payload))
				} else {
					c.rcvRTTMeasure()
				}
			}
			if len(payload) > 0 && seqLT(c.rcvNxt, seq+uint32(len(payload))) {
				// Data to queue, in order or not (tcp_event_data_recv,
				// tcp_data_queue_ofo).
				c.measureRcvMSS(len(payload), c.rxGSOSize(), seg.HeaderLen(), f&header.TCPFlagPSH != 0,
					f&(header.TCPFlagPSH|header.TCPFlagURG|header.TCPFlagFIN) != 0)
			}
			c.data(seq, payload, f&header.TCPFlagFIN != 0)
		case TimeWait:
			if f&header.TCPFlagFIN != 0 {
				c.sendAck()
				c.twTimer.Reset(c.t.Sysctl.FinTimeout)
			}
		}
	}
	// tcp_data_snd_check: push, then see whether the writer may go on;
	// then acknowledge what arrived, unless data just carried the ACK.
	c.output()
	c.checkSpace()
	if c.state != Closed {
		c.ackSndCheck(true)
	}
}

// sendDupAck is tcp_send_dupack: the ACK for a segment that brought
// nothing new, with a D-SACK for what it held below rcv_nxt, a FIN
// included.
func (c *Conn) sendDupAck(seq uint32, payload []byte, fin bool) {
	end := seq + uint32(len(payload))
	if fin {
		end++
	}
	if end != seq && seqLT(seq, c.rcvNxt) {
		if seqLT(c.rcvNxt, end) {
			end = c.rcvNxt
		}
		c.dsackSet(seq, end)
		// The sender retransmits what we had: our ACKs may be getting
		// lost, so stop delaying them.
		c.enterQuickAck(maxQuickAcks)
	}
	c.sendAck()
}

// abortOnData reports whether a segment carrying n bytes at seq (or a
// FIN) after close(2), or after shutdown of both directions, brings data
// beyond rcv_nxt, which Linux answers with a reset instead of queueing it
// (tcp_rcv_state_process, RCV_SHUTDOWN in a state past our FIN). A FIN
// alone at rcv_nxt is the orderly close and does not count; one beyond it
// (out of order) does. In the states past the peer's FIN only a segment
// starting before rcv_nxt is looked at, as Linux does.
func (c *Conn) abortOnData(seq uint32, n int) bool {
	if !c.userClosed && !c.rcvShutdown {
		return false // CloseWrite only: the reader still wants the data
	}
	switch c.state {
	case FinWait1, FinWait2:
	case CloseWait, Closing, LastAck:
		if !seqLT(seq, c.rcvNxt) {
			return false
		}
	default:
		return false
	}
	return seqLT(c.rcvNxt, seq+uint32(n))
}

// acceptable is the segment acceptance test of RFC 9293 3.10.7.4.
func (c *Conn) acceptable(seq, segLen uint32) bool {
	wnd := c.window()
	if segLen == 0 {
		if wnd == 0 {
			return seq == c.rcvNxt
		}
		return seqLEQ(c.rcvNxt, seq) && seqLT(seq, c.rcvNxt+wnd) || seq == c.rcvNxt
	}
	if wnd == 0 {
		return seq == c.rcvNxt // probes and FIN at the edge
	}
	end := seq + segLen - 1
	return seqLEQ(c.rcvNxt, seq) && seqLT(seq, c.rcvNxt+wnd) ||
		seqLEQ(c.rcvNxt, end) && seqLT(end, c.rcvNxt+wnd) || seqLT(seq, c.rcvNxt) && seqLT(c.rcvNxt, end+1)
}

// synSent handles a segment in SYN-SENT (tcp_rcv_synsent_state_process).
func (c *Conn) synSent(seg header.TCP) {
	f := seg.Flags()
	ack := seg.Ack()
	if f&header.TCPFlagACK != 0 && ack != c.iss+1 {
		if f&header.TCPFlagRST == 0 {
			c.sendRst(ack)
		}
		return
	}
	if f&header.TCPFlagRST != 0 {
		if f&header.TCPFlagACK != 0 {
			c.t.Stats.AttemptFails++
			c.fail(syscall.ECONNREFUSED)
		}
		return
	}
	if f&header.TCPFlagSYN == 0 {
		return
	}
	var o header.TCPOptions
	if seg.ParseOptions(&o) != nil {
		return
	}
	c.irs = seg.Seq()
	c.rcvNxt = c.irs + 1
	c.peerOptions(&o)
	c.ecnRcvSyn(f)
	if f&header.TCPFlagACK == 0 {
		// Simultaneous open: answer with SYN-ACK from SYN-RECV.
		c.state = SynRecv
		c.sndWnd = uint32(seg.Window())
		c.sendSyn(true)
		return
	}
	c.sndUna = ack
	c.sndWnd = uint32(seg.Window()) // a SYN's window is never scaled (RFC 7323 2.2)
	c.sndWl1, c.sndWl2 = seg.Seq(), ack
	if c.retries == 0 {
		c.rttSample(c.t.exec.Now() - c.rttStart) // the SYN was not retransmitted
	}
	c.retries = 0
	c.rtoTimer.Stop()
	c.initRTO()
	c.state = Established
	c.advertised = c.rcvNxt + c.rcvWnd // what our SYN offered
	c.initBufferSpace()
	c.sendAck()
	c.wake()
	c.output()
}

// establishPassive completes a passive open: the connection joins its
// listener's accept queue.
func (c *Conn) establishPassive(seg header.TCP, o *header.TCPOptions) {
	c.state = Established
	defer c.initBufferSpace()
	c.sndUna = c.iss + 1
	c.sndWnd = uint32(seg.Window()) << c.sndShift
	c.sndWl1, c.sndWl2 = seg.Seq(), seg.Ack()
	c.rtoTimer.Stop()
	// tcp_synack_rtt_meas: the SYN-ACK's round trip, timed if it was
	// sent once from a listener, else from the echoed timestamp.
	if c.retries == 0 && c.listener != nil {
		c.rttSample(c.t.exec.Now() - c.rttStart)
	} else if rtt := c.tsRTT(o); rtt >= 0 {
		c.rttSample(rtt)
	}
	c.retries = 0
	c.initRTO()
	if l := c.listener; l != nil {
		l.synq--
		c.listener = nil
		if l.closed {
			c.Abort()
			return
		}
		l.acceptq = append(l.acceptq, c)
		if l.OnAcceptable != nil {
			l.OnAcceptable()
		}
	}
}

// ackRcvd processes the acknowledgment field; false ends processing.
func (c *Conn) ackRcvd(seg header.TCP, o *header.TCPOptions) bool {
	ack, seq := seg.Ack(), seg.Seq()
	if seqLT(c.sndMax, ack) {
		// Acknowledges something never sent (RFC 5961 5.2).
		if !c.oowRateLimited() {
			c.sendAck()
		}
		return false
	}
	if seqLT(c.sndNxt, ack) {
		// After a go-back-N rewind the peer may acknowledge what we had
		// sent before: continue from there.
		c.sndNxt = ack
		if c.finEver && ack == c.finSeq+1 {
			c.finSent = true
		}
	}
	win := uint32(seg.Window()) << c.sndShift
	deliveredBefore := c.snd.Delivered
	priorUna := c.sndUna
	c.ackFlags = 0
	c.undo.sawTS, c.undo.ecr = c.tsOK && o.HasTimestamps, o.TSEcr
	if c.ecnOK && seg.Flags()&header.TCPFlagECE != 0 {
		c.ackFlags |= flagECE
	}
	var newlySacked, newlyAcked uint32
	if c.sackOK && o.NumSACK > 0 {
		newlySacked = c.sackUpdate(o, ack)
		if newlySacked > 0 {
			c.ackFlags |= flagDataSacked
		}
	}
	advanced := seqLT(c.sndUna, ack)
	rtt := time.Duration(-1)
	dupack := false
	if advanced {
		c.ackFlags |= flagSndUnaAdvanced
		newly := ack - c.sndUna
		data := min(int(newly), c.sndq.Len())
		c.sndq.ack(data)
		c.Info.BytesAcked += uint64(data)
		newlyAcked = c.txAcked(ack)
		if !c.sackOK && c.ackFlags&flagRetransDataAcked != 0 {
			// Without SACK an ACK over a retransmission cannot show
			// the originals arrived.
			c.ackFlags &^= flagOrigSackAcked
		}
		c.sndUna = ack
		if c.rttTiming && seqLEQ(c.rttSeq, ack) {
			rtt = c.t.exec.Now() - c.rttStart
			c.rttTiming = false
		} else {
			// The echo times the transmission it answers, so unlike
			// the sequence-based sample it is valid after a timeout
			// too (tcp_ack_update_rtt), and it ends the RTO's backoff.
			rtt = c.tsRTT(o)
		}
		if rtt >= 0 {
			c.rttSample(rtt)
		}
		c.retries = 0
		if c.urgMode && !seqLT(ack, c.sndUp) {
			c.urgMode = false
		}
		if !c.sackOK {
			c.dupAcks = 0
		}
	} else if ack == c.sndUna && len(seg.Payload()) == 0 && win == c.sndWnd && c.sndNxt != c.sndUna &&
		seg.Flags()&(header.TCPFlagSYN|header.TCPFlagFIN) == 0 {
		c.dupAcks++
		c.Info.DupAcksTotal++
		dupack = c.ackFlags&flagDSACKing == 0
	}
	mss := uint32(c.mss)
	newlySegs := (newlyAcked + newlySacked + mss - 1) / mss
	if !c.sackOK && !advanced && c.dupAcks > 0 && ack == c.sndUna && c.sndNxt != c.sndUna {
		newlySegs++ // a duplicate ACK delivered a segment
	}
	c.snd.Delivered += newlySegs
	// FLAG_NOT_DUP without FLAG_ACKED: the segment occupied sequence
	// space, or was a window update as tcp_may_update_window judges one.
	notDup := len(seg.Payload()) > 0 || seg.Flags()&header.TCPFlagFIN != 0 || seqLT(c.sndWl1, seq) || c.sndWl1 == seq && (win > c.sndWnd || win == 0)
	if notDup || advanced {
		c.ackFlags |= flagNotDup
	}
	if seqLT(c.sndWl1, seq) || c.sndWl1 == seq && seqLEQ(c.sndWl2, ack) {
		c.sndWnd, c.sndWl1, c.sndWl2 = win, seq, ack
	}
	if c.sackOK {
		c.updateReoWnd(deliveredBefore)
	}
	if c.tlp.active && !seqLT(ack, priorUna) {
		c.processTLPAck(ack, notDup) // tlp.go
	}
	// The state machine (tcp_fastretrans_alert, alert.go).
	lost, rx := c.fastRetransAlert(priorUna, dupack)
	if c.sackOK {
		c.Info.RACKLost += uint64(lost)
	}
	// Window growth or reduction (tcp_cong_control).
	if c.caState == cc.Recovery || c.caState == cc.CWR {
		c.cwndReduction(newlySegs, advanced, lost > 0)
	} else if advanced {
		c.caAcked(newlyAcked+newlySacked, rtt)
	}
	c.xmitRecovery(rx)
	if advanced {
		if c.sndUna == c.sndNxt {
			c.rtoTimer.Stop()
			c.reoTimer.Stop()
		} else if c.ackFlags&flagRenegTimer == 0 {
			c.armRTO()
		}
	}
	c.Info.Cwnd, c.Info.Ssthresh, c.Info.PriorCwnd = c.snd.Cwnd, c.snd.Ssthresh, c.priorCwnd
	finAcked := c.finEver && ack == c.finSeq+1
	switch c.state {
	case FinWait1:
		if finAcked {
			c.state = FinWait2
			c.lingerCheck()
		}
	case Closing:
		if finAcked {
			c.enterTimeWait()
		}
	case LastAck:
		if finAcked {
			c.destroy()
			return false
		}
	}
	return true
}

// data accepts payload at seq (tcp_data_queue), with the FIN if fin.
func (c *Conn) data(seq uint32, p []byte, fin bool) {
	if seqLT(seq, c.rcvNxt) {
		trim := c.rcvNxt - seq
		if len(p) > 0 {
			c.dsackSet(seq, seq+min(trim, uint32(len(p))))
		}
		if int(trim) > len(p) {
			if fin && seq+uint32(len(p)) == c.rcvNxt-1 {
				return // FIN retransmitted after we took it
			}
			p = nil
		} else {
			p = p[trim:]
		}
		seq = c.rcvNxt
	}
	if seq != c.rcvNxt {
		c.queueOOO(seq, p, fin)
		c.ack.pending |= ackSched // a duplicate ACK tells the sender about the hole (ackSndCheck)
		return
	}
	if room := int(c.window()); len(p) > room {
		p, fin = p[:room], false
	}
	c.queueRcv(p)
	c.rcvNxt += uint32(len(p))
	c.Info.BytesReceived += uint64(len(p))
	if len(p) > 0 {
		c.dataEvent()
	}
	c.growWindow(len(p), c.rxTruesize(len(p)))
	hadOOO := len(c.ooo) > 0
	// tcp_ofo_queue: out-of-order data that the new in-order data
	// reached moves over; what the new data overlapped is D-SACKed, up
	// to where it ended (dsack_high).
	dsackHigh := c.rcvNxt
	for len(c.ooo) > 0 && seqLEQ(c.ooo[0].seq, c.rcvNxt) && !fin {
		s := c.ooo[0]
		c.ooo[0] = oooSeg{}
		c.ooo = c.ooo[1:]
		if seqLT(s.seq, dsackHigh) {
			hi := dsackHigh
			if e := s.end(); seqLT(e, dsackHigh) {
				dsackHigh = e
			}
			c.dsackExtend(s.seq, hi)
		}
		if d := c.rcvNxt - s.seq; int(d) < len(s.data) {
			s.b.Pull(int(d))
			c.queueRcvBuf(s.b)
			c.rcvNxt += uint32(len(s.data)) - d
			c.Info.BytesReceived += uint64(len(s.data)) - uint64(d)
			fin = s.fin
		} else {
			c.freeOOO(s)
			if int(d) == len(s.data) && s.fin {
				fin = true
			}
		}
	}
	if len(c.ooo) == 0 {
		c.purgeOOO()
		if hadOOO {
			c.ack.pending |= ackNowBit // the gap is filled: say so at once (RFC 5681 4.2)
		}
	}
	if c.nsacks > 0 {
		c.sackRemove()
	}
	if fin {
		c.finReceived()
	}
	if c.OnReadable != nil {
		c.OnReadable()
	}
}

// queueOOO keeps an out-of-order segment, sorted, bounded
// (tcp_data_queue_ofo). Overlaps are resolved as Linux does, each one
// reported in a D-SACK: a segment whose bytes are all held already is
// dropped (D-SACK for all of it); one starting inside the segment before
// it is kept whole, the overlap D-SACKed; one starting at the same
// sequence and longer replaces it; segments after it that it covers are
// dropped and D-SACKed, and a partial overlap with the next one is
// D-SACKed too. Starts and ends therefore rise together along the queue.
func (c *Conn) queueOOO(seq uint32, p []byte, fin bool) {
	if len(p) == 0 && !fin {
		return
	}
	if len(c.ooo) == 0 {
		c.nsacks = 0 // the first out-of-order segment: its block alone
	}
	end := seq + uint32(len(p))
	if fin {
		end++ // end_seq counts the FIN
	}
	// The segment before: the last one starting at or before seq.
	i, _ := slices.BinarySearchFunc(c.ooo, seq, func(s oooSeg, x uint32) int {
		if seqLEQ(s.seq, x) {
			return -1
		}
		return 1
	})
	replace := false
	if i > 0 && seqLT(seq, c.ooo[i-1].end()) {
		prev := c.ooo[i-1]
		switch {
		case seqLEQ(end, prev.end()):
			c.t.Stats.TCPOFOMerge++
			c.dsackSet(seq, end) // all the bits are present
			if c.sackOK {
				c.sackNewOfo(seq, end) // its block becomes the most recent
			}
			return
		case seqLT(prev.seq, seq):
			c.dsackSet(seq, prev.end()) // partial overlap
		default:
			replace = true // same start, longer: it takes prev's place
		}
	}
	if !replace && len(c.ooo) >= maxOOO || int(seq-c.rcvNxt)+len(p) > int(c.window()) {
		return
	}
	s := oooSeg{seq: seq, fin: fin}
	if len(p) > 0 {
		if c.sackOK {
			// Without SACK the window stays put, so the sender sees
			// duplicate ACKs and retransmits fast.
			c.growWindow(len(p), c.rxTruesize(len(p)))
		}
		if s.b = c.payloadBuf(p); s.b == nil {
			return
		}
		s.data = s.b.Bytes()
	}
	if replace {
		i--
		old := c.ooo[i]
		c.dsackExtend(old.seq, old.end())
		c.t.Stats.TCPOFOMerge++
		c.freeOOO(old)
		c.ooo[i] = s
	} else {
		c.ooo = slices.Insert(c.ooo, i, s)
	}
	// Drop the segments after it that it covers (merge_right).
	j := i + 1
	for j < len(c.ooo) && seqLT(c.ooo[j].seq, end) {
		if seqLT(end, c.ooo[j].end()) {
			c.dsackExtend(c.ooo[j].seq, end)
			break
		}
		c.dsackExtend(c.ooo[j].seq, c.ooo[j].end())
		c.t.Stats.TCPOFOMerge++
		c.freeOOO(c.ooo[j])
		j++
	}
	if j > i+1 {
		c.ooo = slices.Delete(c.ooo, i+1, j)
	}
	if c.sackOK {
		c.sackNewOfo(seq, end)
	}
}

// end is the segment's end_seq: after its payload, and its FIN.
func (s *oooSeg) end() uint32 {
	e := s.seq + uint32(len(s.data))
	if s.fin {
		e++
	}
	return e
}

// freeOOO gives back a segment taken off the out-of-order queue.
func (c *Conn) freeOOO(s oooSeg) {
	if s.b != nil {
		c.rcvMem -= s.b.Truesize()
		s.b.Free()
	}
}

// finReceived is tcp_fin: the peer will send no more. In ESTABLISHED the
// ACK is delayed as data's is, in interactive mode: the application is
// likely to close soon, and its FIN should carry the ACK (Linux enters
// pingpong mode in CLOSE_WAIT). After our own FIN there is nothing left
// to carry it: acknowledge at once.
func (c *Conn) finReceived() {
	c.rcvNxt++
	c.finRcvd = true
	// Nothing follows a FIN: out-of-order data beyond it is dropped with
	// the SACK blocks that reported it, as tcp_fin drops it.
	if len(c.ooo) > 0 {
		c.purgeOOO()
		c.nsacks = 0
	}
	c.ack.pending |= ackSched
	switch c.state {
	case Established:
		c.state = CloseWait
		c.ack.pingpong = pingpongThresh
	case FinWait1:
		c.sendAck()
		if c.finSent && c.sndUna == c.sndNxt {
			c.enterTimeWait()
		} else {
			c.state = Closing
		}
	case FinWait2:
		c.sendAck()
		c.enterTimeWait()
	}
}

// enterTimeWait is tcp_time_wait: the connection lingers 60 s to absorb
// the peer's retransmitted FIN and old duplicates, holding its 4-tuple,
// unless tcp_max_tw_buckets are in use already (then it just closes). The
// send side's memory goes at once: everything was acknowledged.
func (c *Conn) enterTimeWait() {
	if c.t.tw >= c.t.Sysctl.MaxTwBuckets {
		c.t.Stats.TWOverflow++
		c.destroy()
		return
	}
	c.state = TimeWait
	c.t.tw++
	c.twEntered = c.t.exec.Now() + 1
	c.rtoTimer.Stop()
	c.ackTimer.Stop()
	c.compTimer.Stop()
	c.reoTimer.Stop()
	c.twTimer.Reset(c.t.Sysctl.FinTimeout)
	c.releaseSend()
	c.wake()
	c.lingerCheck()
}

// icmpError handles an ICMP error about this connection.
func (c *Conn) icmpError(typ, code uint8, info uint32) {
	if typ == 3 && code == 4 { // frag needed: shrink the MSS (tcp_v4_mtu_reduced)
		mss := int(info&0xffff) - 40
		if c.tsOK {
			mss -= 12
		}
		if mss >= 48 && mss < c.mss {
			c.mss = mss
			c.snd.MSS = mss
			c.retransmitHead()
		}
		return
	}
	if c.state == SynSent || c.state == SynRecv {
		if typ == 3 && (code == 2 || code == 3) || typ == 3 && code <= 1 && c.retries > 2 {
			c.fail(ipv4.ICMPErrno(typ, code))
		}
		return
	}
}

// Rate limits on the ACKs that answer bad segments, so two confused
// endpoints cannot ping-pong ACKs at line rate.
const oowInterval = 500 * time.Millisecond // tcp_invalid_ratelimit

// oowRateLimited is tcp_oow_rate_limited: one dupACK for out-of-window
// segments per 500 ms per connection.
func (c *Conn) oowRateLimited() bool {
	now := c.t.exec.Now()
	if c.lastOOW != 0 && now-c.lastOOW < oowInterval {
		return true
	}
	c.lastOOW = now
	if c.lastOOW == 0 {
		c.lastOOW = 1
	}
	return false
}

// challengeAck sends an RFC 5961 challenge ACK (tcp_send_challenge_ack):
// at most one per 500 ms on the connection, then within the namespace's
// budget per second when tcp_challenge_ack_limit sets one.
func (c *Conn) challengeAck() {
	t := c.t
	if c.oowRateLimited() {
		return
	}
	if lim := t.Sysctl.ChallengeAckLimit; lim < math.MaxInt32 {
		if sec := t.exec.Now() / time.Second; sec != t.challengeSec {
			t.challengeSec, t.challengeCount = sec, 0
		}
		if t.challengeCount >= lim {
			return
		}
		t.challengeCount++
	}
	t.Stats.ChallengeACKs++
	c.sendAck()
}

// twSyn is tcp_timewait_state_process's TCP_TW_SYN: a new SYN for the
// 4-tuple of a TIME_WAIT connection, beyond its sequence space or with a
// newer timestamp, ends the TIME_WAIT and opens a connection through the
// listener, with an ISN above the old incarnation's. It reports whether it
// took the segment.
func (t *Table) twSyn(c *Conn, seg header.TCP, src, dst netip.Addr) bool {
	if seg.Flags()&(header.TCPFlagSYN|header.TCPFlagACK|header.TCPFlagRST) != header.TCPFlagSYN {
		return false
	}
	var o header.TCPOptions
	if seg.ParseOptions(&o) != nil {
		return false
	}
	newer := o.HasTimestamps && c.tsOK && c.tsRecentSet && int32(c.tsRecent-o.TSVal) < 0
	paws := o.HasTimestamps && c.tsOK && c.tsRecentSet && int32(o.TSVal-c.tsRecent) < 0
	if paws || !seqLT(c.rcvNxt, seg.Seq()) && !newer {
		return false
	}
	l := t.lookupListener(dst, seg.DstPort())
	if l == nil || l.closed {
		return false
	}
	isn := c.sndNxt + 65535 + 2
	if isn == 0 {
		isn = 1
	}
	c.destroy()
	l.synRcvd(src, dst, seg, &o, isn)
	return true
}
