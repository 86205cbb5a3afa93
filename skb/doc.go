// Package skb holds usnet's packet buffers: the equivalent of Linux's
// sk_buff and illumos' mblk_t.
//
// A Buf is a window [head, tail) into a pooled, reference-counted data
// chunk that has headroom in front of the packet and tailroom behind it, so
// that each layer can Push its header in front of the payload, or Pull the
// header it has parsed, without copying. Clone gives a second Buf that shares
// the data but owns its metadata (the sk_buff clone); Unshare copies the data
// before a layer writes into shared bytes (skb_cow).
//
// Layers pass Batches, not single packets: a Batch is a reusable slice of
// *Buf that a device's receive poll or a socket's send fills and the next
// layer drains. The steady-state path allocates nothing: Bufs and chunks are
// recycled through a Pool.
//
// Ownership is explicit: whoever holds a *Buf must either hand it on or call
// Free exactly once. A Pool created with Debug set poisons freed buffers and
// never reuses them, so a double free or a use after free panics at the
// faulty call in tests (like KASAN); production pools reuse memory and only
// catch what they cheaply can.
package skb
