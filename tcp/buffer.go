package tcp

// queueAppend appends p to q, a window into *store, reusing the store: it
// appends in place while the store has room after q, moves q to the
// front when that leaves room (at most once per store's worth of bytes,
// so each byte is copied O(1) times), and grows the store only when q
// itself outgrows half of it. The send and receive queues use it so the
// steady state allocates nothing; new stores of the smallest size come
// from the table's free list.
func (t *Table) queueAppend(store *[]byte, q, p []byte) []byte {
	if cap(q)-len(q) >= len(p) && len(q) > 0 {
		return append(q, p...)
	}
	need := len(q) + len(p)
	if 2*need > len(*store) {
		var ns []byte
		if size := max(2*need, minStore); size == minStore && len(t.stores) > 0 {
			ns = t.stores[len(t.stores)-1]
			t.stores[len(t.stores)-1] = nil
			t.stores = t.stores[:len(t.stores)-1]
		} else {
			ns = make([]byte, size)
		}
		n := copy(ns, q)
		t.putStore(*store)
		*store = ns
		return append(ns[:n], p...)
	}
	n := copy(*store, q)
	return append((*store)[:n], p...)
}

// minStore is the smallest queue store; maxFreeStores bounds the free
// list, so a burst of short connections reuses memory instead of
// allocating (and zeroing) two stores each.
const (
	minStore      = 64 << 10
	maxFreeStores = 64
)

// putStore returns a store nothing refers to any more.
func (t *Table) putStore(s []byte) {
	if len(s) == minStore && len(t.stores) < maxFreeStores {
		t.stores = append(t.stores, s)
	}
}

// releaseSend gives back the send queue's memory once nothing can be
// sent or retransmitted any more.
func (c *Conn) releaseSend() {
	c.t.putStore(c.sndStore)
	c.sndBuf, c.sndStore, c.txq = nil, nil, nil
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
	if !c.sndNoSpace || c.sndCap-len(c.sndBuf) < len(c.sndBuf)/2 {
		return
	}
	c.sndNoSpace = false
	if c.OnWritable != nil {
		c.OnWritable()
	}
}
