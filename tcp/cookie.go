package tcp

import (
	"net/netip"
	"time"

	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/skb"
)

// SYN cookies (net/ipv4/syncookies.c): when a listener's SYN queue is
// full, the SYN-ACK's ISN encodes everything needed to rebuild the
// connection from the final ACK, so a SYN flood costs no memory.
//
// Layout, ours rather than Linux's bit for bit: the top 8 bits are a
// 64-second counter, the low 24 bits a keyed hash of the 4-tuple, the
// counter and the peer's ISN, plus an index into cookieMSS. A cookie is
// valid for two counter periods.
//
// The options of the SYN ride in the SYN-ACK's timestamp as Linux puts
// them there (cookie_init_timestamp): the low six bits of TSval are the
// peer's window scale (0xf: none), SACK-permitted (bit 4) and ECN (bit 5),
// and the value is lowered by 64 ms when that would put it in the
// future. The ACK echoes them back (cookie_timestamp_decode), so a
// connection made from a cookie keeps window scaling, SACK, timestamps
// and ECN, and its first RTT sample is the echoed timestamp's age, up to
// 63 ms too long as in Linux. Without timestamps there is nowhere to keep
// them, and the connection has none of the four.

// cookieMSS are the MSS values a cookie can carry (msstab).
var cookieMSS = [...]uint16{536, 1300, 1440, 1460}

const cookiePeriod = 64 // seconds per counter step

func (t *Table) cookieCount() uint32 {
	return uint32(t.exec.Now().Seconds() / cookiePeriod)
}

// cookieHash is a keyed mix (splitmix64 rounds over the secret and the
// fields): enough to make cookies unguessable to an off-path sender in a
// simulation; Linux uses SipHash.
func (t *Table) cookieHash(src, dst netip.Addr, sp, dp uint16, count, peerISN uint32) uint32 {
	s4, d4 := src.As4(), dst.As4()
	x := t.cookieKey[0] ^ uint64(s4[0])<<56 | uint64(s4[1])<<48 | uint64(s4[2])<<40 | uint64(s4[3])<<32 |
		uint64(d4[0])<<24 | uint64(d4[1])<<16 | uint64(d4[2])<<8 | uint64(d4[3])
	x = mix64(x ^ t.cookieKey[1])
	x = mix64(x ^ uint64(sp)<<48 ^ uint64(dp)<<32 ^ uint64(peerISN))
	x = mix64(x ^ uint64(count) ^ t.cookieKey[1]<<1)
	return uint32(x) & 0xffffff
}

func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// cookieISN makes the ISN for a SYN from src:sp to dst:dp.
func (t *Table) cookieISN(src, dst netip.Addr, sp, dp uint16, peerISN uint32, mss uint16) (uint32, uint16) {
	idx := 0
	for i, m := range cookieMSS {
		if m <= mss {
			idx = i
		}
	}
	count := t.cookieCount()
	h := t.cookieHash(src, dst, sp, dp, count, peerISN)
	return count<<24 | (h+uint32(idx))&0xffffff, cookieMSS[idx]
}

// cookieCheck validates the ACK of a cookie SYN-ACK and returns its MSS.
func (t *Table) cookieCheck(src, dst netip.Addr, sp, dp uint16, peerISN, isn uint32) (uint16, bool) {
	now := t.cookieCount()
	for age := uint32(0); age < 2; age++ {
		count := now - age
		if byte(count) != byte(isn>>24) {
			continue
		}
		idx := (isn - t.cookieHash(src, dst, sp, dp, count, peerISN)) & 0xffffff
		if idx < uint32(len(cookieMSS)) {
			return cookieMSS[idx], true
		}
	}
	return 0, false
}

// Cookie timestamp bits (TS_OPT_*).
const (
	cookieTSWScale = 0xf    // the peer's window scale; 0xf: no window scaling
	cookieTSSACK   = 1 << 4 // SACK permitted
	cookieTSECN    = 1 << 5 // ECN negotiated
	cookieTSBits   = 6
)

// cookieTSVal is the SYN-ACK's TSval carrying opts, never above now.
func cookieTSVal(now uint32, opts uint32) uint32 {
	ts := now&^(1<<cookieTSBits-1) | opts
	if int32(ts-now) > 0 {
		ts -= 1 << cookieTSBits
	}
	return ts
}

// sendCookie answers a SYN with a stateless SYN-ACK
// (tcp_conn_request's want_cookie path, tcp_make_synack).
func (l *Listener) sendCookie(src, dst netip.Addr, seg header.TCP, opts *header.TCPOptions) {
	t := l.t
	rt, err := t.ip.RouteOutput(&ipv4.FlowKey{Dst: src, Src: dst, Proto: 6, Sport: l.port, Dport: seg.SrcPort()})
	if err != nil {
		return
	}
	mss := uint16(defaultMS)
	if opts.HasMSS {
		mss = opts.MSS
	}
	mtu := rt.MTU
	if mtu == 0 && rt.Dev != nil {
		mtu = rt.Dev.MTU()
	}
	advmss := max(mtu-40, 64)
	if rt.AdvMSS > 0 {
		advmss = min(rt.AdvMSS, 65495)
	}
	mss = min(mss, uint16(max(mtu-40, 64)))
	isn, _ := t.cookieISN(src, dst, seg.SrcPort(), l.port, seg.Seq(), mss)
	// The SYN-ACK offers our own MSS, as any SYN-ACK does; the cookie
	// keeps the peer's, rounded down to the table.
	o := header.TCPOptions{HasMSS: true, MSS: uint16(advmss)}
	var flags header.TCPFlags
	if opts.HasTimestamps && t.Sysctl.Timestamps {
		// Without timestamps the options are dropped (tcp_clear_options).
		bits := uint32(cookieTSWScale)
		if opts.HasWScale {
			bits = uint32(min(opts.WScale, 14))
			o.HasWScale, o.WScale = true, wscaleFor(winFromSpace(t.Sysctl.RmemDefault), false, t.Sysctl.RmemMax)
		}
		if opts.SACKPermitted && t.Sysctl.SACK {
			bits |= cookieTSSACK
			o.SACKPermitted = true
		}
		if t.Sysctl.ECN != 0 && seg.Flags()&(header.TCPFlagECE|header.TCPFlagCWR) == header.TCPFlagECE|header.TCPFlagCWR {
			bits |= cookieTSECN
			flags |= header.TCPFlagECE
		}
		// The bits go into the clock before the connection's offset is
		// added, so that the ACK's echo less the offset gives them back.
		now := uint32(t.exec.Now() / time.Millisecond)
		o.HasTimestamps, o.TSEcr = true, opts.TSVal
		o.TSVal = cookieTSVal(now, bits) + t.tsOffset(dst, src)
		advmss -= 12 // TCPOLEN_TSTAMP_ALIGNED, for the window's rounding
	}
	ol := o.EncodedLen()
	b := t.pool.Get(skb.DefaultHeadroom, 20+ol)
	if b == nil {
		return
	}
	h := header.TCP(b.Put(20 + ol))
	clear(h)
	h.SetSrcPort(l.port)
	h.SetDstPort(seg.SrcPort())
	h.SetSeq(isn)
	h.SetAck(seg.Seq() + 1)
	h[12] = byte((20+ol)/4) << 4
	h.SetFlags(header.TCPFlagSYN | header.TCPFlagACK | flags)
	// The window as tcp_select_initial_window offers it: the default
	// buffer's window in whole segments of our MSS.
	win := winFromSpace(t.Sysctl.RmemDefault)
	if win > advmss {
		win -= win % advmss
	}
	h.SetWindow(uint16(min(win, 65535)))
	o.Encode(h[20:])
	h.FillChecksum(dst, src)
	t.Stats.SyncookiesSent++
	t.Stats.OutSegs++
	t.ip.Output(b, dst, src, 6, &rt, ipv4.SendOpts{DF: true})
}

// cookieOptions decodes the options a cookie's ACK echoes
// (cookie_timestamp_decode); false when they name one this namespace has
// turned off, which makes the ACK no cookie.
func (t *Table) cookieOptions(o *header.TCPOptions, dst, src netip.Addr) (wscale int, sack, ecn, ok bool) {
	if !o.HasTimestamps {
		return -1, false, false, true
	}
	if !t.Sysctl.Timestamps {
		return 0, false, false, false
	}
	bits := o.TSEcr - t.tsOffset(dst, src)
	if o.TSEcr == 0 {
		bits = 0
	}
	sack = bits&cookieTSSACK != 0
	if sack && !t.Sysctl.SACK {
		return 0, false, false, false
	}
	wscale = -1
	if w := int(bits & cookieTSWScale); w != cookieTSWScale {
		wscale = w
	}
	return wscale, sack, bits&cookieTSECN != 0 && t.Sysctl.ECN != 0, true
}

// cookieAck tries to complete a connection from the ACK of a cookie
// (cookie_v4_check); false means the segment is not one.
func (l *Listener) cookieAck(src, dst netip.Addr, seg header.TCP) bool {
	t := l.t
	f := seg.Flags()
	if f&(header.TCPFlagSYN|header.TCPFlagRST|header.TCPFlagACK) != header.TCPFlagACK || t.Sysctl.Syncookies == 0 ||
		l.overflowed == 0 || t.exec.Now()-l.overflowed > 2*cookiePeriod*time.Second {
		return false
	}
	mss, ok := t.cookieCheck(src, dst, seg.SrcPort(), l.port, seg.Seq()-1, seg.Ack()-1)
	if !ok {
		t.Stats.SyncookiesFailed++
		return false
	}
	var o header.TCPOptions
	if seg.ParseOptions(&o) != nil {
		return false
	}
	wscale, sack, ecn, ok := t.cookieOptions(&o, dst, src)
	if !ok {
		return false
	}
	if l.queued() >= l.backlog || len(t.conns) >= t.Sysctl.MaxConnections {
		t.Stats.ListenOverflows++
		return true // dropped; the peer retransmits
	}
	t.Stats.SyncookiesRecv++
	k := key{la: dst, ra: src, lp: l.port, rp: seg.SrcPort()}
	c := t.newConn(k)
	c.iss = seg.Ack() - 1
	c.irs = seg.Seq() - 1
	c.rcvNxt = seg.Seq()
	c.sndUna, c.sndNxt, c.sndMax = c.iss+1, c.iss+1, c.iss+1
	c.setMSS()
	c.mss = min(c.mss, int(mss))
	if wscale >= 0 {
		c.peerWScale, c.sndShift = true, uint8(min(wscale, 14))
	} else {
		c.rcvShift, c.sndShift = 0, 0
	}
	c.sackOK = sack
	c.ecnOK, c.Info.ECN = ecn, ecn
	if o.HasTimestamps {
		c.tsOK = true
		c.tsRecent, c.tsRecentSet = o.TSVal, true
		c.mss -= 12 // TCPOLEN_TSTAMP_ALIGNED
	}
	c.rcvWnd = c.initialWindow(int(mss))
	c.rcvSsthresh = c.rcvWnd
	c.advertised = c.rcvNxt + c.rcvWnd
	c.caInit()
	c.sndWnd = uint32(seg.Window()) << c.sndShift
	c.sndWl1, c.sndWl2 = seg.Seq(), seg.Ack()
	c.state = Established
	// tcp_synack_rtt_meas without a request: the echoed timestamp only.
	if rtt := c.tsRTT(&o); rtt >= 0 {
		c.rttSample(rtt)
	}
	c.initRTO()
	c.initBufferSpace()
	t.conns[k] = c
	t.hold(k.lp)
	t.Stats.PassiveOpens++
	l.acceptq = append(l.acceptq, c)
	c.segment(seg) // the ACK may carry data
	if l.OnAcceptable != nil {
		l.OnAcceptable()
	}
	return true
}
