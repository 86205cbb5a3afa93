package tcp

import "math"

// releaseSend gives back the send queue's memory once nothing can be
// sent or retransmitted any more.
func (c *Conn) releaseSend() {
	c.sndq.purge()
	c.txq = nil
}

// releaseRecv gives back the out-of-order queue's packets once nothing
// more will arrive, and the in-order queue's once it is empty; packets
// not read yet stay readable until Recv takes them or Close purges them.
func (c *Conn) releaseRecv() {
	c.purgeOOO()
	if c.rcvq.Len() == 0 || c.userClosed {
		c.purgeRcv()
	}
}

// Send-buffer accounting, as Linux's sk_stream_* helpers do it: the
// queue's truesize (sndq.Mem, sk_wmem_queued) against the send buffer
// (sndCap, sk_sndbuf), and the bytes not sent yet against
// TCP_NOTSENT_LOWAT.

// notsent is the bytes queued and never sent (write_seq - snd_nxt; our
// sndMax is Linux's snd_nxt, which a timeout does not rewind).
func (c *Conn) notsent() int {
	return max(c.sndq.Len()-int(c.sndMax-c.sndUna), 0)
}

// notsentLowat is tcp_notsent_lowat: the socket's TCP_NOTSENT_LOWAT, or
// no limit (the sysctl's default, UINT_MAX).
func (c *Conn) notsentLowat() uint64 {
	if c.notsentLow > 0 {
		return uint64(c.notsentLow)
	}
	return math.MaxUint32
}

// sndMemFree is __sk_stream_memory_free: the queued truesize is below the
// send buffer, and the unsent bytes below TCP_NOTSENT_LOWAT — below half
// of it when judging a wake-up (tcp_stream_memory_free's wake shift).
func (c *Conn) sndMemFree(wake bool) bool {
	if c.sndq.mem >= c.sndCap {
		return false
	}
	ns := uint64(c.notsent())
	if wake {
		ns <<= 1
	}
	return ns < c.notsentLowat()
}

// sndWriteable is __sk_stream_is_writeable: besides sndMemFree, the free
// room is at least half of what is queued (sk_stream_wspace >=
// sk_stream_min_wspace), so a writer is let in again only once ACKs have
// freed a third of the buffer, and then adds a large block at once —
// which keeps the segments built from it large and the wake-ups few.
func (c *Conn) sndWriteable(wake bool) bool {
	return c.sndCap-c.sndq.mem >= c.sndq.mem/2 && c.sndMemFree(wake)
}

// checkSpace is tcp_check_space, run after each incoming segment once the
// queue has been pushed (tcp_data_snd_check): only a writer that found
// the buffer full (SOCK_NOSPACE) is considered. The buffer grows first
// if the congestion window is not full (tcp_new_space), then the writer
// is woken if there is room (sk_stream_write_space).
func (c *Conn) checkSpace() {
	if !c.sndNoSpace {
		return
	}
	if !c.sndLocked && c.pipeSegs() < c.snd.Cwnd {
		c.sndBufExpand() // tcp_should_expand_sndbuf
	}
	c.writeSpace()
	if !c.sndNoSpace {
		c.sndbufLimitedStop()
	}
}

// writeSpace is sk_stream_write_space: wake the writer if the buffer is
// writeable.
func (c *Conn) writeSpace() {
	if !c.sndWriteable(true) {
		return
	}
	c.sndNoSpace = false
	if c.OnWritable != nil {
		c.OnWritable()
	}
}

// sndbufLimitedCheck starts the send-buffer-limited clock
// (TCP_CHRONO_SNDBUF_LIMITED, from tcp_cwnd_validate) after a send that
// left nothing unsent, not limited by cwnd, while the writer waits for
// buffer space: the connection could send more if the buffer held more.
func (c *Conn) sndbufLimitedCheck() {
	if c.sndLimStart != 0 || !c.sndNoSpace || c.notsent() > 0 || c.state != Established && c.state != CloseWait {
		return
	}
	if c.cwndLimited || c.snd.InSlowStart() && c.snd.Cwnd < 2*c.maxInflight {
		return // tcp_is_cwnd_limited
	}
	c.sndLimStart = c.t.exec.Now() + 1
}

// sndbufLimitedStop stops the clock once the writer has room again.
func (c *Conn) sndbufLimitedStop() {
	if c.sndLimStart != 0 {
		c.sndLimTotal += c.t.exec.Now() + 1 - c.sndLimStart
		c.sndLimStart = 0
	}
}

// SetNotsentLowat sets TCP_NOTSENT_LOWAT: the writer is let in only while
// fewer bytes than that wait unsent, and woken when fewer than half do;
// 0 restores the default, no limit.
func (c *Conn) SetNotsentLowat(n uint32) {
	c.notsentLow = n
	c.writeSpace()
}
