package tcp

import (
	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/tcp/cc"
)

// Explicit Congestion Notification (RFC 3168, tcp_ecn = 2 by default):
// a peer's SYN asking for ECN (ECE and CWR set) is accepted; our own
// SYNs ask only with tcp_ecn = 1. With ECN on, new data goes out ECT(0);
// retransmissions and pure ACKs do not (tcp_ecn_send). A receiver that
// sees CE on data echoes ECE on every segment until the sender's CWR
// arrives; the sender answers the first ECE of a window by entering CWR:
// the algorithm's ssthresh and a PRR reduction to it, once per window of
// data (tcp_enter_cwr), then CWR on its next new segment.

// ECN codepoints in the IP header's low two TOS bits.
const (
	ecnECT0 = 0x02
	ecnCE   = 0x03
)

// ecnSynFlags are the ECN flags of our SYN or SYN-ACK.
func (c *Conn) ecnSynFlags(synack bool) header.TCPFlags {
	switch {
	case synack && c.ecnOK:
		return header.TCPFlagECE
	case !synack && c.t.Sysctl.ECN == 1 && c.retries == 0:
		c.ecnOK = true // tentatively, until the SYN-ACK answers
		return header.TCPFlagECE | header.TCPFlagCWR
	case !synack:
		c.ecnOK = false // a retransmitted SYN goes without (tcp_ecn_fallback)
	}
	return 0
}

// ecnRcvSyn decides ECN from the peer's SYN (tcp_ecn_create_request,
// tcp_ecn_rcv_syn) or SYN-ACK (tcp_ecn_rcv_synack).
func (c *Conn) ecnRcvSyn(f header.TCPFlags) {
	switch {
	case f&header.TCPFlagACK != 0: // SYN-ACK answers our SYN
		c.ecnOK = c.ecnOK && f&header.TCPFlagECE != 0 && f&header.TCPFlagCWR == 0
	case c.state == SynSent: // simultaneous open
		c.ecnOK = c.ecnOK && f&(header.TCPFlagECE|header.TCPFlagCWR) == header.TCPFlagECE|header.TCPFlagCWR
	default: // passive open
		c.ecnOK = c.t.Sysctl.ECN != 0 && f&(header.TCPFlagECE|header.TCPFlagCWR) == header.TCPFlagECE|header.TCPFlagCWR
	}
	c.Info.ECN = c.ecnOK
}

// ecnSend returns the IP ECN codepoint and adds the TCP ECN flags for a
// segment (tcp_ecn_send): newData is a first transmission with payload.
func (c *Conn) ecnSend(flags *header.TCPFlags, newData bool) uint8 {
	if !c.ecnOK || *flags&header.TCPFlagSYN != 0 {
		return 0
	}
	var tos uint8
	if newData {
		tos = ecnECT0
		if c.ecnQueueCWR {
			c.ecnQueueCWR = false
			*flags |= header.TCPFlagCWR
		}
	}
	if c.ecnDemandCWR {
		*flags |= header.TCPFlagECE
	}
	return tos
}

// ecnRcvData handles the ECN side of an arriving data segment
// (tcp_ecn_accept_cwr, tcp_ecn_check_ce).
func (c *Conn) ecnRcvData(f header.TCPFlags, ce bool) {
	if !c.ecnOK {
		return
	}
	if f&header.TCPFlagCWR != 0 {
		c.ecnDemandCWR = false
	}
	if ce {
		c.Info.CEReceived++
		if !c.ecnDemandCWR {
			c.enterQuickAck(2) // the sender may have a small cwnd: do not delay
			c.ecnDemandCWR = true
		}
	}
}

// enterCWR is tcp_enter_cwr, for ECE on an ACK that starts no fast
// recovery (tcp_try_to_open): once per window, and not while a
// reduction runs already.
func (c *Conn) enterCWR() {
	if c.caState >= cc.CWR {
		return
	}
	c.undo.markerSet, c.undo.priorSsthresh = false, 0 // tcp_enter_cwr: nothing to undo
	c.initCwndReduction()
	c.setCAState(cc.CWR)
	c.Info.CWRReductions++
}
