package neigh

import (
	"fmt"
	"net/netip"
	"syscall"
	"time"

	"github.com/usnet/usnet/executor"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
)

// parms is one set of Params with the reachable_time drawn from it.
type parms struct {
	Params
	reachable time.Duration
}

// Table is the neighbour table of one protocol in one namespace
// (struct neigh_table). Executor only.
type Table struct {
	devs      *netdev.Table
	exec      executor.Executor
	ops       Ops
	etherType uint16

	entries map[key]*Entry
	// last is the entry of the previous Output: consecutive packets of a
	// batch usually share their next hop, and comparing a key is cheaper
	// than hashing it. remove clears it.
	last *Entry
	// head, tail: every entry in creation order (Linux's gc_list, which
	// also lists the exempt ones here; they are skipped).
	head, tail *Entry
	gcEntries  int // entries counted against the thresholds

	deflt    parms
	perDev   map[int]*parms
	lastRand time.Duration
	// lastFlush is when forced GC last ran (tbl->last_flush).
	lastFlush time.Duration
	gcTimer   *executor.Timer

	// GCThresh1..3 are gc_thresh1..3; GCInterval is kept for sysctl
	// compatibility: Linux's periodic work runs every
	// base_reachable_time/2 and does not read it.
	GCThresh1, GCThresh2, GCThresh3 int
	GCInterval                      time.Duration

	// proxies are the proxy entries (the pneigh table), keyed by
	// device index (0: every device) and address; at most MaxProxy.
	proxies  map[key]*Proxy
	MaxProxy int

	noarp     map[int]bool // last seen FlagNoARP of each device
	notifiers []Notifier
	Stats     Stats
}

// NewTable creates the table of protocol ops over the devices of dt and
// subscribes it to their events. Call on the namespace executor.
func NewTable(dt *netdev.Table, ops Ops) *Table {
	t := &Table{
		devs: dt, exec: dt.Net().Exec(), ops: ops, etherType: ops.EtherType(),
		entries: map[key]*Entry{},
		perDev:  map[int]*parms{},
		noarp:   map[int]bool{},
		proxies: map[key]*Proxy{}, MaxProxy: DefaultMaxProxy,
		GCThresh1: DefaultGCThresh1, GCThresh2: DefaultGCThresh2, GCThresh3: DefaultGCThresh3,
		GCInterval: 30 * time.Second,
	}
	t.deflt.Params = DefaultParams()
	t.deflt.reachable = t.randReach(t.deflt.BaseReachable)
	t.lastRand = t.exec.Now()
	t.lastFlush = t.exec.Now()
	t.gcTimer = t.exec.NewTimer(t.periodicGC)
	for _, d := range dt.Devices() {
		t.noarp[d.Ifindex()] = d.Flags()&netdev.FlagNoARP != 0
	}
	dt.Subscribe(t.devEvent)
	dt.Net().OnExit(t.destroy)
	return t
}

// Devices returns the device table.
func (t *Table) Devices() *netdev.Table { return t.devs }

// Exec returns the namespace executor.
func (t *Table) Exec() executor.Executor { return t.exec }

// Ops returns the protocol.
func (t *Table) Ops() Ops { return t.ops }

// randReach is neigh_rand_reach_time: uniform in [base/2, 3*base/2).
func (t *Table) randReach(base time.Duration) time.Duration {
	if base <= 0 {
		return 0
	}
	return time.Duration(t.exec.Rand().Int64N(int64(base))) + base/2
}

func (t *Table) parms(ifindex int) *parms {
	if p := t.perDev[ifindex]; p != nil {
		return p
	}
	return &t.deflt
}

// Params returns the parameters of device ifindex (0: the defaults new
// devices use).
func (t *Table) Params(ifindex int) Params { return t.parms(ifindex).Params }

// SetParams sets the parameters of device ifindex (0: the defaults). As
// the base_reachable_time sysctl handler does, it redraws reachable_time.
func (t *Table) SetParams(ifindex int, p Params) error {
	if p.UcastProbes < 0 || p.McastProbes < 0 || p.AppProbes < 0 || p.MCastReprobes < 0 ||
		p.QueueLenBytes < 0 || p.BaseReachable < 0 || p.RetransTime < 0 ||
		p.DelayFirstProbe < 0 || p.GCStaleTime < 0 || p.LockTime < 0 {
		return fmt.Errorf("neigh: negative parameter: %w", syscall.EINVAL)
	}
	np := &parms{Params: p, reachable: t.randReach(p.BaseReachable)}
	if ifindex == 0 {
		t.deflt = *np
		return nil
	}
	if t.devs.ByIndex(ifindex) == nil {
		return fmt.Errorf("neigh: no device %d: %w", ifindex, syscall.ENODEV)
	}
	t.perDev[ifindex] = np
	return nil
}

// ReachableTime returns the current reachable_time of device ifindex.
func (t *Table) ReachableTime(ifindex int) time.Duration { return t.parms(ifindex).reachable }

// Len returns the number of entries.
func (t *Table) Len() int { return len(t.entries) }

// Lookup returns the entry for addr on device ifindex, or nil.
func (t *Table) Lookup(ifindex int, addr netip.Addr) *Entry {
	return t.entries[key{ifindex, addr}]
}

// LookupOrCreate returns the entry for addr on dev, creating it if needed
// (__neigh_lookup with creat set). It fails with ENOBUFS when the table is
// full.
func (t *Table) LookupOrCreate(dev *netdev.Device, addr netip.Addr) (*Entry, error) {
	if e := t.entries[key{dev.Ifindex(), addr}]; e != nil {
		return e, nil
	}
	return t.create(dev, addr, false)
}

// create is ___neigh_create: bound check, allocation, constructor.
func (t *Table) create(dev *netdev.Device, addr netip.Addr, exempt bool) (*Entry, error) {
	now := t.exec.Now()
	if !exempt {
		n := t.gcEntries
		if n >= t.GCThresh3 || (n >= t.GCThresh2 && now > t.lastFlush+forcedGCAge) {
			if t.forcedGC() == 0 && n >= t.GCThresh3 {
				t.Stats.TableFulls++
				return nil, fmt.Errorf("neigh: table overflow: %w", syscall.ENOBUFS)
			}
		}
	}
	p := t.parms(dev.Ifindex())
	e := &Entry{
		Addr: addr, Dev: dev, t: t, k: key{dev.Ifindex(), addr},
		Updated: now, Used: now, Confirmed: now - 2*p.BaseReachable,
		gcExempt: exempt,
	}
	e.timer = t.exec.NewTimer(e.timerHandler)
	if c, ok := t.ops.(Constructor); ok {
		c.Construct(t, e)
	} else if dev.Flags()&(netdev.FlagNoARP|netdev.FlagLoopback) != 0 {
		e.State = StateNoARP
		e.LLAddr = dev.Addr()
	}
	e.rebuildHeader()
	t.entries[e.k] = e
	if t.tail == nil {
		t.head = e
	} else {
		t.tail.next = e
		e.prev = t.tail
	}
	t.tail = e
	if !exempt {
		t.gcEntries++
	}
	t.Stats.Allocs++
	if !t.gcTimer.Pending() {
		t.gcTimer.Reset(t.deflt.BaseReachable / 2)
	}
	return e, nil
}

// remove unlinks e, stops its timer, drops its queue and tells the
// subscribers (neigh_mark_dead + neigh_cleanup_and_release).
func (t *Table) remove(e *Entry) {
	if e.dead {
		return
	}
	e.dead = true
	if t.last == e {
		t.last = nil
	}
	e.timer.Stop()
	e.purge()
	delete(t.entries, e.k)
	if e.prev == nil {
		t.head = e.next
	} else {
		e.prev.next = e.next
	}
	if e.next == nil {
		t.tail = e.prev
	} else {
		e.next.prev = e.prev
	}
	e.prev, e.next = nil, nil
	if !e.gcExempt {
		t.gcEntries--
	}
	t.Stats.Destroys++
	t.notify(EventDelete, e)
}

// Output sends b, an L3 packet without link-layer header, to nexthop on
// dev (neigh_output / neigh_resolve_output). If the entry is usable, the
// cached header is pushed and b is appended to out, for the caller to hand
// to dev.Xmit. Otherwise b is queued on the entry and resolution starts;
// the table transmits it itself once resolved. Output takes ownership of b.
func (t *Table) Output(dev *netdev.Device, nexthop netip.Addr, b *skb.Buf, out *skb.Batch) {
	t.Stats.Lookups++
	k := key{dev.Ifindex(), nexthop}
	e := t.last
	if e == nil || e.k != k {
		e = t.entries[k]
	}
	if e == nil {
		var err error
		if e, err = t.create(dev, nexthop, false); err != nil {
			b.Free() // SKB_DROP_REASON_NEIGH_CREATEFAIL
			return
		}
	} else {
		t.Stats.Hits++
	}
	t.last = e
	now := t.exec.Now()
	e.Used = now
	switch e.State {
	case StateReachable, StatePermanent, StateNoARP, StateDelay, StateProbe:
	case StateStale:
		// First use of a stale entry: send now, probe if no
		// confirmation comes within delay_first_probe_time.
		e.State = StateDelay
		e.Updated = now
		e.timer.Reset(t.parms(dev.Ifindex()).DelayFirstProbe)
	default:
		t.eventSend(e, b)
		return
	}
	if !e.pushHeader(b) {
		dev.Stats.TxDropped++
		b.Free()
		return
	}
	out.Add(b)
}

// Confirm records upper-layer proof that addr on dev is reachable
// (dst_confirm_neigh / MSG_CONFIRM): the entry's timer then keeps or
// makes it REACHABLE.
func (t *Table) Confirm(dev *netdev.Device, addr netip.Addr) {
	if e := t.entries[key{dev.Ifindex(), addr}]; e != nil {
		e.Confirmed = t.exec.Now()
	}
}

// devEvent follows the devices as arp_netdev_event, ndisc_netdev_event
// and fib_disable_ip's arp_ifdown do.
func (t *Table) devEvent(ev netdev.Event, d *netdev.Device) {
	idx := d.Ifindex()
	switch ev {
	case netdev.EventRegister:
		t.noarp[idx] = d.Flags()&netdev.FlagNoARP != 0
	case netdev.EventChangeAddr:
		t.FlushDev(d, false)
	case netdev.EventChange:
		na := d.Flags()&netdev.FlagNoARP != 0
		if na != t.noarp[idx] {
			t.noarp[idx] = na
			t.FlushDev(d, false)
		}
		if !d.Carrier() && t.parms(idx).EvictNoCarrier {
			t.FlushDev(d, true) // neigh_carrier_down
			t.flushProxy(d, true)
		}
	case netdev.EventDown:
		t.FlushDev(d, false) // neigh_ifdown
		t.flushProxy(d, false)
	case netdev.EventUnregister:
		t.FlushDev(d, false)
		t.flushProxy(d, false)
		delete(t.perDev, idx)
		delete(t.noarp, idx)
	}
}

// FlushDev removes the entries of dev (neigh_flush_dev), all of them or
// all but the PERMANENT ones.
func (t *Table) FlushDev(d *netdev.Device, keepPermanent bool) {
	for e := t.head; e != nil; {
		next := e.next
		if e.Dev == d && !(keepPermanent && e.State&StatePermanent != 0) {
			t.remove(e)
		}
		e = next
	}
}

func (t *Table) destroy() {
	for t.head != nil {
		t.remove(t.head)
	}
	t.flushProxy(nil, false)
	t.gcTimer.Stop()
}
