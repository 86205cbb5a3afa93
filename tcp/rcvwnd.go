package tcp

// Receive window selection (tcp_select_initial_window, tcp_select_window,
// tcp_grow_window in Linux). The window offered is not the whole free
// buffer: it is capped by rcv_ssthresh, which starts at the initial window
// and grows only as in-order data arrives in packets whose payload is a
// good share of the memory they pin (truesize). A peer sending many tiny
// segments, each pinning a whole buffer, therefore never earns a large
// window, and a peer sending GSO/GRO super-packets earns it within a few
// packets. The right edge already advertised never moves left.
//
// usnet counts the free space in payload bytes (autotune.go), where Linux
// counts truesize; the out-of-order queue is not subtracted, as it lies
// inside the window already offered.

const (
	rcvMSSDefault = 536 // TCP_MSS_DEFAULT: the first guess of the peer's MSS
	rcvMSSMin     = 88  // TCP_MIN_MSS
	growMinLen    = 128 // segments shorter than this never grow the window
)

// initialWindow is tcp_select_initial_window's rcv_wnd: the free space,
// clamped, rounded down to whole segments of mss, and at most what an
// unscaled SYN window field holds.
func (c *Conn) initialWindow(mss int) uint32 {
	space := c.fullSpace()
	if mss > 0 && space > mss {
		space -= space % mss
	}
	return uint32(min(max(space, 0), 65535))
}

// initRcvWnd sets the window a SYN or SYN-ACK offers and starts
// rcv_ssthresh there (tcp_connect_init, tcp_openreq_init_rwin). A SYN-ACK
// counts the MSS without the timestamp option when timestamps are on.
func (c *Conn) initRcvWnd(synAck bool) {
	mss := c.advMSS
	if mss == 0 {
		mss = c.mss
	}
	if synAck && c.tsOK {
		mss -= 12 // TCPOLEN_TSTAMP_ALIGNED
	}
	c.rcvWnd = c.initialWindow(mss)
	c.rcvSsthresh = c.rcvWnd
}

// initRcvWindowClamp is the window part of tcp_init_buffer_space, at
// establishment: the clamp is the full buffer less one segment (the
// reservation tcp_app_win asks for), rcv_ssthresh no more than the clamp;
// the peer's MSS is first guessed (tcp_initialize_rcv_mss).
func (c *Conn) initRcvWindowClamp() {
	if c.rcvWnd == 0 && c.rcvSsthresh == 0 {
		c.initRcvWnd(false)
	}
	adv := max(c.advMSS, 1)
	maxwin := c.rcvCap
	c.windowClamp = maxwin
	if maxwin > 2*adv {
		c.windowClamp = max(2*adv, maxwin-adv)
	}
	c.rcvSsthresh = min(c.rcvSsthresh, uint32(c.windowClamp))
	hint := min(adv, c.mss, int(c.rcvWnd/2), rcvMSSDefault)
	c.rcvMSS = max(hint, rcvMSSMin)
}

// setWindowClamp is tcp_set_window_clamp: a lower clamp pulls
// rcv_ssthresh down with it, a higher one lets rcv_ssthresh start from the
// window last offered.
func (c *Conn) setWindowClamp(w int) {
	w = max(w, 2304/2) // SOCK_MIN_RCVBUF / 2
	old := c.windowClamp
	if w == old {
		return
	}
	c.windowClamp = w
	if w < old {
		c.rcvSsthresh = min(c.rcvSsthresh, uint32(w))
	} else {
		c.rcvSsthresh = max(c.rcvSsthresh, min(c.rcvWnd, uint32(w)))
	}
}

// fullSpace is the most the window may be: the buffer's window
// (tcp_full_space), within window_clamp once that is set.
func (c *Conn) fullSpace() int {
	if c.windowClamp > 0 {
		return min(c.windowClamp, c.rcvCap)
	}
	return c.rcvCap
}

// freeSpace is tcp_space: the window the queued data leaves.
func (c *Conn) freeSpace() int { return c.rcvCap - c.rcvq.Len() }

// windowLeft is tcp_receive_window: what remains of the window last
// advertised.
func (c *Conn) windowLeft() uint32 {
	return uint32(max(int32(c.advertised-c.rcvNxt), 0))
}

// window is what the connection accepts: the free space, and never less
// than what it advertised (RFC 9293 3.8.6: the right edge does not move
// left).
func (c *Conn) window() uint32 {
	return max(uint32(max(c.freeSpace(), 0)), c.windowLeft())
}

// chooseWindow is __tcp_select_window: the window to offer now, before
// the never-shrink rule.
func (c *Conn) chooseWindow() uint32 {
	mss := c.rcvMSS
	free := c.freeSpace()
	allowed := c.rcvCap
	full := min(c.fullSpace(), allowed)
	if mss > full {
		mss = full
		if mss <= 0 {
			return 0
		}
	}
	if free < full/2 {
		// Receiver-side silly window avoidance: round to what the scale
		// can express, and offer nothing rather than a sliver.
		free &^= 1<<c.rcvShift - 1
		if free < allowed/16 || free < mss {
			return 0
		}
	}
	free = min(free, int(c.rcvSsthresh))
	if c.rcvShift > 0 {
		// Round up so the scaled value does not lose the last bytes (a
		// window smaller than one scale unit would read as zero).
		unit := 1 << c.rcvShift
		return uint32((free + unit - 1) &^ (unit - 1))
	}
	// Unscaled: whole segments, keeping the current offer while it is
	// within one segment of the free space.
	w := int(c.rcvWnd)
	if mss > 0 && (w <= free-mss || w > free) {
		w = free - free%mss
	} else if mss == full && free > w+full/2 {
		w = free
	}
	return uint32(w)
}

// selectWindow is tcp_select_window: it picks the window for an outgoing
// segment, never shrinking the offer, records it (rcv_wnd, the right
// edge) and returns the value for the header, scaled.
func (c *Conn) selectWindow() uint16 {
	cur := c.windowLeft()
	if c.freeSpace() < c.fullSpace()/2 {
		c.ack.quick = 0 // the buffer fills: no more quick ACKs
	}
	w := c.chooseWindow()
	if w < cur {
		unit := uint32(1)<<c.rcvShift - 1
		w = (cur + unit) &^ unit
	}
	w = min(w, 65535<<c.rcvShift)
	c.rcvWnd = w
	c.rcvWup = c.rcvNxt
	c.advertised = c.rcvNxt + w
	return uint16(w >> c.rcvShift)
}

// measureRcvMSS is tcp_measure_rcv_mss: the peer's segment size, from the
// GSO size of a super-packet or the payload of a plain one; hdr is the
// TCP header length, psh whether the segment has PSH, remnant whether it
// has PSH, URG, SYN or FIN (it may be the short tail of a write). A
// segment shorter than rcv_mss, or a full one with PSH, marks the ACK
// pushed: the reader draining it sends the ACK (cleanupRbufAck), and the
// delayed ACK waits at most 200 ms.
func (c *Conn) measureRcvMSS(plen, gsoSize, hdr int, psh, remnant bool) {
	lss := c.lastSegSize
	c.lastSegSize = 0
	n := plen
	if gsoSize > 0 {
		n = gsoSize
	}
	if n >= c.rcvMSS {
		c.rcvMSS = min(n, max(c.advMSS, rcvMSSMin))
		if psh {
			c.ack.pending |= ackPushed
		}
		return
	}
	// A shorter segment that is not a remnant, of the same size twice
	// running, shows a peer whose MSS is smaller than guessed.
	n += hdr
	hl := 20
	if c.tsOK {
		hl += 12
	}
	if n >= rcvMSSDefault+20 || n >= rcvMSSMin+20 && !remnant {
		n -= hl
		c.lastSegSize = n
		if n == lss {
			c.rcvMSS = n
			return
		}
	}
	if c.ack.pending&ackPushed != 0 {
		c.ack.pending |= ackPushed2
	}
	c.ack.pending |= ackPushed
}

// growWindow is tcp_grow_window, for in-order data (and out-of-order data
// with SACK): rcv_ssthresh grows by two segments, or by twice the payload
// of a GRO super-packet, when the packet's payload is at least half its
// truesize, or while rcv_ssthresh is small compared with tcp_rmem[2] for
// worse ratios (a quarter of the limit at a ratio of a quarter, an eighth
// at an eighth ...); never beyond the clamp or the free space.
func (c *Conn) growWindow(plen, truesize int) {
	if plen < growMinLen || c.windowClamp == 0 {
		return
	}
	room := min(c.windowClamp, c.freeSpace()) - int(c.rcvSsthresh)
	if room <= 0 {
		return
	}
	incr := 0
	if winFromSpace(truesize) <= plen {
		incr = 2 * c.advMSS
	} else {
		ts := winFromSpace(truesize) / 2
		limit := winFromSpace(c.t.Sysctl.RmemMax) / 2
		for int(c.rcvSsthresh) <= limit {
			if ts <= plen {
				incr = 2 * c.rcvMSS
				break
			}
			ts /= 2
			limit /= 2
		}
	}
	if incr == 0 {
		return
	}
	c.rcvSsthresh += uint32(min(room, max(incr, 2*plen)))
	c.ack.quick |= 1 // tell the sender soon
}

// clampWindow is tcp_clamp_window, when the receive queues pin more memory
// than the buffer allows: an unlocked buffer grows to what is pinned (up
// to tcp_rmem[2]); if that does not cover it, rcv_ssthresh falls to two
// segments so the window stops growing until the reader catches up.
func (c *Conn) clampWindow() {
	c.ack.quick = 0
	if !c.rcvLocked && c.rcvSpace() < c.t.Sysctl.RmemMax {
		c.rcvCap = max(c.rcvCap, winFromSpace(min(c.rcvMem, c.t.Sysctl.RmemMax)))
	}
	if c.rcvMem > c.rcvSpace() {
		c.rcvSsthresh = uint32(min(c.fullSpace(), 2*c.advMSS))
	}
}

// rxTruesize is the memory the packet being received pins, for
// growWindow; plen is its payload. Without one (never on the receive
// path) the payload at the default ratio stands in.
func (c *Conn) rxTruesize(plen int) int {
	if b := c.t.rxBuf; b != nil {
		return b.Truesize()
	}
	return spaceFromWin(plen)
}

// rxGSOSize is the segment size of the GRO/GSO packet being received, 0
// for a plain one.
func (c *Conn) rxGSOSize() int {
	if b := c.t.rxBuf; b != nil {
		return int(b.GSOSize)
	}
	return 0
}
