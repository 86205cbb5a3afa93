package vlan

import (
	"sync"

	"github.com/usnet/usnet/executor"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
)

// txBacklog bounds the frames a vlan in another namespace has sent and
// its lower device's executor has not taken yet.
const txBacklog = netdev.DefaultBacklog

// xq is a bounded queue of frames from any goroutine to one executor,
// drained by a kicked timer: the transmit twin of a NAPI, for a vlan
// whose lower device runs on another executor.
type xq struct {
	ex    executor.Executor
	timer *executor.Timer
	fn    func(*skb.Batch) // takes every Buf
	bt    *skb.Batch

	mu   sync.Mutex
	ring []*skb.Buf
}

func (q *xq) init(ex executor.Executor, fn func(*skb.Batch)) {
	q.ex, q.fn, q.bt = ex, fn, skb.NewBatch(netdev.NAPIWeight)
	q.timer = ex.NewTimer(q.run)
}

// put queues the Bufs of bt, leaving it empty, and returns how many were
// dropped for lack of room. Safe from any goroutine.
func (q *xq) put(bt *skb.Batch) (dropped int) {
	q.mu.Lock()
	wasEmpty := len(q.ring) == 0
	for _, b := range bt.Bufs() {
		if len(q.ring) >= txBacklog {
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
func (q *xq) run() {
	q.mu.Lock()
	k := min(len(q.ring), netdev.NAPIWeight)
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

func (q *xq) purge() {
	q.mu.Lock()
	for _, b := range q.ring {
		b.Free()
	}
	q.ring = nil
	q.mu.Unlock()
	q.timer.Stop()
}
