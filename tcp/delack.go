package tcp

import "time"

// Delayed ACKs (tcp_event_data_recv, __tcp_ack_snd_check). A receiver
// acknowledges at once two full segments, out-of-order data and, in
// quick-ack mode, everything; otherwise the ACK waits ackDelay (Linux's
// ato, which starts at TCP_ATO_MIN and, with an SRTT below 40 ms, stays
// there) for data to ride on or more segments to cover. Quick-ack mode holds for the
// first segments of a connection, and comes back after the peer was
// silent longer than our RTO: it is then probably restarting a window
// from one segment and should not wait for our ACK timer.

const maxQuickAcks = 16 // TCP_MAX_QUICKACKS

// incrQuickAck is tcp_incr_quickack: up to limit ACKs at once, no more
// than half the window in segments (at least 2).
func (c *Conn) incrQuickAck(limit int) {
	q := int(c.rcvWnd) / (2 * c.rcvMSS)
	if q == 0 {
		q = 2
	}
	c.quickAcks = max(c.quickAcks, min(q, limit))
}

// dataEvent is tcp_event_data_recv's quick-ack rule for in-order data:
// after a gap longer than the RTO, quick-ack mode again.
func (c *Conn) dataEvent() {
	now := c.t.exec.Now()
	if c.lastDataRcv != 0 && now-c.lastDataRcv > c.rto {
		c.incrQuickAck(maxQuickAcks)
	}
	c.lastDataRcv = max(now, time.Nanosecond)
}

// ackNow says whether data just queued must be acknowledged at once.
// Linux's rule is more than rcv_mss bytes since the last ACK, when the
// window offered would not shrink; usnet acknowledges every second
// segment of its own MSS, which agrees for full-sized segments.
func (c *Conn) ackNow(hadOOO bool) bool {
	return hadOOO || c.quickAcks > 0 || c.unacked >= 2*c.mss
}
