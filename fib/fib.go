package fib

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/netdev"
)

// maxTables bounds the number of routing tables of a namespace.
const maxTables = 4096

// FIB is a namespace's routing state.
type FIB struct {
	l      *ipv4.Layer
	devs   *netdev.Table
	tables map[uint32]*table
	low    [256]*table // tables[id] for id < 256, without a map access per rule
	st     *infoStore
	rules  []Rule
	notify []Notifier
	pmtu   pmtuCache
	sysctl Sysctl
	seed   uint32
	// customRules: a rule was added (fib4_has_custom_rules).
	customRules bool
	// defaultRules: the rules are the three default ones, so a lookup
	// can skip the rule walk (lookupDefault). Kept by rulesChanged.
	defaultRules bool
	// gen is the route generation (rt_genid): bumped by every change
	// that could change a lookup's answer, so that a route cached
	// outside the FIB (a socket's, see Genid) is known to be stale.
	gen uint64
}

// New creates the FIB of l's namespace with tables local, main and
// default and the three default rules, and wires it into l.
func New(l *ipv4.Layer) *FIB {
	f := &FIB{
		l: l, devs: l.Devices(), tables: map[uint32]*table{}, st: newInfoStore(),
		sysctl: Sysctl{MTUExpires: 600 * time.Second, MinPMTU: 552, MaxPMTUEntries: 4096},
		seed:   l.Exec().Rand().Uint32(),
	}
	for _, id := range []uint32{unix.RT_TABLE_LOCAL, unix.RT_TABLE_MAIN, unix.RT_TABLE_DEFAULT} {
		f.tables[id] = newTable(id, f.st)
		f.low[id] = f.tables[id]
	}
	f.rules = []Rule{
		defaultRule(0, unix.RT_TABLE_LOCAL),
		defaultRule(32766, unix.RT_TABLE_MAIN),
		defaultRule(32767, unix.RT_TABLE_DEFAULT),
	}
	f.rulesChanged()
	f.pmtu.init()
	l.SetRouter(f, f)
	l.SetPMTU(f)
	f.devs.Subscribe(f.devEvent)
	return f
}

func defaultRule(prio, table uint32) Rule {
	return Rule{Priority: prio, Action: unix.FR_ACT_TO_TBL, Table: table, SuppressPrefixLen: -1, SuppressIfgroup: -1, Protocol: unix.RTPROT_KERNEL}
}

// Sysctl returns the FIB's settings for changing.
func (f *FIB) Sysctl() *Sysctl { return &f.sysctl }

// Subscribe registers a notifier.
func (f *FIB) Subscribe(n Notifier) { f.notify = append(f.notify, n) }

func (f *FIB) emit(ev Event, r *Route, rule *Rule, info Info) {
	for _, n := range f.notify {
		n(ev, r, rule, info)
	}
}

// emitRoute notifies about alias ai of t, materialising it only when
// someone listens.
func (f *FIB) emitRoute(ev Event, t *table, ai uint32, info Info) {
	if len(f.notify) != 0 {
		f.emit(ev, t.route(ai), nil, info)
	}
}

// Len is the number of routes in all tables.
func (f *FIB) Len() int {
	n := 0
	for _, t := range f.tables {
		n += t.nroute
	}
	return n
}

// Tables lists the table ids in use, ascending.
func (f *FIB) Tables() []uint32 {
	ids := make([]uint32, 0, len(f.tables))
	for id := range f.tables {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Walk visits the routes of one table (0: every table, in the kernel's
// dump order: table ids ascending... local last as the kernel's hash
// order puts 255 after main) until fn returns false.
func (f *FIB) Walk(tableID uint32, fn func(*Route) bool) {
	if tableID != 0 {
		if t := f.tables[tableID]; t != nil {
			t.walk(fn)
		}
		return
	}
	for _, id := range f.dumpOrder() {
		if !f.tables[id].walk(fn) {
			return
		}
	}
}

// dumpOrder is the order the kernel dumps tables in: its table hash has
// 256 buckets indexed by id&255, walked from 0, so main (254) comes before
// local (255), and numbered tables by their low byte.
func (f *FIB) dumpOrder() []uint32 {
	ids := f.Tables()
	sort.SliceStable(ids, func(i, j int) bool {
		if ids[i]&255 != ids[j]&255 {
			return ids[i]&255 < ids[j]&255
		}
		return ids[i] < ids[j]
	})
	return ids
}

func (f *FIB) table(id uint32, create bool) (*table, error) {
	if id == 0 {
		id = unix.RT_TABLE_MAIN
	}
	t := f.tables[id]
	if t == nil && create {
		if len(f.tables) >= maxTables {
			return nil, fmt.Errorf("too many routing tables: %w", syscall.ENOBUFS)
		}
		t = newTable(id, f.st)
		f.tables[id] = t
		if id < 256 {
			f.low[id] = t
		}
	}
	return t, nil
}

// tab is f.tables[id], fast for the ids below 256.
func (f *FIB) tab(id uint32) *table {
	if id < 256 {
		return f.low[id]
	}
	return f.tables[id]
}

func (f *FIB) dev(ifindex int) *netdev.Device { return f.devs.ByIndex(ifindex) }

// Add inserts r (fib_table_insert) with the semantics of the netlink
// flags NLM_F_CREATE, EXCL, REPLACE and APPEND.
func (f *FIB) Add(r Route, nlflags uint16, info Info) error {
	f.flushCache() // validate may mark nexthops; a refused add costs a re-lookup only
	if err := f.validate(&r); err != nil {
		return err
	}
	t, err := f.table(r.Table, nlflags&unix.NLM_F_CREATE != 0)
	if err != nil {
		return err
	}
	if t == nil {
		return extErr(syscall.ENOENT, "FIB table does not exist")
	}
	r.Table = t.id
	var match, same uint32 // alias index+1
	for _, ai := range t.chain(r.Dst) {
		o := t.st.infos[t.aliases[ai].info]
		if t.aliases[ai].tos == r.TOS && o.Priority == r.Priority {
			if match == 0 {
				match = ai + 1
			}
			if sameRoute(o, &r) {
				same = ai + 1
			}
		}
	}
	switch {
	case match != 0 && nlflags&unix.NLM_F_EXCL != 0:
		return fmt.Errorf("route exists: %w", syscall.EEXIST)
	case match != 0 && nlflags&unix.NLM_F_REPLACE != 0:
		// The replaced entry leaves silently; the new one takes its
		// place and is notified with NLM_F_REPLACE, as rtmsg_fib does.
		ii := f.st.acquire(&r)
		t.remove(match - 1)
		ai := t.insert(key(r.Dst), r.Dst.Bits(), r.TOS, ii, false)
		info.NlFlags = unix.NLM_F_REPLACE
		f.emitRoute(RouteAdd, t, ai, info)
		return nil
	case same != 0:
		return fmt.Errorf("route exists: %w", syscall.EEXIST)
	case nlflags&unix.NLM_F_CREATE == 0:
		return fmt.Errorf("no such route: %w", syscall.ENOENT)
	}
	ai := t.insert(key(r.Dst), r.Dst.Bits(), r.TOS, f.st.acquire(&r), nlflags&unix.NLM_F_APPEND != 0)
	// The notification's flags are fib_table_insert's, not the request's.
	info.NlFlags = unix.NLM_F_CREATE | unix.NLM_F_EXCL | nlflags&unix.NLM_F_APPEND
	f.emitRoute(RouteAdd, t, ai, info)
	return nil
}

// sameRoute reports whether two aliases of one prefix are the same route
// (fib_table_insert's duplicate check: type, scope, nexthops).
func sameRoute(a, b *Route) bool {
	if a.Type != b.Type || a.Scope != b.Scope || a.Prefsrc != b.Prefsrc || len(a.Nexthops) != len(b.Nexthops) {
		return false
	}
	for i := range a.Nexthops {
		x, y := a.Nexthops[i], b.Nexthops[i]
		if x.Gateway != y.Gateway || x.Ifindex != y.Ifindex || max(x.Weight, 1) != max(y.Weight, 1) {
			return false
		}
	}
	return true
}

// validate checks and completes a route as fib_create_info and
// fib_check_nh do.
func (f *FIB) validate(r *Route) error {
	if !r.Dst.IsValid() || !r.Dst.Addr().Is4() {
		return fmt.Errorf("invalid prefix: %w", syscall.EINVAL)
	}
	r.Dst = r.Dst.Masked()
	if r.Type == 0 {
		r.Type = unix.RTN_UNICAST
	}
	if r.Type > unix.RTN_XRESOLVE {
		return fmt.Errorf("invalid route type: %w", syscall.EINVAL)
	}
	if r.Scope > unix.RT_SCOPE_HOST {
		return extErr(syscall.EINVAL, "Invalid scope")
	}
	switch r.Type {
	case unix.RTN_BLACKHOLE, unix.RTN_UNREACHABLE, unix.RTN_PROHIBIT, unix.RTN_THROW:
		for _, nh := range r.Nexthops {
			if nh.Gateway.IsValid() || nh.Ifindex != 0 {
				return fmt.Errorf("nexthop is not allowed for this route type: %w", syscall.EINVAL)
			}
		}
		r.Nexthops = []Nexthop{{Weight: 1}}
		return nil
	}
	if len(r.Nexthops) == 0 {
		return fmt.Errorf("no nexthop: %w", syscall.EINVAL)
	}
	if r.Type == unix.RTN_LOCAL && r.Scope == unix.RT_SCOPE_UNIVERSE {
		r.Scope = unix.RT_SCOPE_HOST
	}
	if r.Scope == unix.RT_SCOPE_HOST && r.Type != unix.RTN_LOCAL {
		return extErr(syscall.EINVAL, "Invalid scope")
	}
	for i := range r.Nexthops {
		if err := f.checkNexthop(r, &r.Nexthops[i]); err != nil {
			return err
		}
	}
	if r.Prefsrc.IsValid() && r.Type != unix.RTN_LOCAL && !f.l.IsLocal(r.Prefsrc) && r.Prefsrc != r.Dst.Addr() {
		return extErr(syscall.EINVAL, "Invalid prefsrc address")
	}
	return nil
}

// checkNexthop is fib_check_nh.
func (f *FIB) checkNexthop(r *Route, nh *Nexthop) error {
	if err := f.checkNexthopInner(r, nh); err != nil {
		return err
	}
	if r.Scope != unix.RT_SCOPE_HOST {
		f.markLink(nh)
	}
	return nil
}

// markLink sets RTNH_F_LINKDOWN on a nexthop whose device has no carrier,
// as fib_check_nh does and as `ip route` shows ("linkdown").
func (f *FIB) markLink(nh *Nexthop) {
	if d := f.dev(nh.Ifindex); d != nil && d.Flags()&netdev.FlagLoopback == 0 && !d.Carrier() {
		nh.Flags |= unix.RTNH_F_LINKDOWN
	}
}

func (f *FIB) checkNexthopInner(r *Route, nh *Nexthop) error {
	if nh.Weight <= 0 {
		nh.Weight = 1
	}
	if nh.Weight > 256 {
		return fmt.Errorf("invalid nexthop weight: %w", syscall.EINVAL)
	}
	nh.Flags &^= unix.RTNH_F_DEAD | unix.RTNH_F_LINKDOWN
	var dev *netdev.Device
	if nh.Ifindex != 0 {
		if dev = f.dev(nh.Ifindex); dev == nil {
			return extErr(syscall.ENODEV, "Nexthop device does not exist")
		}
	}
	if r.Scope == unix.RT_SCOPE_HOST {
		if dev == nil {
			return fmt.Errorf("local route needs a device: %w", syscall.EINVAL)
		}
		return nil
	}
	if !nh.Gateway.IsValid() {
		if dev == nil {
			return fmt.Errorf("nexthop needs a device: %w", syscall.EINVAL)
		}
		if !dev.IsUp() {
			return extErr(syscall.ENETDOWN, "Device for nexthop is not up")
		}
		return nil
	}
	if !nh.Gateway.Is4() {
		return extErr(syscall.EINVAL, "Invalid gateway address")
	}
	if nh.Flags&unix.RTNH_F_ONLINK != 0 {
		if dev == nil {
			return extErr(syscall.EINVAL, "Nexthop device required for onlink")
		}
		if !dev.IsUp() {
			return extErr(syscall.ENETDOWN, "Nexthop device is not up")
		}
		return nil
	}
	// The gateway must be reachable through a route of narrower scope
	// (link, for a universe route) in the route's table, else main.
	tid := r.Table
	if tid == 0 {
		tid = unix.RT_TABLE_MAIN
	}
	scope := r.Scope + 1
	if r.Scope >= unix.RT_SCOPE_LINK {
		scope = unix.RT_SCOPE_LINK
	}
	// The route's own table first, then what fib_lookup would try with
	// the default rules: local before main (so a local address as
	// gateway resolves to its local route, as in Linux).
	ids := []uint32{tid, unix.RT_TABLE_LOCAL, unix.RT_TABLE_MAIN, unix.RT_TABLE_DEFAULT}
	if tid == unix.RT_TABLE_MAIN {
		ids = ids[1:]
	}
	var via *Route
	for _, id := range ids {
		t := f.tables[id]
		if t == nil {
			continue
		}
		t.scan(addrU32(nh.Gateway), func(_ uint32, c *Route) bool {
			if c.Scope < scope || c.Type != unix.RTN_UNICAST && c.Type != unix.RTN_LOCAL {
				return false
			}
			if dev == nil || c.Nexthops[0].Ifindex == dev.Ifindex() {
				via = c
				return true
			}
			return false
		})
		if via != nil {
			break
		}
	}
	if via == nil {
		return extErr(syscall.ENETUNREACH, "Nexthop has invalid gateway")
	}
	// nh_scope: link through a connected route; host when the gateway
	// is one of our addresses, which makes it no gateway at all.
	nh.scope = via.Scope
	if dev == nil {
		nh.Ifindex = via.Nexthops[0].Ifindex
		dev = f.dev(nh.Ifindex)
	}
	if dev == nil || !dev.IsUp() {
		return extErr(syscall.ENETDOWN, "Nexthop device is not up")
	}
	return nil
}

// Delete removes the first route matching r (fib_table_delete): Dst and
// Table must match; TOS, Priority, Type, Protocol, Scope
// (RT_SCOPE_NOWHERE: any), Prefsrc and the nexthop fields only when set.
func (f *FIB) Delete(r Route, info Info) error {
	f.flushCache()
	t, ai := f.find(r)
	if t == nil {
		return fmt.Errorf("no such route: %w", syscall.ESRCH)
	}
	f.removeNotify(t, ai, info)
	return nil
}

func (f *FIB) removeNotify(t *table, ai uint32, info Info) {
	var rt *Route
	if len(f.notify) != 0 {
		rt = t.route(ai)
	}
	t.remove(ai)
	if rt != nil {
		f.emit(RouteDel, rt, nil, info)
	}
}

func (f *FIB) find(r Route) (*table, uint32) {
	id := r.Table
	if id == 0 {
		id = unix.RT_TABLE_MAIN
	}
	t := f.tables[id]
	if t == nil || !r.Dst.IsValid() || !r.Dst.Addr().Is4() {
		return nil, 0
	}
	for _, ai := range t.chain(r.Dst.Masked()) {
		o := t.st.infos[t.aliases[ai].info]
		if t.aliases[ai].tos != r.TOS ||
			r.Priority != 0 && o.Priority != r.Priority ||
			r.Type != 0 && o.Type != r.Type ||
			r.Protocol != 0 && o.Protocol != r.Protocol ||
			r.Scope != unix.RT_SCOPE_NOWHERE && o.Scope != r.Scope ||
			r.Prefsrc.IsValid() && o.Prefsrc != r.Prefsrc {
			continue
		}
		if !nexthopsMatch(o.Nexthops, r.Nexthops) {
			continue
		}
		return t, ai
	}
	return nil, 0
}

// nexthopsMatch is fib_nh_match: every given nexthop field must agree.
func nexthopsMatch(have, want []Nexthop) bool {
	if len(want) == 0 {
		return true
	}
	if len(want) > 1 && len(want) != len(have) {
		return false
	}
	for i, w := range want {
		if i >= len(have) {
			return false
		}
		h := have[i]
		if w.Ifindex != 0 && h.Ifindex != w.Ifindex || w.Gateway.IsValid() && h.Gateway != w.Gateway {
			return false
		}
	}
	return true
}

// AddKernelRoute adds a route an address implies (fib_magic, NEWROUTE
// with NLM_F_CREATE|NLM_F_APPEND; notified with pid and seq 0).
func (f *FIB) AddKernelRoute(kr ipv4.KernelRoute) error {
	f.flushCache()
	r := Route{
		Table: kr.Table, Dst: kr.Dst, Type: kr.Type, Scope: kr.Scope, Protocol: unix.RTPROT_KERNEL,
		Prefsrc: kr.Prefsrc, Priority: kr.Priority, Nexthops: []Nexthop{{Ifindex: kr.Ifindex, Weight: 1}},
	}
	if t := f.tables[r.Table]; t != nil {
		for _, ai := range t.chain(r.Dst) {
			o := t.st.infos[t.aliases[ai].info]
			if o.Type == r.Type && o.Priority == r.Priority && o.Nexthops[0].Ifindex == kr.Ifindex && o.Prefsrc == r.Prefsrc {
				return nil // fib_magic on an existing route: nothing changes
			}
		}
	}
	if r.Scope != unix.RT_SCOPE_HOST {
		f.markLink(&r.Nexthops[0])
	}
	t, _ := f.table(r.Table, true)
	r.Table = t.id
	ai := t.insert(key(r.Dst), r.Dst.Bits(), 0, f.st.acquire(&r), true)
	f.emitRoute(RouteAdd, t, ai, Info{NlFlags: unix.NLM_F_CREATE | unix.NLM_F_EXCL})
	return nil
}

// DelKernelRoute removes a route an address implied (fib_magic
// DELROUTE: notified).
func (f *FIB) DelKernelRoute(kr ipv4.KernelRoute) error {
	f.flushCache()
	r := Route{Table: kr.Table, Dst: kr.Dst, Type: kr.Type, Scope: unix.RT_SCOPE_NOWHERE, Prefsrc: kr.Prefsrc,
		Nexthops: []Nexthop{{Ifindex: kr.Ifindex}}}
	t, ai := f.find(r)
	if t == nil {
		return nil
	}
	f.removeNotify(t, ai, Info{})
	return nil
}

// FlushDev removes, silently, the routes through ifindex when its link
// goes down (fib_sync_down_dev + fib_flush): nexthops die; a route whose
// nexthops are all dead goes. Host-scope (local) routes stay.
func (f *FIB) FlushDev(ifindex int) { f.syncDown(ifindex, false) }

func (f *FIB) syncDown(ifindex int, force bool) {
	f.flushCache()
	kill := map[uint32]bool{}
	f.st.each(func(i uint32, r *Route) {
		if r.Scope == unix.RT_SCOPE_HOST && !force {
			return
		}
		dead := 0
		hit := false
		for i := range r.Nexthops {
			nh := &r.Nexthops[i]
			if nh.Ifindex == ifindex {
				nh.Flags |= unix.RTNH_F_DEAD | unix.RTNH_F_LINKDOWN
				hit = true
			}
			if nh.Flags&unix.RTNH_F_DEAD != 0 {
				dead++
			}
		}
		if hit && dead == len(r.Nexthops) {
			kill[i] = true
		}
	})
	if len(kill) != 0 {
		f.removeIf(func(t *table, ai uint32) bool { return kill[t.aliases[ai].info] })
	}
	f.pmtu.flush()
}

// removeIf silently removes the routes pred selects.
func (f *FIB) removeIf(pred func(t *table, ai uint32) bool) {
	f.flushCache()
	for _, t := range f.tables {
		for _, ai := range t.all() {
			if t.nroute == 0 {
				break
			}
			if t.aliases[ai].state&aliasLive != 0 && pred(t, ai) {
				t.remove(ai)
			}
		}
	}
}

// FlushPrefsrc silently removes routes whose preferred source was a
// deleted address (fib_sync_down_addr).
func (f *FIB) FlushPrefsrc(src netip.Addr) {
	f.removeIf(func(t *table, ai uint32) bool {
		r := t.st.infos[t.aliases[ai].info]
		return r.Prefsrc == src && r.Type != unix.RTN_LOCAL
	})
}

func (f *FIB) devEvent(ev netdev.Event, d *netdev.Device) {
	// Every device event, as fib_netdev_event ends in rt_cache_flush
	// (and a route caches the device pointer, gone on unregister).
	f.flushCache()
	switch ev {
	case netdev.EventUnregister:
		f.syncDown(d.Ifindex(), true)
	case netdev.EventChange:
		// Carrier changes (fib_sync_down_dev/fib_sync_up with
		// NETDEV_CHANGE): nexthops through d gain or lose LINKDOWN.
		f.st.each(func(_ uint32, r *Route) {
			for i := range r.Nexthops {
				nh := &r.Nexthops[i]
				if nh.Ifindex != d.Ifindex() || nh.Flags&unix.RTNH_F_DEAD != 0 || r.Scope == unix.RT_SCOPE_HOST {
					continue
				}
				if d.Carrier() {
					nh.Flags &^= unix.RTNH_F_LINKDOWN
				} else if d.Flags()&netdev.FlagLoopback == 0 {
					nh.Flags |= unix.RTNH_F_LINKDOWN
				}
			}
		})
	case netdev.EventUp:
		f.st.each(func(_ uint32, r *Route) {
			for i := range r.Nexthops {
				if r.Nexthops[i].Ifindex == d.Ifindex() {
					r.Nexthops[i].Flags &^= unix.RTNH_F_DEAD | unix.RTNH_F_LINKDOWN
				}
			}
		})
	}
}

// extErr is an error with the extended-ACK text the kernel sends for it.
func extErr(errno syscall.Errno, msg string) error { return &netdev.ExtError{Errno: errno, Msg: msg} }
