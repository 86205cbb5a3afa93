package tcp

import "time"

// SndNxt exposes snd_nxt to the external tests (for forging segments).
func (c *Conn) SndNxt() uint32 { return c.sndNxt }

// RcvNxt exposes rcv_nxt.
func (c *Conn) RcvNxt() uint32 { return c.rcvNxt }

// TimerFires counts connection timer callbacks run.
func (t *Table) TimerFires() uint64 { return t.fires }

// RcvMem is the truesize charged for the receive queues (sk_rmem_alloc),
// and RcvSpace the limit it is held to (sk_rcvbuf).
func (c *Conn) RcvMem() int   { return c.rcvMem }
func (c *Conn) RcvSpace() int { return c.rcvSpace() }

// ATO is the delayed-ACK timeout (icsk_ack.ato), QuickAcks the quick
// ACKs left and Pingpong the interactive-mode count.
func (c *Conn) ATO() time.Duration { return c.ack.ato }
func (c *Conn) QuickAcks() int     { return c.ack.quick }
func (c *Conn) Pingpong() int      { return int(c.ack.pingpong) }

// CAState is the congestion state (icsk_ca_state).
func (c *Conn) CAState() int { return int(c.caState) }

// EarlyDemux runs the table's early demux on IP packet h.
func (t *Table) EarlyDemux(h []byte, iif int, gen uint64) bool { return t.earlyDemux(h, iif, gen) }
