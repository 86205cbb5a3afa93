package tcp

import (
	"syscall"

	"github.com/usnet/usnet/header"
)

// Urgent data (RFC 9293 3.8.5 as Linux implements it, tcp_urg and
// tcp_recv_urg). The urgent pointer names one byte (BSD's reading,
// tcp_stdurg = 0: the byte before the pointer). Without SO_OOBINLINE —
// Linux's default — that byte is taken out of the stream: reads stop at
// it, skip it, and it is readable once with RecvOOB (recv MSG_OOB);
// once ordinary reads pass it, it is gone. With SO_OOBINLINE it stays in
// line. Only the latest pointer counts, the state is four fields, and a
// pointer at data already read is ignored, so a flood of URG segments
// can at most move which one byte is taken out.

type urgState uint8

const (
	urgNone   urgState = iota
	urgNotYet          // pointer known, byte not arrived (TCP_URG_NOTYET)
	urgValid           // byte arrived, not read (TCP_URG_VALID)
	urgRead            // byte read with MSG_OOB (TCP_URG_READ)
)

// SetOOBInline sets SO_OOBINLINE.
func (c *Conn) SetOOBInline(on bool) { c.oobInline = on }

// checkUrg takes a new urgent pointer from a segment (tcp_check_urg).
func (c *Conn) checkUrg(seq uint32, up uint16) {
	ptr := uint32(up)
	if ptr > 0 {
		ptr--
	}
	ptr += seq
	if seqLT(ptr, c.copiedSeq) || seqLT(ptr, c.rcvNxt) {
		return // already seen and read, or in data we have
	}
	if c.urgState != urgNone && !seqLT(c.urgSeq, ptr) {
		return // no newer than the one we hold
	}
	// A new mark while the reader sits on the old, unread urgent byte:
	// step over that byte so it is not read again as data.
	if c.urgState != urgNone && c.urgSeq == c.copiedSeq && !c.oobInline && c.rcvq.Len() > 0 {
		c.readRcv(nil, 1)
		c.copiedSeq++
		c.Info.UrgentSkipped++
	}
	c.urgState, c.urgSeq = urgNotYet, ptr
	c.Info.UrgentMarks++
}

// urg is tcp_urg: note a new pointer, and catch the byte when the
// segment carries it.
func (c *Conn) urg(seg header.TCP) {
	seq, payload := seg.Seq(), seg.Payload()
	if seg.Flags()&header.TCPFlagURG != 0 {
		c.checkUrg(seq, seg.Urgent())
	}
	if c.urgState == urgNotYet {
		if off := c.urgSeq - seq; off < uint32(len(payload)) {
			c.urgByte, c.urgState = payload[off], urgValid
			if c.OnReadable != nil {
				c.OnReadable()
			}
		}
	}
}

// urgLimit trims a read of n bytes at the urgent mark and steps over the
// urgent byte when the read starts on it (tcp_recvmsg).
func (c *Conn) urgLimit(n int) int {
	if c.urgState == urgNone {
		return n
	}
	off := c.urgSeq - c.copiedSeq
	if off >= uint32(c.rcvq.Len()) {
		return n
	}
	if off == 0 {
		if !c.oobInline {
			c.readRcv(nil, 1)
			c.copiedSeq++
			c.Info.UrgentSkipped++
			c.urgPassed()
		}
		return min(n, c.rcvq.Len())
	}
	return min(n, int(off))
}

// urgPassed forgets the urgent state once reading went past the mark.
func (c *Conn) urgPassed() {
	if c.urgState != urgNone && seqLT(c.urgSeq, c.copiedSeq) {
		c.urgState = urgNone
	}
}

// RecvOOB reads the urgent byte (recv with MSG_OOB): EINVAL when there is
// none or it was read, or SO_OOBINLINE is set; EAGAIN when it has not
// arrived yet.
func (c *Conn) RecvOOB() (byte, error) {
	if c.oobInline || c.urgState == urgNone || c.urgState == urgRead {
		return 0, syscall.EINVAL
	}
	if c.urgState == urgValid {
		c.urgState = urgRead
		return c.urgByte, nil
	}
	if c.state == Closed && c.err != nil {
		return 0, syscall.ENOTCONN
	}
	return 0, syscall.EAGAIN
}

// AtMark reports whether the next byte to read is the urgent mark
// (SIOCATMARK).
func (c *Conn) AtMark() bool { return c.urgState != urgNone && c.urgSeq == c.copiedSeq }

// SendOOB queues p with its last byte urgent (send with MSG_OOB): segments
// below the mark carry URG and the pointer until it is acknowledged.
func (c *Conn) SendOOB(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if !c.sndFits(len(p)) {
		c.sndNoSpace = true
		return 0, nil // all or nothing, so the mark lands on p's last byte
	}
	c.sndUp = c.sndUna + uint32(c.sndq.Len()+len(p))
	c.urgMode = true
	return c.Send(p)
}

// urgOut sets URG and the pointer on an outgoing segment in urgent mode
// (tcp_transmit_skb).
func (c *Conn) urgOut(h header.TCP, seq uint32) {
	if !c.urgMode || !seqLT(seq, c.sndUp) {
		return
	}
	if c.sndUp-seq < 0x10000 {
		h.SetUrgent(uint16(c.sndUp - seq))
	} else {
		h.SetUrgent(0xffff)
	}
	h.SetFlags(h.Flags() | header.TCPFlagURG)
}
