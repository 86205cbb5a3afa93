package tcp

import "time"

// SACK compression, as Linux 6.18's tcp_comp_sack (__tcp_ack_snd_check's
// out-of-order path, tcp_compressed_ack_kick, tcp_sack_compress_send_ack):
// a receiver holding out-of-order data sends the first three duplicate
// ACKs for a rcv_nxt at once — enough for the sender's fast retransmit —
// and then holds the next ones back, up to tcp_comp_sack_nr of them, for
// 5% of the RTT but at most tcp_comp_sack_delay_ns. Any ACK sent ends
// the wait. Before a segment opens a third SACK block, or extends one
// beyond the first two in most-recently-used order (sack.go), the ACK
// held back goes out, so its blocks reach the sender before the change
// reorders them. (Linux's timer slack, tcp_comp_sack_slack_ns, is
// nothing here: usnet's timers are exact.)

const fastRetransThresh = 3 // TCP_FASTRETRANS_THRESH

// compState is tcp_sock's compressed_ack, compressed_ack_rcv_nxt and
// dup_ack_counter.
type compState struct {
	held   int    // ACKs held back since the last one sent
	rcvNxt uint32 // the rcv_nxt the duplicates are counted for
	dups   uint8  // duplicate ACKs sent for it at once
}

// compressOfoAck is __tcp_ack_snd_check's out-of-order path: it sends the
// ACK now or holds it back.
func (c *Conn) compressOfoAck() {
	nr := c.t.Sysctl.CompSackNr
	if !c.sackOK || c.comp.held >= nr {
		c.sendAck()
		return
	}
	if c.comp.rcvNxt != c.rcvNxt {
		c.comp.rcvNxt, c.comp.dups = c.rcvNxt, 0
	}
	if c.comp.dups < fastRetransThresh {
		c.comp.dups++
		c.sendAck()
		return
	}
	c.comp.held++
	if c.compTimer.Pending() {
		return
	}
	// The receiver's RTT estimate, or the SRTT when smaller.
	rtt := c.rcvRTT
	if c.srtt > 0 && c.srtt < rtt {
		rtt = c.srtt
	}
	c.compTimer.Reset(min(c.t.Sysctl.CompSackDelay, rtt/20))
}

// compFired is tcp_compressed_ack_kick: the ACK held back goes out.
func (c *Conn) compFired() {
	c.t.fires++
	if c.comp.held > 0 && c.state != Closed {
		c.comp.held-- // the one sent is not compressed
		c.sendAck()
	}
}

// compSendNow is tcp_sack_compress_send_ack: the ACK held back goes out
// before the SACK blocks change.
func (c *Conn) compSendNow() {
	if c.comp.held == 0 {
		return
	}
	c.compTimer.Stop()
	c.comp.held--
	c.sendAck()
}

// compAckSent is tcp_event_ack_sent's part: the ACKs held back count as
// compressed (TCPAckCompressed) and the wait ends.
func (c *Conn) compAckSent() {
	if c.comp.held > 0 {
		c.t.Stats.TCPAckCompressed += uint64(c.comp.held)
		c.comp.held = 0
		c.compTimer.Stop()
	}
}

// compSackDelay and compSackNr are Linux 6.18's tcp_comp_sack_delay_ns
// and tcp_comp_sack_nr defaults.
const (
	compSackDelay = time.Millisecond
	compSackNr    = 44
)
