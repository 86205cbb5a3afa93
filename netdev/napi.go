package netdev

import (
	"sync"

	"github.com/usnet/usnet/executor"
	"github.com/usnet/usnet/skb"
)

// Coalescer merges the frames of a received batch (GRO: package offload's
// GRO implements it). Receive moves every frame of in to out and leaves in
// empty.
type Coalescer interface {
	Receive(in, out *skb.Batch)
}

// NAPIWeight is the receive budget of one poll (NAPI_POLL_WEIGHT).
const NAPIWeight = 64

// DefaultBacklog bounds a NAPI queue (netdev_max_backlog).
const DefaultBacklog = 1000

// NAPI is a device's bounded receive queue with a budgeted poll on the
// device's executor (Linux's napi_struct plus the per-CPU backlog). Any
// goroutine or executor may Enqueue; the poll runs on the owner and hands
// the device batches of at most NAPIWeight frames.
type NAPI struct {
	dev   *Device
	timer *executor.Timer
	batch *skb.Batch
	// GRO, when set by the driver, coalesces each poll's batch before the
	// stack sees it (napi_gro_receive); the device should then have the
	// GRO feature. merged is its output batch.
	GRO    Coalescer
	merged *skb.Batch

	mu   sync.Mutex
	ring []*skb.Buf // len(ring) == Limit once used
	r, n int        // read position and count
	// Limit bounds the queue in packets; set it before the first Enqueue.
	Limit int
}

// NewNAPI returns the NAPI context of d, bound to d's current executor.
func NewNAPI(d *Device) *NAPI {
	n := &NAPI{dev: d, batch: skb.NewBatch(NAPIWeight), merged: skb.NewBatch(NAPIWeight), Limit: DefaultBacklog}
	n.Rebind()
	return n
}

// Rebind attaches the poll to the device's current executor (after a
// namespace move).
func (n *NAPI) Rebind() {
	if n.timer != nil {
		n.timer.Stop()
	}
	n.timer = n.dev.table.net.Exec().NewTimer(n.poll)
	n.mu.Lock()
	pending := n.n > 0
	n.mu.Unlock()
	if pending {
		n.dev.table.net.Exec().Kick(n.timer)
	}
}

// Enqueue queues the Bufs of bt for receive and schedules a poll
// (netif_rx / napi_schedule); frames over the limit are freed. It returns
// the number dropped and leaves bt empty. Safe from any goroutine.
func (n *NAPI) Enqueue(bt *skb.Batch) (dropped int) {
	n.mu.Lock()
	if n.ring == nil {
		n.ring = make([]*skb.Buf, max(n.Limit, 1))
	}
	wasEmpty := n.n == 0
	for _, b := range bt.Bufs() {
		if n.n >= len(n.ring) {
			b.Free()
			dropped++
			continue
		}
		n.ring[(n.r+n.n)%len(n.ring)] = b
		n.n++
	}
	timer := n.timer
	n.mu.Unlock()
	bt.Reset()
	if wasEmpty {
		n.dev.table.net.Exec().Kick(timer)
	}
	return dropped
}

// poll delivers up to NAPIWeight frames and reschedules itself while frames
// remain (net_rx_action).
func (n *NAPI) poll() {
	n.mu.Lock()
	for k := min(n.n, NAPIWeight); k > 0; k-- {
		n.batch.Add(n.ring[n.r])
		n.ring[n.r] = nil
		n.r = (n.r + 1) % len(n.ring)
		n.n--
	}
	more := n.n > 0
	n.mu.Unlock()
	if n.batch.Len() > 0 {
		if n.GRO != nil {
			// napi_gro_receive: a poll's batch is the GRO window.
			in := n.batch.Len()
			n.GRO.Receive(n.batch, n.merged)
			// Drivers count frames before GRO: count the merged ones.
			n.dev.Stats.RxPackets += uint64(in - n.merged.Len())
			n.dev.Receive(n.merged)
		} else {
			n.dev.Receive(n.batch)
		}
	}
	if more {
		n.dev.table.net.Exec().Kick(n.timer)
	}
}

// Purge frees every queued frame (device unregister).
func (n *NAPI) Purge() {
	n.mu.Lock()
	for ; n.n > 0; n.n-- {
		n.ring[n.r].Free()
		n.ring[n.r] = nil
		n.r = (n.r + 1) % len(n.ring)
	}
	n.mu.Unlock()
	n.timer.Stop()
}
