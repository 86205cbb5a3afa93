package tcp

import (
	"math/bits"
	"time"

	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/skb"
)

// Buffer autotuning. Receive side: dynamic right-sizing
// (tcp_rcv_space_adjust, tcp_moderate_rcvbuf = 1): once per receiver-side
// RTT the window is sized to twice what the application read in the last
// RTT plus room for the sender's growth, up to tcp_rmem[2]. Send side:
// the buffer follows twice the congestion window (tcp_sndbuf_expand), up
// to tcp_wmem[2]. Setting SO_RCVBUF / SO_SNDBUF locks a side, as in Linux.
//
// Linux counts buffers in truesize, payload plus overhead, and advertises
// about half of sk_rcvbuf (tcp_win_from_space with the default scaling
// ratio); so does usnet: the receive window is half the buffer figure,
// and the send queue's truesize is held to the send buffer (buffer.go).

// winFromSpace and spaceFromWin are tcp_win_from_space / tcp_space_from_win
// at the default scaling ratio (50%).
func winFromSpace(space int) int { return space / 2 }
func spaceFromWin(win int) int   { return win * 2 }

// initWScale picks our window scale (tcp_select_initial_window): large
// enough for the largest window autotuning may reach.
func (c *Conn) initWScale() {
	c.rcvShift = wscaleFor(c.rcvCap, c.rcvLocked, c.t.Sysctl.RmemMax)
}

// wscaleFor is that choice for a receive window limit rcvCap, which
// autotuning may grow to rmemMax's window unless the buffer is locked.
func wscaleFor(rcvCap int, locked bool, rmemMax int) uint8 {
	space := spaceFromWin(rcvCap)
	if !locked {
		space = max(space, rmemMax)
	}
	shift := uint8(min(max(bits.Len(uint(space))-1-15, 0), 14))
	for shift < 14 && rcvCap>>shift > 65535 {
		shift++
	}
	return shift
}

// rcvRTTMeasureTS takes a receiver-side RTT sample from the echoed
// timestamp of a full-sized data segment (tcp_rcv_rtt_measure_ts).
func (c *Conn) rcvRTTMeasureTS(o *header.TCPOptions, plen int) {
	if !c.tsOK || !o.HasTimestamps || o.TSEcr == 0 || o.TSEcr == c.rcvRTTLastEcr || plen < c.mss {
		return
	}
	c.rcvRTTLastEcr = o.TSEcr
	d := int32(c.tsNow() - o.TSEcr)
	if d < 0 {
		return
	}
	c.rcvRTTUpdate(max(time.Duration(d), 1)*time.Millisecond, false)
}

// rcvRTTMeasure is the fallback without timestamps (tcp_rcv_rtt_measure):
// the time for one window of data to arrive.
func (c *Conn) rcvRTTMeasure() {
	now := c.t.exec.Now()
	if c.rcvRTTTime != 0 && !seqLT(c.rcvNxt, c.rcvRTTSeq) {
		c.rcvRTTUpdate(now-c.rcvRTTTime, true)
		c.rcvRTTTime = 0
	}
	if c.rcvRTTTime == 0 {
		c.rcvRTTSeq, c.rcvRTTTime = c.rcvNxt+c.rcvWnd, now+1
	}
}

// rcvRTTUpdate is tcp_rcv_rtt_update: a new minimum at once, otherwise a
// slow (1/8) rise; window-based samples only lower it.
func (c *Conn) rcvRTTUpdate(s time.Duration, winDep bool) {
	s = max(s, time.Microsecond)
	switch {
	case c.rcvRTT == 0 || s < c.rcvRTT:
		c.rcvRTT = s
	case !winDep:
		c.rcvRTT += (s - c.rcvRTT) / 8
	}
}

// rcvSpaceAdjust is tcp_rcv_space_adjust, after the application read.
func (c *Conn) rcvSpaceAdjust() {
	now := c.t.exec.Now()
	if c.rcvRTT == 0 || now-c.rsTime < c.rcvRTT {
		return
	}
	copied := int(c.copied - c.rsCopied)
	if copied > c.rsSpace {
		if c.t.Sysctl.ModerateRcvbuf && !c.rcvLocked {
			rcvwin := 2*copied + 16*c.advMSS
			grow := rcvwin * (copied - c.rsSpace) / max(c.rsSpace, 1)
			rcvwin += 2 * grow
			rcvbuf := min(spaceFromWin(rcvwin), c.t.Sysctl.RmemMax)
			if w := winFromSpace(rcvbuf); w > c.rcvCap {
				c.rcvCap = w
				c.windowClamp = w // the clamp follows the buffer
			}
		}
		c.rsSpace = copied
	}
	c.rsCopied, c.rsTime = c.copied, now
}

// initBufferSpace is tcp_init_buffer_space at establishment.
// It also starts copied_seq, rcv_wup and the delayed-ACK clock.
func (c *Conn) initBufferSpace() {
	c.copiedSeq = c.rcvNxt
	c.rcvWup = c.rcvNxt
	c.ackEstablished()
	c.initRcvWindowClamp()
	mss := max(c.advMSS, c.mss)
	c.rsSpace = min(int(c.rcvSsthresh), int(c.rcvWnd), initCwnd*mss)
	c.rsCopied, c.rsTime = c.copied, c.t.exec.Now()
	c.sndBufExpand()
}

// sndBufExpand is tcp_sndbuf_expand: room for twice the congestion window
// (at least IW10, and the reordering degree), up to tcp_wmem[2], each
// segment counted at the truesize of an skb holding one MSS — the worst
// case, without GSO; GSO skbs cost little more than their payload, so
// the buffer then holds about three windows. It runs at establishment
// and when an ACK finds the writer waiting and cwnd not full
// (checkSpace).
func (c *Conn) sndBufExpand() {
	if c.sndLocked {
		return
	}
	perMSS := skb.TruesizeOf(skb.DefaultHeadroom, c.mss)
	segs := max(int(c.snd.Cwnd), initCwnd, int(c.rack.reordering)+1)
	want := min(2*segs*perMSS, c.t.Sysctl.WmemMax)
	if want > c.sndCap {
		c.sndCap = want
	}
}
