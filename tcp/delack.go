package tcp

import "time"

// Delayed ACKs, as Linux 6.18's inet_connection_sock icsk_ack engine
// (tcp_event_data_recv, __tcp_ack_snd_check, tcp_send_delayed_ack,
// tcp_delack_timer_handler, tcp_event_ack_sent, tcp_event_data_sent,
// __tcp_cleanup_rbuf).
//
// Data received schedules an ACK. After the segment is processed (and
// after any data it let us send, which carries the ACK), the ACK goes out
// at once when more than rcv_mss arrived since the last window we
// advertised and the window we would offer now is no smaller than that
// one; in quick-ack mode; when a gap in the sequence was just filled
// (ICSK_ACK_NOW); and for out-of-order data, but for those held back by
// SACK compression (compsack.go). Otherwise the delayed-ACK
// timer runs for ato, and a read that drains a queue holding small
// segments, or one that finds more than rcv_mss unacknowledged, sends it
// (tcp_cleanup_rbuf).
//
// ato, the ACK timeout, adapts to the gap between data segments: it
// starts at TCP_ATO_MIN (40 ms) with the first data, halves towards the
// gap when segments come faster than ato, and doubles (up to the RTO)
// each time the timer fires. The delay used is ato, bounded above
// TCP_DELACK_MIN by 500 ms, or 200 ms in interactive mode or after a
// small segment, and by the SRTT; always by TCP_DELACK_MAX less one
// jiffy. An armed timer is only ever moved earlier.
//
// Quick-ack mode (up to 16 ACKs, no more than half the window in
// segments) starts with the first data, after a silence longer than the
// RTO, and on retransmitted, out-of-window or CE-marked data. It does not
// apply in interactive (pingpong) mode, which a connection enters when it
// sends data within ato of the last data it received (tcp_pingpong_thresh
// 1) and leaves when the delayed-ACK timer fires anyway.
//
// Times are counted in jiffies of HZ 1000 (as tcp/cc's CUBIC), so the
// arithmetic of ato is Linux's.

const (
	maxQuickAcks   = 16                     // TCP_MAX_QUICKACKS
	atoMin         = 40 * time.Millisecond  // TCP_ATO_MIN, TCP_DELACK_MIN (HZ/25)
	delackMax      = 200 * time.Millisecond // TCP_DELACK_MAX (HZ/5)
	atoMaxBulk     = 500 * time.Millisecond // HZ/2: tcp_send_delayed_ack's bound outside interactive mode
	pingpongThresh = 1                      // tcp_pingpong_thresh
	jiffy          = time.Millisecond       // 1/HZ
)

// icsk_ack.pending bits.
const (
	ackSched   uint8 = 1 << iota // ICSK_ACK_SCHED: received data awaits an ACK
	ackPushed                    // ICSK_ACK_PUSHED: a small or pushed segment came
	ackPushed2                   // ICSK_ACK_PUSHED2: two of them
	ackNowBit                    // ICSK_ACK_NOW: acknowledge at once, once
)

// ackState is icsk_ack.
type ackState struct {
	pending  uint8
	quick    int           // ACKs still to send at once (quick-ack mode)
	pingpong uint8         // replies sent within ato of a receive
	ato      time.Duration // whole jiffies; 0 until the first data
	lrcv     uint32        // jiffies of the last data received (lrcvtime)
	timeout  time.Duration // when the armed delayed-ACK timer fires
}

// jiffiesAt is tcp_jiffies32 at executor time t.
func jiffiesAt(t time.Duration) uint32 { return uint32(t / jiffy) }

// delackMaxJ is tcp_delack_max: TCP_DELACK_MAX, but below the RTO floor
// by a jiffy.
const delackMaxJ = min(delackMax, rtoMin-jiffy)

func (c *Conn) inPingpong() bool { return c.ack.pingpong >= pingpongThresh }

// inQuickAck is tcp_in_quickack_mode.
func (c *Conn) inQuickAck() bool { return c.ack.quick > 0 && !c.inPingpong() }

// incrQuickAck is tcp_incr_quickack: up to limit ACKs at once, no more
// than half the window in segments (at least 2).
func (c *Conn) incrQuickAck(limit int) {
	q := int(c.rcvWnd) / (2 * max(c.rcvMSS, 1))
	if q == 0 {
		q = 2
	}
	c.ack.quick = max(c.ack.quick, min(q, limit))
}

// enterQuickAck is tcp_enter_quickack_mode.
func (c *Conn) enterQuickAck(limit int) {
	c.incrQuickAck(limit)
	c.ack.pingpong = 0
	c.ack.ato = atoMin
}

// ackEstablished starts the engine's clock at establishment
// (tcp_finish_connect, tcp_create_openreq_child set lrcvtime).
func (c *Conn) ackEstablished() {
	c.ack.lrcv = jiffiesAt(c.t.exec.Now())
}

// dataEvent is tcp_event_data_recv's ACK part, for in-order data: an ACK
// is due, and ato follows the gap since the last data.
func (c *Conn) dataEvent() {
	c.ack.pending |= ackSched
	now := jiffiesAt(c.t.exec.Now())
	if c.ack.ato == 0 {
		// The first data: quick ACKs while the sender's window opens.
		c.incrQuickAck(maxQuickAcks)
		c.ack.ato = atoMin
	} else {
		m := time.Duration(int32(now-c.ack.lrcv)) * jiffy
		switch {
		case m <= atoMin/2:
			c.ack.ato = c.ack.ato/2/jiffy*jiffy + atoMin/2
		case m < c.ack.ato:
			c.ack.ato = min(c.ack.ato/2/jiffy*jiffy+m, c.rto.Truncate(jiffy))
		case m > c.rto:
			// A silence longer than the RTO: the sender restarts from
			// a small window and should not wait for our timer.
			c.incrQuickAck(maxQuickAcks)
		}
	}
	c.ack.lrcv = now
}

// ackSent is tcp_event_ack_sent, for every segment carrying our current
// ACK: one quick ACK used if data awaited it (tcp_dec_quickack_mode),
// the pending state cleared and the timer stopped.
func (c *Conn) ackSent() {
	if c.ack.quick > 0 && c.ack.pending&ackSched != 0 {
		c.ack.quick--
		if c.ack.quick == 0 {
			c.ack.ato = atoMin // leaving quick-ack mode deflates ato
		}
	}
	c.ack.pending = 0
	c.ackTimer.Stop()
	c.compAckSent()
}

// dataSent is tcp_event_data_sent's pingpong rule: data sent within ato
// of the last receive is a reply.
func (c *Conn) dataSent() {
	if time.Duration(jiffiesAt(c.t.exec.Now())-c.ack.lrcv)*jiffy < c.ack.ato && c.ack.pingpong < 255 {
		c.ack.pingpong++
	}
}

// ackSndCheck is tcp_ack_snd_check, after a segment's data was queued and
// what it allowed us to send went out: acknowledge now, or arm the
// delayed-ACK timer. ofo says out-of-order data may be held.
func (c *Conn) ackSndCheck(ofo bool) {
	if c.ack.pending&ackSched == 0 {
		return // nothing received, or a data segment carried the ACK
	}
	// More than one full segment since the window we advertised last,
	// and a window at least as large to offer now (else the reader's
	// tcp_cleanup_rbuf will ACK as it frees room).
	if int(c.rcvNxt-c.rcvWup) > c.rcvMSS && c.chooseWindow() >= c.rcvWnd ||
		c.inQuickAck() || c.ack.pending&ackNowBit != 0 {
		c.sendAck()
		return
	}
	if !ofo || len(c.ooo) == 0 {
		c.sendDelayedAck()
		return
	}
	c.compressOfoAck() // out-of-order data: duplicate ACKs, some held back
}

// sendDelayedAck is tcp_send_delayed_ack.
func (c *Conn) sendDelayedAck() {
	ato := c.ack.ato
	if ato > atoMin {
		maxATO := atoMaxBulk
		if c.inPingpong() || c.ack.pending&ackPushed != 0 {
			maxATO = delackMax
		}
		if c.srtt > 0 {
			// usecs_to_jiffies rounds up.
			rtt := max((c.srtt + jiffy - 1).Truncate(jiffy), atoMin)
			maxATO = min(maxATO, rtt)
		}
		ato = min(ato, maxATO)
	}
	ato = min(ato, delackMaxJ)
	now := c.t.exec.Now()
	timeout := now + ato
	if c.ackTimer.Pending() {
		// Due within a quarter of ato: send now.
		if c.ack.timeout <= now+ato/4/jiffy*jiffy {
			c.sendAck()
			return
		}
		// Never later than already armed.
		if timeout >= c.ack.timeout {
			return
		}
	}
	c.ack.timeout = timeout
	c.ackTimer.Reset(ato)
}

// delackTimer is tcp_delack_timer_handler: the ACK was delayed to no
// avail. Outside interactive mode that means segments come further apart
// than ato, so ato grows; in it, the reply we waited for did not come, so
// the connection is no longer interactive.
func (c *Conn) delackTimer() {
	if c.state == Closed || c.state == Listen || c.ack.pending&ackSched == 0 {
		return
	}
	if !c.inPingpong() {
		c.ack.ato = min(2*c.ack.ato, c.rto.Truncate(jiffy))
	} else {
		c.ack.pingpong = 0
		c.ack.ato = atoMin
	}
	c.t.Stats.DelayedACKs++
	c.sendAck()
}

// cleanupRbuf is __tcp_cleanup_rbuf, after a read of copied bytes: the
// ACK still owed for more than a segment, or for a small segment the
// reader has now drained (not in interactive mode, where the reply should
// carry it, unless two came); else a window update when the window the
// peer still sees has shrunk to at most half the clamp and the one we
// would offer now is at least twice that. What matters is the advertised
// window that is left, not how much this read freed: a sender facing a
// nearly closed window must hear that it opened.
func (c *Conn) cleanupRbuf(copied int) {
	if c.ack.pending&ackSched != 0 && (int(c.rcvNxt-c.rcvWup) > c.rcvMSS ||
		copied > 0 && c.rcvMem == 0 &&
			(c.ack.pending&ackPushed2 != 0 || c.ack.pending&ackPushed != 0 && !c.inPingpong())) {
		c.sendAck()
		return
	}
	if copied > 0 && (c.state == Established || c.state == FinWait1 || c.state == FinWait2) {
		left := uint64(c.windowLeft())
		if 2*left <= uint64(c.windowClamp) {
			if w := uint64(c.chooseWindow()); w != 0 && w >= 2*left {
				c.sendAck()
			}
		}
	}
}

// SetQuickAck is setsockopt TCP_QUICKACK (__tcp_sock_set_quickack). Off
// makes the connection interactive (inet_csk_enter_pingpong_mode), so
// ACKs wait for a reply to carry them. On leaves interactive mode — which
// lets quick-ack mode, if any ACKs of it are left, act again — and sends
// an ACK still owed in ESTABLISHED or CLOSE_WAIT as a read that drained
// a pushed segment would (tcp_cleanup_rbuf): at once if nothing is left
// unread. It does not add quick ACKs; Linux's pingpong mode comes back
// by itself with the next reply sent within ato.
func (c *Conn) SetQuickAck(on bool) {
	if !on {
		c.ack.pingpong = pingpongThresh
		return
	}
	c.ack.pingpong = 0
	if (c.state == Established || c.state == CloseWait) && c.ack.pending&ackSched != 0 {
		c.ack.pending |= ackPushed
		c.cleanupRbuf(1)
	}
}

// QuickAck is getsockopt TCP_QUICKACK: whether the connection is not in
// interactive (pingpong) mode.
func (c *Conn) QuickAck() bool { return !c.inPingpong() }
