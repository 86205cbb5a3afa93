package skb

// Batch is an ordered group of packets passed between layers in one call,
// the unit of work of usnet's data path (illumos framed I/O, Linux's
// list-based receive). A Batch is reused: the layer that owns it Resets it
// after the receiver has taken or freed every Buf.
type Batch struct {
	bufs []*Buf
}

// NewBatch returns a batch with room for n packets before it grows.
func NewBatch(n int) *Batch { return &Batch{bufs: make([]*Buf, 0, n)} }

// Add appends b.
func (bt *Batch) Add(b *Buf) { bt.bufs = append(bt.bufs, b) }

// Len returns the number of packets.
func (bt *Batch) Len() int { return len(bt.bufs) }

// At returns the i-th packet.
func (bt *Batch) At(i int) *Buf { return bt.bufs[i] }

// Bufs returns the packets as a slice, valid until the next Add or Reset.
func (bt *Batch) Bufs() []*Buf { return bt.bufs }

// Reset empties the batch without freeing its packets: their ownership has
// moved on.
func (bt *Batch) Reset() {
	clear(bt.bufs)
	bt.bufs = bt.bufs[:0]
}

// Free frees every packet and empties the batch.
func (bt *Batch) Free() {
	for _, b := range bt.bufs {
		b.Free()
	}
	bt.Reset()
}

// Bytes returns the total length of the packets.
func (bt *Batch) Bytes() int {
	n := 0
	for _, b := range bt.bufs {
		n += b.Len()
	}
	return n
}
