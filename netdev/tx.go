package netdev

import (
	"time"

	"github.com/usnet/usnet/executor"
	"github.com/usnet/usnet/skb"
)

// Qdisc is a queueing discipline in a device's transmit slot (Linux's
// struct Qdisc). Traffic control implements it; a nil slot is noqueue.
type Qdisc interface {
	Kind() string
	// Enqueue queues b or, when full or by policy, drops it (freeing it)
	// and reports false.
	Enqueue(b *skb.Buf, now time.Duration) bool
	// Dequeue returns the next packet that may leave at now, or nil.
	Dequeue(now time.Duration) *skb.Buf
	// Next reports, when Dequeue returned nil with packets still queued
	// (a shaper or delay line), the time at which one may leave.
	Next() (time.Duration, bool)
	// Reset drops every queued packet.
	Reset()
	// Len returns the number of queued packets.
	Len() int
}

// xmitBudget bounds the packets one qdisc run hands to the driver (Linux's
// dev_tx_weight).
const xmitBudget = 64

// watchdog re-runs a throttled qdisc when it may send again
// (qdisc_watchdog).
type watchdog struct {
	timer *executor.Timer
}

func (w *watchdog) init(d *Device) {
	if w.timer != nil {
		w.timer.Stop()
	}
	w.timer = d.table.net.Exec().NewTimer(d.qdiscRun)
}

// Xmit transmits a batch of frames that already carry their link-layer
// header (dev_queue_xmit): through the qdisc if the device has one,
// straight to the driver otherwise. It takes ownership of the Bufs and
// leaves bt empty.
func (d *Device) Xmit(bt *skb.Batch) {
	if !d.IsRunning() {
		d.Stats.TxDropped += uint64(bt.Len())
		bt.Free()
		return
	}
	if d.qdisc == nil {
		d.hardXmit(bt)
		return
	}
	now := d.table.net.Exec().Now()
	for _, b := range bt.Bufs() {
		if !d.qdisc.Enqueue(b, now) {
			d.Stats.TxDropped++
		}
	}
	bt.Reset()
	d.qdiscRun()
}

// qdiscRun drains the qdisc into the driver in bounded batches (__qdisc_run)
// and arms the watchdog when the qdisc is throttled.
func (d *Device) qdiscRun() {
	q := d.qdisc
	if q == nil || !d.IsRunning() {
		return
	}
	now := d.table.net.Exec().Now()
	for {
		bt := d.xmitBatch
		for bt.Len() < xmitBudget {
			b := q.Dequeue(now)
			if b == nil {
				break
			}
			bt.Add(b)
		}
		if bt.Len() == 0 {
			break
		}
		d.hardXmit(bt)
	}
	if at, ok := q.Next(); ok && q.Len() > 0 {
		// qdisc_watchdog_schedule_range: leave an armed watchdog alone
		// when its expiry does not change.
		if t := d.watchdog.timer; !t.Pending() || t.When() != max(at, now) {
			t.ResetAt(at)
		}
	}
}

// hardXmit counts, shows the frames to taps and hands them to the driver
// (dev_hard_start_xmit).
func (d *Device) hardXmit(bt *skb.Batch) {
	t := d.table
	for _, b := range bt.Bufs() {
		d.Stats.TxPackets++
		d.Stats.TxBytes += uint64(b.Len())
		b.Ifindex = d.ifindex
		if len(t.taps) > 0 {
			t.deliverTaps(d, b, DirOut)
		}
	}
	d.drv.Xmit(d, bt)
}
