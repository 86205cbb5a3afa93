package netdev

import (
	"sync"

	"github.com/usnet/usnet/executor"
	"github.com/usnet/usnet/skb"
)

// XmitQueue is a bounded queue of frames from any goroutine to one
// executor, drained by a kicked timer: the transmit twin of a NAPI. An
// upper device (vlan, macvlan, ipvlan) moved to another namespace sends
// through one to reach its lower device's executor.
type XmitQueue struct {
	ex    executor.Executor
	timer *executor.Timer
	fn    func(*skb.Batch) // takes every Buf
	bt    *skb.Batch

	mu   sync.Mutex
	ring []*skb.Buf
	// Limit bounds the queue in frames (DefaultBacklog unless set
	// before the first Put).
	Limit int
}

// Init binds the queue to ex; fn receives the queued frames there, at
// most NAPIWeight at a time, and takes ownership of them.
func (q *XmitQueue) Init(ex executor.Executor, fn func(*skb.Batch)) {
	q.ex, q.fn, q.bt = ex, fn, skb.NewBatch(NAPIWeight)
	q.timer = ex.NewTimer(q.run)
	if q.Limit == 0 {
		q.Limit = DefaultBacklog
	}
}

// Put queues the Bufs of bt, leaving it empty, and returns how many were
// dropped for lack of room. Safe from any goroutine.
func (q *XmitQueue) Put(bt *skb.Batch) (dropped int) {
	q.mu.Lock()
	wasEmpty := len(q.ring) == 0
	for _, b := range bt.Bufs() {
		if len(q.ring) >= q.Limit {
			b.Free()
			dropped++
			continue
		}
		q.ring = append(q.ring, b)
	}
	kick := wasEmpty && len(q.ring) > 0
	q.mu.Unlock()
	bt.Reset()
	if kick {
		q.ex.Kick(q.timer)
	}
	return dropped
}

// run hands at most one NAPI weight of frames on and re-kicks itself
// while more wait.
func (q *XmitQueue) run() {
	q.mu.Lock()
	k := min(len(q.ring), NAPIWeight)
	for _, b := range q.ring[:k] {
		q.bt.Add(b)
	}
	n := copy(q.ring, q.ring[k:])
	clear(q.ring[n:])
	q.ring = q.ring[:n]
	q.mu.Unlock()
	if q.bt.Len() > 0 {
		q.fn(q.bt)
	}
	if n > 0 {
		q.ex.Kick(q.timer)
	}
}

// Purge frees every queued frame and stops the queue (device unregister).
func (q *XmitQueue) Purge() {
	q.mu.Lock()
	for _, b := range q.ring {
		b.Free()
	}
	q.ring = nil
	q.mu.Unlock()
	q.timer.Stop()
}
