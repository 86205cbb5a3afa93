package tcp

import (
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
	if c := t.conns[key{la: dst, ra: src, lp: seg.DstPort(), rp: seg.SrcPort()}]; c != nil {
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
			l.synRcvd(src, dst, seg, &o)
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
		if !c.oowRateLimited() {
			c.sendAck()
		}
		return
	}
	if !c.acceptable(seq, segLen) {
		if f&header.TCPFlagRST == 0 && (segLen > 0 || !c.oowRateLimited()) {
			c.sendAck()
		}
		return
	}
	if f&header.TCPFlagRST != 0 {
		// RFC 5961 3.2: only the exact next sequence resets; anything
		// else in the window draws a challenge ACK.
		if seq != c.rcvNxt {
			c.challengeAck()
			return
		}
		switch c.state {
		case SynRecv:
			c.destroy()
		case TimeWait:
			c.destroy()
		case CloseWait, LastAck, Closing:
			c.fail(syscall.EPIPE)
		default:
			c.t.Stats.EstabResets++
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
		c.establishPassive(seg)
	}
	if !c.ackRcvd(seg, &o) {
		return
	}
	if c.state == Closed {
		return
	}
	if len(payload) > 0 || f&header.TCPFlagFIN != 0 {
		switch c.state {
		case Established, FinWait1, FinWait2:
			c.data(seq, payload, f&header.TCPFlagFIN != 0)
		case TimeWait:
			if f&header.TCPFlagFIN != 0 {
				c.sendAck()
				c.twTimer.Reset(c.t.Sysctl.FinTimeout)
			}
		}
	}
	c.output()
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
	if f&header.TCPFlagACK == 0 {
		// Simultaneous open: answer with SYN-ACK from SYN-RECV.
		c.state = SynRecv
		c.sndWnd = uint32(seg.Window())
		c.sendSyn(true)
		return
	}
	c.sndUna = ack
	c.sndWnd = uint32(seg.Window()) << c.sndShift
	c.sndWl1, c.sndWl2 = seg.Seq(), ack
	if c.retries == 0 {
		c.rttSample(c.t.exec.Now() - c.rttStart) // the SYN was not retransmitted
	}
	c.retries = 0
	c.rtoTimer.Stop()
	c.state = Established
	c.sendAck()
	c.wake()
	c.output()
}

// establishPassive completes a passive open: the connection joins its
// listener's accept queue.
func (c *Conn) establishPassive(seg header.TCP) {
	c.state = Established
	c.sndUna = c.iss + 1
	c.sndWnd = uint32(seg.Window()) << c.sndShift
	c.sndWl1, c.sndWl2 = seg.Seq(), seg.Ack()
	c.rtoTimer.Stop()
	c.retries = 0
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
	sackNews := false
	if c.sackOK && o.NumSACK > 0 {
		before := c.sackedBytes()
		c.sackUpdate(o)
		sackNews = c.sackedBytes() != before
	}
	if seqLT(c.sndUna, ack) {
		newly := ack - c.sndUna
		data := min(int(newly), len(c.sndBuf))
		c.sndBuf = c.sndBuf[data:]
		if len(c.sndBuf) == 0 {
			c.sndBuf = nil
		}
		c.Info.BytesAcked += uint64(data)
		c.sndUna = ack
		c.sackTrim()
		rtt := time.Duration(-1)
		if c.rttTiming && seqLEQ(c.rttSeq, ack) {
			rtt = c.t.exec.Now() - c.rttStart
			c.rttTiming = false
		} else if c.retries == 0 {
			rtt = c.tsRTT(o) // Karn: no echo-based sample after a timeout
		}
		if rtt >= 0 {
			c.rttSample(rtt)
		}
		c.retries = 0
		switch {
		case c.caState == cc.Recovery && seqLT(ack, c.recover) && c.sackOK:
			c.sackRecover()
		case c.caState == cc.Recovery && seqLT(ack, c.recover):
			// NewReno partial ACK: the next hole, at once; deflate by
			// what was acked, add back one (RFC 6582 3.2 step 3).
			c.retransmitHead()
			acked := newly / uint32(c.mss)
			c.snd.Cwnd = max(c.snd.Cwnd-min(c.snd.Cwnd, acked)+1, 1)
		case c.caState == cc.Recovery:
			c.exitRecovery()
		case c.caState == cc.Loss && seqLT(ack, c.recover):
			c.caAcked(newly, rtt) // slow start again after the RTO
		default:
			if c.caState == cc.Loss {
				c.caState = cc.Open
				c.ca.SetState(&c.snd, cc.Open)
			}
			c.caAcked(newly, rtt)
		}
		c.dupAcks = 0
		c.tlpOut = false // the probe, or data after it, got through
		if c.sndUna == c.sndNxt {
			c.rtoTimer.Stop()
		} else {
			c.armRTO()
		}
		if c.caState == cc.Open && c.lostHead() {
			c.enterRecovery()
			c.sackRecover()
		}
		if c.OnWritable != nil {
			c.OnWritable()
		}
	} else if ack == c.sndUna && len(seg.Payload()) == 0 && win == c.sndWnd && c.sndNxt != c.sndUna &&
		seg.Flags()&(header.TCPFlagSYN|header.TCPFlagFIN) == 0 {
		c.dupAcks++
		c.Info.DupAcksTotal++
		switch {
		case c.sackOK && c.caState == cc.Open && (c.dupAcks >= 3 || c.lostHead()):
			c.enterRecovery()
			c.sackRecover()
		case c.sackOK && c.caState == cc.Recovery && sackNews:
			c.sackRecover()
		case c.sackOK:
		case c.dupAcks == 3 && c.caState == cc.Open:
			c.enterRecovery()
			c.snd.Cwnd += 3 // NewReno inflation by the three duplicates
			c.retransmitHead()
		case c.dupAcks > 3 && c.caState == cc.Recovery:
			c.snd.Cwnd++
		}
	}
	if seqLT(c.sndWl1, seq) || c.sndWl1 == seq && seqLEQ(c.sndWl2, ack) {
		c.sndWnd, c.sndWl1, c.sndWl2 = win, seq, ack
	}
	c.Info.Cwnd, c.Info.Ssthresh, c.Info.PriorCwnd = c.snd.Cwnd, c.snd.Ssthresh, c.priorCwnd
	finAcked := c.finEver && ack == c.finSeq+1
	switch c.state {
	case FinWait1:
		if finAcked {
			c.state = FinWait2
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
		c.lastOOO = seq
		c.queueOOO(seq, p, fin)
		c.sendAck() // duplicate ACK tells the sender about the hole
		return
	}
	if room := int(c.window()); len(p) > room {
		p, fin = p[:room], false
	}
	c.rcvBuf = queueAppend(&c.rcvStore, c.rcvBuf, p)
	c.rcvNxt += uint32(len(p))
	c.Info.BytesReceived += uint64(len(p))
	hadOOO := len(c.ooo) > 0
	for len(c.ooo) > 0 && seqLEQ(c.ooo[0].seq, c.rcvNxt) && !fin {
		s := c.ooo[0]
		c.ooo = c.ooo[1:]
		if d := c.rcvNxt - s.seq; int(d) < len(s.data) {
			c.rcvBuf = queueAppend(&c.rcvStore, c.rcvBuf, s.data[d:])
			c.rcvNxt += uint32(len(s.data)) - d
			c.Info.BytesReceived += uint64(len(s.data)) - uint64(d)
			fin = s.fin
		} else if int(d) == len(s.data) && s.fin {
			fin = true
		}
	}
	if len(c.ooo) == 0 {
		c.ooo = nil
	}
	if fin {
		c.finReceived()
	} else if len(p) > 0 {
		// Every second full segment is acknowledged at once (counted in
		// bytes, so a GRO super-packet counts as the segments it holds).
		c.unacked += len(p)
		if hadOOO || c.unacked >= 2*c.mss || c.quickAcks > 0 {
			if c.quickAcks > 0 {
				c.quickAcks--
			}
			c.sendAck()
		} else if !c.ackTimer.Pending() {
			c.ackTimer.Reset(ackDelay)
		}
	}
	if c.OnReadable != nil {
		c.OnReadable()
	}
}

// queueOOO keeps an out-of-order segment, sorted, bounded.
func (c *Conn) queueOOO(seq uint32, p []byte, fin bool) {
	if len(c.ooo) >= maxOOO || len(p) == 0 && !fin || int(seq-c.rcvNxt)+len(p) > int(c.window()) {
		return
	}
	i, _ := slices.BinarySearchFunc(c.ooo, seq, func(s oooSeg, x uint32) int {
		switch {
		case seqLT(s.seq, x):
			return -1
		case s.seq == x:
			return 0
		}
		return 1
	})
	if i < len(c.ooo) && c.ooo[i].seq == seq && len(c.ooo[i].data) >= len(p) {
		return // duplicate
	}
	c.ooo = slices.Insert(c.ooo, i, oooSeg{seq: seq, data: append([]byte(nil), p...), fin: fin})
}

// finReceived is tcp_fin: the peer will send no more.
func (c *Conn) finReceived() {
	c.rcvNxt++
	c.finRcvd = true
	c.sendAck()
	switch c.state {
	case Established:
		c.state = CloseWait
	case FinWait1:
		if c.finSent && c.sndUna == c.sndNxt {
			c.enterTimeWait()
		} else {
			c.state = Closing
		}
	case FinWait2:
		c.enterTimeWait()
	}
}

func (c *Conn) enterTimeWait() {
	c.state = TimeWait
	c.rtoTimer.Stop()
	c.ackTimer.Stop()
	c.twTimer.Reset(c.t.Sysctl.FinTimeout)
	c.wake()
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
const (
	oowInterval    = 500 * time.Millisecond // tcp_invalid_ratelimit
	challengeLimit = 1000                   // tcp_challenge_ack_limit, per second and namespace
)

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

// challengeAck sends an RFC 5961 challenge ACK within the namespace's
// budget (tcp_send_challenge_ack).
func (c *Conn) challengeAck() {
	t := c.t
	if sec := t.exec.Now() / time.Second; sec != t.challengeSec {
		t.challengeSec, t.challengeCount = sec, 0
	}
	if t.challengeCount >= challengeLimit || c.oowRateLimited() {
		return
	}
	t.challengeCount++
	t.Stats.ChallengeACKs++
	c.sendAck()
}
