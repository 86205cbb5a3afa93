package tcp

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

// newSpace is tcp_new_space's sk_stream_write_space, after an ACK freed
// send buffer: a writer that found the buffer full is woken once the free
// room is at least half of what is still queued (sk_stream_is_writeable),
// not on every ACK. It then adds a large block at once, which keeps the
// segments built from it large and the wake-ups few.
func (c *Conn) newSpace() {
	if !c.sndNoSpace || c.sndCap-c.sndq.Len() < c.sndq.Len()/2 {
		return
	}
	c.sndNoSpace = false
	if c.OnWritable != nil {
		c.OnWritable()
	}
}
