package tcp

import (
	"syscall"
	"time"
)

// CloseRead is shutdown(SHUT_RD). Linux sends nothing and keeps the
// connection whole: data already queued stays readable, data arriving
// later is still accepted, acknowledged and readable; only a read that
// finds the queue empty returns end-of-file at once instead of waiting.
// Once the sending side is shut down too, arriving data resets the
// connection, as after close(2) (TCPAbortOnData, abortOnData). ENOTCONN
// on a closed connection, as inet_shutdown answers.
func (c *Conn) CloseRead() error {
	c.rcvShutdown = true
	if c.OnReadable != nil {
		c.OnReadable() // sk_state_change: a blocked reader sees EOF
	}
	if c.state == Closed {
		return syscall.ENOTCONN
	}
	return nil
}

// lingering reports whether close(2) with SO_LINGER would still wait: our
// FIN is not acknowledged yet (sk_stream_wait_close waits in FIN_WAIT1,
// CLOSING and LAST_ACK).
func (c *Conn) lingering() bool {
	return c.state == FinWait1 || c.state == Closing || c.state == LastAck
}

// CloseLinger is close(2) with SO_LINGER on and a positive timeout: Close,
// then done(true) once everything queued and the FIN are acknowledged, or
// done(false) when the connection is reset or the timeout passes first
// (sk_stream_wait_close). done runs on the executor, at once if there is
// nothing to wait for. Either way the connection carries on alone, as a
// Linux orphan does: a timeout does not reset it.
func (c *Conn) CloseLinger(timeout time.Duration, done func(drained bool)) {
	c.Close()
	if !c.lingering() {
		done(c.finAcked())
		return
	}
	c.lingerDone = done
	if c.lingerTimer == nil {
		c.lingerTimer = c.t.newTimer(func() { c.lingerEnd(false) })
	}
	c.lingerTimer.Reset(timeout)
}

// lingerCheck ends a linger wait once the state no longer calls for it.
func (c *Conn) lingerCheck() {
	if c.lingerDone != nil && !c.lingering() {
		c.lingerEnd(c.finAcked())
	}
}

// finAcked reports whether the peer acknowledged our FIN, and with it
// everything sent before.
func (c *Conn) finAcked() bool {
	return c.finEver && c.err == nil && seqLT(c.finSeq, c.sndUna)
}

func (c *Conn) lingerEnd(drained bool) {
	done := c.lingerDone
	c.lingerDone = nil
	if c.lingerTimer != nil {
		c.lingerTimer.Stop()
	}
	if done != nil {
		done(drained)
	}
}
