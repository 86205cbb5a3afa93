package tcp

import (
	"encoding/binary"
	"net/netip"

	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/skb"
)

// route looks up the connection's route (per burst of segments).
func (c *Conn) route() (ipv4.Route, bool) {
	rt, err := c.t.ip.RouteOutput(&ipv4.FlowKey{Dst: c.k.ra, Src: c.k.la, Proto: 6, Sport: c.k.lp, Dport: c.k.rp})
	return rt, err == nil
}

// setMSS derives our MSS from the route's MTU (tcp_mss_to_mtu).
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
	}
}

// xmit builds and sends one segment.
func (c *Conn) xmit(rt *ipv4.Route, seq uint32, flags header.TCPFlags, payload []byte, opts *header.TCPOptions) {
	olen := 0
	if opts != nil {
		olen = (opts.EncodedLen() + 3) &^ 3
	}
	hl := 20 + olen
	b := c.t.pool.Get(skb.DefaultHeadroom, hl+len(payload))
	if b == nil {
		return
	}
	h := b.Put(hl)
	b.Append(payload)
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
	w := c.window()
	if flags&header.TCPFlagSYN == 0 {
		w >>= c.rcvShift
	}
	tcp.SetWindow(uint16(min(w, 65535)))
	if flags&header.TCPFlagACK != 0 {
		c.advertised = c.rcvNxt + w<<c.rcvShift
		if flags&header.TCPFlagSYN != 0 {
			c.advertised = c.rcvNxt + w
		}
	}
	if opts != nil {
		opts.Encode(h[20:])
	}
	tcp.FillChecksum(c.k.la, c.k.ra)
	c.t.Stats.OutSegs++
	c.Info.SegsOut++
	if flags&header.TCPFlagACK != 0 {
		c.unacked = 0
		c.ackTimer.Stop()
	}
	c.t.ip.Output(b, c.k.la, c.k.ra, 6, rt, ipv4.SendOpts{DF: true})
}

// sendSyn sends SYN (or SYN-ACK) with MSS and window-scale options.
func (c *Conn) sendSyn(ack bool) {
	rt, ok := c.route()
	if !ok {
		return
	}
	opts := header.TCPOptions{HasMSS: true, MSS: uint16(c.mss)}
	if !ack || c.peerWScale {
		opts.HasWScale, opts.WScale = true, c.rcvShift
	}
	flags := header.TCPFlagSYN
	if ack {
		flags |= header.TCPFlagACK
	}
	c.xmit(&rt, c.iss, flags, nil, &opts)
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
	c.xmit(&rt, c.sndNxt, header.TCPFlagACK, nil, nil)
}

// sendRst resets the connection from our side with sequence seq.
func (c *Conn) sendRst(seq uint32) {
	rt, ok := c.route()
	if !ok {
		return
	}
	c.t.Stats.OutRsts++
	c.xmit(&rt, seq, header.TCPFlagRST|header.TCPFlagACK, nil, nil)
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
		return
	}
	for {
		inflight := c.sndNxt - c.sndUna
		off := int(inflight)
		if c.finSent {
			return
		}
		avail := len(c.sndBuf) - off
		wnd := min(c.cwnd, c.sndWnd)
		if avail <= 0 {
			if c.finQueued && !c.finSent {
				c.xmit(&rt, c.sndNxt, header.TCPFlagFIN|header.TCPFlagACK, nil, nil)
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
		if inflight >= wnd {
			if c.sndWnd == 0 && inflight == 0 {
				c.armRTOIfIdle() // zero-window probe on expiry
			}
			return
		}
		n := min(c.mss, avail, int(wnd-inflight))
		if n < c.mss && inflight > 0 && !c.NoDelay && !c.finQueued {
			return // Nagle
		}
		flags := header.TCPFlagACK
		if n == avail {
			flags |= header.TCPFlagPSH
		}
		if !c.rttTiming {
			c.rttTiming, c.rttSeq, c.rttStart = true, c.sndNxt+uint32(n), c.t.exec.Now()
		}
		c.xmit(&rt, c.sndNxt, flags, c.sndBuf[off:off+n], nil)
		c.sndNxt += uint32(n)
		if seqLT(c.sndMax, c.sndNxt) {
			c.sndMax = c.sndNxt
		}
		c.armRTOIfIdle()
	}
}

// retransmitHead resends the first unacknowledged segment.
func (c *Conn) retransmitHead() {
	rt, ok := c.route()
	if !ok {
		return
	}
	c.t.Stats.RetransSegs++
	c.Info.Retransmits++
	n := min(c.mss, len(c.sndBuf))
	if n == 0 {
		if c.finSent {
			c.xmit(&rt, c.sndUna, header.TCPFlagFIN|header.TCPFlagACK, nil, nil)
		}
		return
	}
	c.rttTiming = false // Karn
	c.xmit(&rt, c.sndUna, header.TCPFlagACK, c.sndBuf[:n], nil)
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
