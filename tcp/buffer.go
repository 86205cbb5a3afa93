package tcp

// queueAppend appends p to q, a window into *store, reusing the store: it
// appends in place while the store has room after q, moves q to the
// front when that leaves room (at most once per store's worth of bytes,
// so each byte is copied O(1) times), and grows the store only when q
// itself outgrows half of it. The send and receive queues use it so the
// steady state allocates nothing.
func queueAppend(store *[]byte, q, p []byte) []byte {
	if cap(q)-len(q) >= len(p) && len(q) > 0 {
		return append(q, p...)
	}
	need := len(q) + len(p)
	if 2*need > len(*store) {
		ns := make([]byte, max(2*need, 64<<10))
		n := copy(ns, q)
		*store = ns
		return append(ns[:n], p...)
	}
	n := copy(*store, q)
	return append((*store)[:n], p...)
}
