package neigh

import (
	"fmt"
	"net/netip"
	"syscall"
	"time"

	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
)

// maxProbes is neigh_max_probes.
func (e *Entry) maxProbes(p *parms) int {
	n := p.UcastProbes + p.AppProbes
	if e.State&StateProbe != 0 {
		return n + p.MCastReprobes
	}
	return n + p.McastProbes
}

// eventSend is __neigh_event_send for an entry that is not usable: start
// or continue resolution and queue b (which may be nil).
func (t *Table) eventSend(e *Entry, b *skb.Buf) {
	p := t.parms(e.Dev.Ifindex())
	now := t.exec.Now()
	immediate := false
	if e.State&(StateStale|StateIncomplete) == 0 { // NONE or FAILED
		if p.McastProbes+p.AppProbes == 0 {
			e.State = StateFailed
			e.Updated = now
			if b != nil {
				b.Free()
			}
			return
		}
		// Broadcast rounds only: start above the unicast budget.
		e.Probes = p.UcastProbes
		e.State = StateIncomplete
		e.Updated = now
		immediate = true
		e.timer.Reset(max(p.RetransTime, minTimer))
	} else if e.State == StateStale {
		e.State = StateDelay
		e.Updated = now
		e.timer.Reset(p.DelayFirstProbe)
	}
	if e.State == StateIncomplete && b != nil {
		e.enqueue(b, p.QueueLenBytes)
		b = nil
	}
	if immediate {
		t.probe(e)
	}
	if b != nil { // DELAY from STALE with a nil-queue caller: nothing to send
		b.Free()
	}
}

// probe is neigh_probe: solicit with the newest queued packet as context.
func (t *Table) probe(e *Entry) {
	p := t.parms(e.Dev.Ifindex())
	var q *skb.Buf
	if e.qtail != nil {
		q = e.qtail.Clone()
		q.Next = nil
	}
	n := e.Probes - p.UcastProbes
	e.Probes++
	switch {
	case n < 0:
		t.ops.Solicit(t, e, true, q)
	case n-p.AppProbes < 0:
		// neigh_app_ns: a user-space daemon (arpd) would be asked;
		// usnet has none, so the round passes silently.
		if q != nil {
			q.Free()
		}
	default:
		t.ops.Solicit(t, e, false, q)
	}
}

// timerHandler is neigh_timer_handler. Deadline comparisons treat "at the
// deadline" as expired: Linux's timer wheel fires long timers late, so its
// time_before_eq boundary case does not occur in practice.
func (e *Entry) timerHandler() {
	t := e.t
	if e.dead || e.State&inTimer == 0 {
		return
	}
	p := t.parms(e.Dev.Ifindex())
	now := t.exec.Now()
	next := now + max(p.RetransTime, minTimer)
	notify := false
	switch {
	case e.State&StateReachable != 0:
		switch {
		case now < e.Confirmed+p.reachable:
			next = e.Confirmed + p.reachable
		case now < e.Used+p.DelayFirstProbe:
			e.State = StateDelay
			e.Updated = now
			next = now + p.DelayFirstProbe
		default:
			e.State = StateStale
			e.Updated = now
			notify = true
		}
	case e.State&StateDelay != 0:
		if now < e.Confirmed+p.DelayFirstProbe {
			e.State = StateReachable
			e.Updated = now
			notify = true
			next = e.Confirmed + p.reachable
		} else {
			e.State = StateProbe
			e.Updated = now
			e.Probes = 0
			notify = true
		}
	}
	if e.State&(StateIncomplete|StateProbe) != 0 && e.Probes >= e.maxProbes(p) {
		e.State = StateFailed
		t.invalidate(e)
		t.notify(EventNew, e)
		return
	}
	if e.State&inTimer != 0 {
		e.timer.ResetAt(max(next, now+minTimer))
	}
	if e.State&(StateIncomplete|StateProbe) != 0 {
		t.probe(e)
	}
	if notify {
		t.notify(EventNew, e)
	}
}

// invalidate is neigh_invalidate: resolution failed, so every queued
// packet is reported to the protocol (ICMP host unreachable) and dropped.
func (t *Table) invalidate(e *Entry) {
	t.Stats.ResFailed++
	e.Updated = t.exec.Now()
	rep, _ := t.ops.(ErrorReporter)
	for e.State == StateFailed && !e.dead {
		b := e.dequeue()
		if b == nil {
			break
		}
		if rep != nil {
			rep.ErrorReport(t, e, b)
		} else {
			b.Free()
		}
	}
	e.purge()
}

// Update is neigh_update on the entry for addr on dev, which must exist
// (ENOENT otherwise). See UpdateEntry.
func (t *Table) Update(dev *netdev.Device, addr netip.Addr, lladdr *[6]byte, state State, flags UpdateFlags) error {
	e := t.entries[key{dev.Ifindex(), addr}]
	if e == nil {
		return fmt.Errorf("neigh: no entry for %v on %s: %w", addr, dev.Name(), syscall.ENOENT)
	}
	return t.UpdateEntry(e, lladdr, state, flags)
}

// EventNS is neigh_event_ns: a solicitation from addr carrying lladdr
// creates or refreshes its entry as STALE. It returns the entry, or nil
// when the table is full.
func (t *Table) EventNS(dev *netdev.Device, addr netip.Addr, lladdr [6]byte) *Entry {
	e, err := t.LookupOrCreate(dev, addr)
	if err != nil {
		return nil
	}
	_ = t.UpdateEntry(e, &lladdr, StateStale, UpdateOverride)
	return e
}

// UpdateEntry is __neigh_update: move e to state new with link-layer
// address lladdr (nil: keep the known one), under the override rules of
// flags. On becoming valid the queued packets are transmitted in order.
// Errors are EPERM (non-admin change of a NOARP or PERMANENT entry) and
// EINVAL (no address given for an entry that has none).
func (t *Table) UpdateEntry(e *Entry, lladdr *[6]byte, new State, flags UpdateFlags) error {
	old := e.State
	if e.dead {
		return fmt.Errorf("neigh: entry is dead: %w", syscall.ENOENT)
	}
	if flags&UpdateAdmin == 0 && old&(StateNoARP|StatePermanent) != 0 {
		return fmt.Errorf("neigh: %v is %v: %w", e.Addr, old, syscall.EPERM)
	}
	extChanged := t.updateExtLearned(e, flags)
	notify := extChanged
	now := t.exec.Now()
	if !new.Valid() {
		e.timer.Stop()
		e.State = new
		if (old^new)&StatePermanent != 0 {
			t.updateGC(e)
		}
		notify = notify || old.Valid()
		if old&(StateIncomplete|StateProbe) != 0 && new&StateFailed != 0 {
			t.invalidate(e)
			notify = true
		}
		if notify {
			t.notify(EventNew, e)
		}
		return nil
	}
	var ll [6]byte
	switch {
	case lladdr != nil:
		ll = *lladdr
	case old.Valid():
		ll = e.LLAddr
	default:
		if extChanged {
			t.notify(EventNew, e)
		}
		return fmt.Errorf("neigh: no link-layer address for %v: %w", e.Addr, syscall.EINVAL)
	}
	changed := !old.Valid() || ll != e.LLAddr
	if new.Connected() {
		e.Confirmed = now
	}
	updateRouter := flags&UpdateOverrideIsRouter != 0
	if old.Valid() {
		if changed && flags&UpdateOverride == 0 {
			updateRouter = false
			if flags&UpdateWeakOverride != 0 && old.Connected() {
				ll, changed = e.LLAddr, false
				new = StateStale
			} else {
				t.finishUpdate(e, updateRouter, flags, extChanged)
				return nil
			}
		} else if !changed && new == StateStale && flags&UpdateAdmin == 0 {
			new = old
		}
	}
	if new != old || changed {
		e.Updated = now
	}
	if new != old {
		e.timer.Stop()
		if new&StateProbe != 0 {
			e.Probes = 0
		}
		if new&inTimer != 0 {
			var d time.Duration // Linux arms DELAY, PROBE... at jiffies+0
			if new&StateReachable != 0 {
				d = t.parms(e.Dev.Ifindex()).reachable
			}
			e.timer.Reset(d)
		}
		e.State = new
		if (old^new)&StatePermanent != 0 {
			t.updateGC(e)
		}
		notify = true
	}
	if changed {
		e.LLAddr = ll
		e.rebuildHeader()
		if !new.Connected() {
			e.Confirmed = now - 2*t.parms(e.Dev.Ifindex()).BaseReachable
		}
		notify = true
	}
	if new != old && !old.Valid() {
		t.flushQueue(e)
	}
	t.finishUpdate(e, updateRouter, flags, notify)
	return nil
}

// finishUpdate applies the router flag and notifies.
func (t *Table) finishUpdate(e *Entry, updateRouter bool, flags UpdateFlags, notify bool) {
	if updateRouter {
		f := e.Flags &^ FlagRouter
		if flags&UpdateIsRouter != 0 {
			f |= FlagRouter
		}
		if f != e.Flags {
			e.Flags = f
			notify = true
		}
	}
	if notify {
		t.notify(EventNew, e)
	}
}

// flushQueue transmits the packets that waited for resolution, in order,
// with the new header.
func (t *Table) flushQueue(e *Entry) {
	if e.qhead == nil {
		return
	}
	bt := skb.NewBatch(e.qlen)
	for e.State.Valid() {
		b := e.dequeue()
		if b == nil {
			break
		}
		if !e.pushHeader(b) {
			e.Dev.Stats.TxDropped++
			b.Free()
			continue
		}
		bt.Add(b)
	}
	e.purge()
	if bt.Len() > 0 {
		e.Dev.Xmit(bt)
	}
}

// updateExtLearned is neigh_update_ext_learned: an administrative update
// sets or clears NTF_EXT_LEARNED as UpdateExtLearned says. It reports
// whether the flag changed.
func (t *Table) updateExtLearned(e *Entry, flags UpdateFlags) bool {
	if flags&UpdateAdmin == 0 || (flags&UpdateExtLearned != 0) == (e.Flags&FlagExtLearned != 0) {
		return false
	}
	e.Flags ^= FlagExtLearned
	t.updateGC(e)
	return true
}

// updateGC is neigh_update_gc_list: PERMANENT and externally learned
// entries are not counted against the gc thresholds, so an entry that
// becomes or stops being one moves out of or into the count.
func (t *Table) updateGC(e *Entry) {
	exempt := e.State&StatePermanent != 0 || e.Flags&FlagExtLearned != 0
	if e.dead || exempt == e.gcExempt {
		return
	}
	e.gcExempt = exempt
	if exempt {
		t.gcEntries--
	} else {
		t.gcEntries++
	}
}
