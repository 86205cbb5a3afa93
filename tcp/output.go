package tcp

import (
	"encoding/binary"
	"net/netip"

	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/skb"
	"github.com/usnet/usnet/tcp/cc"
)

// route returns the connection's route (per burst of segments): the
// cached one (sk_dst_cache) while the namespace's route generation has
// not moved since it was looked up and the key is the same (__sk_dst_check),
// else a fresh lookup. The key and result live in the Conn so the lookup
// allocates nothing. Callers must not write through the route.
func (c *Conn) route() (*ipv4.Route, bool) {
	gen, cacheable := c.t.ip.RouteGen()
	f := &c.flow
	if c.rtOK && cacheable && gen == c.rtGen &&
		f.Dst == c.k.ra && f.Src == c.k.la && f.Sport == c.k.lp && f.Dport == c.k.rp {
		return &c.rt, true
	}
	c.flow = ipv4.FlowKey{Dst: c.k.ra, Src: c.k.la, Proto: 6, Sport: c.k.lp, Dport: c.k.rp}
	rt, err := c.t.ip.RouteOutput(&c.flow)
	c.rt = rt
	// Only successes are cached: a failure is looked up again, as Linux
	// keeps no dst for it. The generation is read before the lookup, so
	// a change the lookup itself makes (PMTU expiry) re-checks next time.
	c.rtOK, c.rtGen = err == nil && cacheable, gen
	return &c.rt, err == nil
}

// setMSS derives our MSS from the route's MTU (tcp_mss_to_mtu), and the MSS
// we announce from it too unless the route sets advmss.
func (c *Conn) setMSS() {
	rt, ok := c.route()
	if !ok {
		return
	}
	mtu := rt.MTU
	if mtu == 0 && rt.Dev != nil {
		mtu = rt.Dev.MTU()
	}
	if mtu > 40 {
		c.mss = min(mtu-40, 65495)
		c.advMSS = c.mss
	}
	if rt.AdvMSS > 0 {
		c.advMSS = min(rt.AdvMSS, 65495) // dst_metric_advmss: the route's advmss metric
	}
}

// xmit builds and sends one segment with a copy of payload.
func (c *Conn) xmit(rt *ipv4.Route, seq uint32, flags header.TCPFlags, payload []byte, opts *header.TCPOptions) {
	b := c.t.pool.Get(skb.DefaultHeadroom, len(payload))
	if b == nil {
		return
	}
	b.Append(payload)
	c.xmitBuf(rt, b, seq, flags, opts)
}

// xmitBuf sends b, which holds the payload, as one segment: the TCP
// header goes into its headroom.
func (c *Conn) xmitBuf(rt *ipv4.Route, b *skb.Buf, seq uint32, flags header.TCPFlags, opts *header.TCPOptions) {
	plen := b.Len()
	var sk header.TCPOptions
	if opts == nil && flags&header.TCPFlagRST == 0 && (c.tsOK || c.sackOK && (len(c.ooo) > 0 || c.dsackOn)) {
		c.addTS(&sk)
		if c.sackOK && (len(c.ooo) > 0 || c.dsackOn) && flags&header.TCPFlagACK != 0 {
			c.sackBlocks(&sk)
		}
		opts = &sk
	}
	olen := 0
	if opts != nil {
		olen = (opts.EncodedLen() + 3) &^ 3
	}
	tos := c.ecnSend(&flags, plen > 0 && !seqLT(seq, c.sndNxt))
	hl := 20 + olen
	h := b.Push(hl)
	if h == nil {
		b.Free()
		return
	}
	tcp := header.TCP(b.Bytes())
	clear(h)
	tcp.SetSrcPort(c.k.lp)
	tcp.SetDstPort(c.k.rp)
	tcp.SetSeq(seq)
	if flags&header.TCPFlagACK != 0 {
		tcp.SetAck(c.rcvNxt)
	}
	h[12] = byte(hl/4) << 4
	tcp.SetFlags(flags)
	switch {
	case flags&header.TCPFlagSYN != 0:
		// A SYN's window is never scaled (RFC 7323 2.2).
		tcp.SetWindow(uint16(c.rcvWnd))
		if flags&header.TCPFlagACK != 0 {
			c.advertised = c.rcvNxt + c.rcvWnd
			c.rcvWup = c.rcvNxt
		}
	case flags&header.TCPFlagACK != 0:
		tcp.SetWindow(c.selectWindow())
	default:
		tcp.SetWindow(uint16(min(c.window()>>c.rcvShift, 65535)))
	}
	if opts != nil {
		opts.Encode(h[20:])
	}
	c.urgOut(tcp, seq)
	// SACK blocks take option room the MSS does not leave for them
	// (tcp_current_mss shrinks segments by it): a segment that no longer
	// fits the MTU with them is cut to the smaller size by GSO.
	gso := c.mss
	if extra := olen - c.tsLen(); extra > 0 && plen > 0 {
		gso -= extra
	}
	if plen > gso {
		b.GSOSize, b.GSOType = uint16(gso), skb.GSOTCPv4
	}
	if rt.Dev != nil && rt.Dev.Features().TxCsum {
		// Leave the sum to the device (or to nobody between in-process
		// stacks): the field holds the pseudo-header sum.
		b.SetL4()
		b.Csum, b.CsumStart, b.CsumOffset = skb.CsumPartial, b.Pos(), 16
		binary.BigEndian.PutUint16(h[16:], header.PseudoHeaderSum(c.k.la, c.k.ra, 6, len(tcp)))
	} else {
		tcp.FillChecksum(c.k.la, c.k.ra)
	}
	c.t.Stats.OutSegs++
	c.Info.SegsOut++
	if flags&header.TCPFlagACK != 0 {
		c.ackSent()
	}
	if plen > 0 {
		c.dataSent()
	}
	c.t.ip.Output(b, c.k.la, c.k.ra, 6, rt, ipv4.SendOpts{DF: true, TOS: tos})
}

// sendSyn sends SYN (or SYN-ACK) with MSS and window-scale options.
func (c *Conn) sendSyn(ack bool) {
	rt, ok := c.route()
	if !ok {
		return
	}
	adv := c.advMSS
	if adv == 0 {
		adv = c.mss
	}
	opts := header.TCPOptions{HasMSS: true, MSS: uint16(adv)}
	if !ack || c.peerWScale {
		opts.HasWScale, opts.WScale = true, c.rcvShift
	}
	opts.SACKPermitted = c.t.Sysctl.SACK && (!ack || c.sackOK)
	if !ack && c.t.Sysctl.Timestamps {
		opts.HasTimestamps, opts.TSVal = true, c.tsNow()
	} else if ack {
		c.addTS(&opts)
	}
	c.initRcvWnd(ack)
	flags := header.TCPFlagSYN | c.ecnSynFlags(ack)
	if ack {
		flags |= header.TCPFlagACK
	}
	c.xmit(rt, c.iss, flags, nil, &opts)
}

// sendAck sends a bare ACK (also the delayed-ACK timer's action).
func (c *Conn) sendAck() {
	if c.state == Closed || c.state == SynSent || c.state == Listen {
		return
	}
	rt, ok := c.route()
	if !ok {
		return
	}
	c.xmit(rt, c.sndNxt, header.TCPFlagACK, nil, nil)
}

// sendRst resets the connection from our side with sequence seq.
func (c *Conn) sendRst(seq uint32) {
	rt, ok := c.route()
	if !ok {
		return
	}
	c.t.Stats.OutRsts++
	c.xmit(rt, seq, header.TCPFlagRST|header.TCPFlagACK, nil, nil)
}

// output is tcp_write_xmit: send what the windows allow, then FIN.
func (c *Conn) output() {
	switch c.state {
	case Established, CloseWait, FinWait1, Closing, LastAck:
	default:
		return
	}
	rt, ok := c.route()
	if !ok {
		// No route: with nothing in flight no timer would bring the
		// queue out once a route is back; Linux's tcp_check_probe_timer
		// arms the probe timer for it (onRTO retries, backing off).
		if c.sndNxt == c.sndUna && c.sndq.Len() > 0 {
			c.armRTOIfIdle()
		}
		return
	}
	c.xmitGoal = c.gsoMax(rt)
	sent := false
	for {
		off := int(c.sndNxt - c.sndUna)
		inflight := c.pipe()
		if c.finSent {
			return
		}
		avail := c.sndq.Len() - off
		// Two limits (tcp_write_xmit): the congestion window against the
		// pipe (packets in flight: lost and SACKed ones excluded), and
		// the peer's receive window against everything outstanding in
		// sequence space (tcp_snd_wnd_test) — segments marked lost are
		// still in the receiver's window until they are acknowledged.
		outstanding := int64(c.sndNxt - c.sndUna)
		rwndLeft := max(int64(c.sndWnd)-outstanding, 0)
		cwnd := c.cwndBytes()
		wnd := min(cwnd, uint32(min(rwndLeft+int64(inflight), 1<<31)))
		if avail <= 0 {
			if sent {
				c.sndbufLimitedCheck() // tcp_cwnd_validate
			}
			if c.finQueued && !c.finSent {
				c.xmit(rt, c.sndNxt, header.TCPFlagFIN|header.TCPFlagACK, nil, nil)
				c.recordSent(c.sndNxt, c.sndNxt+1, true)
				c.finSeq, c.finEver = c.sndNxt, true
				c.sndNxt++
				c.finSent = true
				if seqLT(c.sndMax, c.sndNxt) {
					c.sndMax = c.sndNxt
				}
				c.armRTOIfIdle()
			}
			return
		}
		if c.hasLost() && !c.undo.sendNew {
			return // retransmissions go first (tcp_xmit_retransmit_queue), except for F-RTO
		}
		if inflight >= wnd {
			c.cwndLimited = inflight >= c.cwndBytes()
			if c.sndWnd == 0 && inflight == 0 {
				c.armRTOIfIdle() // zero-window probe on expiry
			}
			return
		}
		n := min(c.gsoMax(rt), avail, int(wnd-inflight))
		if c.urgMode {
			n = min(n, c.mss) // urgent segments are not offloaded
		}
		if n > c.mss && n < avail {
			n -= n % c.mss // whole segments, except at the end of the data
		}
		if n < c.mss && inflight > 0 && !c.NoDelay && !c.finQueued && !c.undo.sendNew && c.shortInFlight() {
			return // Nagle, Minshall's variant (tcp_nagle_check)
		}
		flags := header.TCPFlagACK
		if n == avail {
			flags |= header.TCPFlagPSH
		}
		if inflight == 0 {
			c.ca.CwndEvent(&c.snd, cc.EvTxStart)
		}
		if !c.rttTiming {
			c.rttTiming, c.rttSeq, c.rttStart = true, c.sndNxt+uint32(n), c.t.exec.Now()
		}
		if !c.xmitData(rt, c.sndNxt, flags, n) {
			return
		}
		c.recordSent(c.sndNxt, c.sndNxt+uint32(n), false)
		if n%c.mss != 0 {
			c.sndSml, c.sndSmlSet = c.sndNxt+uint32(n), true // tcp_minshall_update
		}
		sent = true
		if c.caState == cc.Recovery || c.caState == cc.CWR {
			c.prrOut += (uint32(n) + uint32(c.mss) - 1) / uint32(c.mss)
		}
		c.sndNxt += uint32(n)
		c.maxInflight = (c.sndNxt - c.sndUna + uint32(c.mss) - 1) / uint32(c.mss)
		if seqLT(c.sndMax, c.sndNxt) {
			c.sndMax = c.sndNxt
		}
		c.armRTOIfIdle()
	}
}

// gsoMax is the payload of the largest segment to build: a GSO
// super-packet of whole MSS-sized segments up to 64 KiB when the device
// takes them (tcp_tso_autosize without pacing), else one MSS. Devices
// without GSO get them split by the IPv4 layer's Segment hook, so
// building them is always worthwhile when that hook is present.
func (c *Conn) gsoMax(rt *ipv4.Route) int {
	if rt.Dev == nil {
		return c.mss
	}
	f := rt.Dev.Features()
	limit := min(f.GSOMaxSize, 65535) - 20 - 60
	if limit <= c.mss {
		return c.mss
	}
	segs := limit / c.mss
	if f.GSOMaxSegs > 0 {
		segs = min(segs, f.GSOMaxSegs)
	}
	return segs * c.mss
}

// retransmitHead resends the first unacknowledged segment (after a
// PMTU reduction, or an RTO).
func (c *Conn) retransmitHead() {
	c.markHeadLost()
	if len(c.txq) > 0 {
		c.txq[0].lost = true
	}
	cwnd := c.snd.Cwnd
	c.snd.Cwnd = max(cwnd, c.pipeSegs()+1)
	c.xmitRetransmitQueue()
	c.snd.Cwnd = cwnd
}

// replyRst answers a segment that belongs to no connection (tcp_v4_send_reset).
func (t *Table) replyRst(src, dst netip.Addr, seg header.TCP, plen int) {
	f := seg.Flags()
	if f&header.TCPFlagRST != 0 {
		return
	}
	rt, err := t.ip.RouteOutput(&ipv4.FlowKey{Dst: src, Src: dst, Proto: 6})
	if err != nil {
		return
	}
	b := t.pool.Get(skb.DefaultHeadroom, 20)
	h := b.Put(20)
	clear(h)
	r := header.TCP(h)
	r.SetSrcPort(seg.DstPort())
	r.SetDstPort(seg.SrcPort())
	h[12] = 5 << 4
	if f&header.TCPFlagACK != 0 {
		r.SetSeq(seg.Ack())
		r.SetFlags(header.TCPFlagRST)
	} else {
		ack := seg.Seq() + uint32(plen)
		if f&header.TCPFlagSYN != 0 {
			ack++
		}
		if f&header.TCPFlagFIN != 0 {
			ack++
		}
		r.SetAck(ack)
		r.SetFlags(header.TCPFlagRST | header.TCPFlagACK)
	}
	binary.BigEndian.PutUint16(h[14:], 0)
	r.FillChecksum(dst, src)
	t.Stats.OutRsts++
	t.ip.Output(b, dst, src, 6, &rt, ipv4.SendOpts{})
}

// tsLen is the option room the MSS already leaves: the timestamps (12
// bytes with padding) when they are in use.
func (c *Conn) tsLen() int {
	if c.tsOK {
		return 12
	}
	return 0
}

// shortInFlight is tcp_minshall_check: a segment shorter than the MSS is
// still unacknowledged. Nagle holds a short segment back only then, so a
// short tail behind full-sized segments goes at once, and a request/response
// exchange of one short write each way is never delayed.
func (c *Conn) shortInFlight() bool {
	return c.sndSmlSet && seqLT(c.sndUna, c.sndSml) && seqLEQ(c.sndSml, c.sndNxt)
}
