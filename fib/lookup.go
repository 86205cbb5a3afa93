package fib

import (
	"errors"
	"net/netip"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/netdev"
)

// lookupKey is a flowi4 as the FIB sees it.
type lookupKey struct {
	dst, src     netip.Addr
	iif, oif     int
	mark         uint32
	tos, proto   uint8
	sport, dport uint16
	scope        uint8
	ignoreLink   bool // FIB_LOOKUP_IGNORE_LINKSTATE
	// skipLinkdown: the input device has ignore_routes_with_linkdown.
	skipLinkdown bool
}

// errThrow makes the rule engine try the next rule.
var errThrow = errors.New("throw")

// hit is a lookup's result: alias ai of table t, with its info r.
type hit struct {
	t  *table
	ai uint32
	r  *Route // the shared info: Dst and TOS are not set
}

func (h hit) plen() int { return int(h.t.aliases[h.ai].plen) }

// lookupOutput is fib_lookup: the rules in order, each pointing at a
// table. It returns the route, the chosen nexthop and the table.
func (f *FIB) lookupOutput(k *lookupKey) (hit, int, error) {
	if !k.dst.Is4() {
		return hit{}, 0, syscall.EAFNOSUPPORT
	}
	if f.defaultRules {
		return f.lookupDefault(k)
	}
	for i := 0; i < len(f.rules); i++ {
		r := &f.rules[i]
		if !f.ruleMatches(r, k) {
			continue
		}
		switch r.Action {
		case unix.FR_ACT_NOP:
			continue
		case unix.FR_ACT_BLACKHOLE:
			return hit{}, 0, syscall.EINVAL
		case unix.FR_ACT_UNREACHABLE:
			return hit{}, 0, syscall.ENETUNREACH // fib4_rule_action
		case unix.FR_ACT_PROHIBIT:
			return hit{}, 0, syscall.EACCES
		case unix.FR_ACT_GOTO:
			for j := i + 1; j < len(f.rules); j++ {
				if f.rules[j].Priority >= r.Goto {
					i = j - 1
					break
				}
			}
			continue
		}
		t := f.tab(r.Table)
		if t == nil {
			continue
		}
		rt, nh, ok, err := f.lookupIn(t, k)
		if !ok {
			continue
		}
		if err != nil {
			return hit{}, 0, err
		}
		// suppress_prefixlength: a match this short (or shorter) does
		// not count; try the next rule.
		if r.SuppressPrefixLen >= 0 && rt.plen() <= r.SuppressPrefixLen {
			continue
		}
		return rt, nh, nil
	}
	return hit{}, 0, syscall.ENETUNREACH
}

// lookupDefault is fib_lookup without custom rules (Linux's
// !fib_has_custom_rules path): while the rules are the three default
// ones, which match every packet, the lookup goes straight to tables
// local, main and default instead of walking the rules. The result is
// the one the walk would give.
func (f *FIB) lookupDefault(k *lookupKey) (hit, int, error) {
	for _, id := range [...]uint32{unix.RT_TABLE_LOCAL, unix.RT_TABLE_MAIN, unix.RT_TABLE_DEFAULT} {
		t := f.low[id]
		if t == nil {
			continue
		}
		if rt, nh, ok, err := f.lookupIn(t, k); ok {
			return rt, nh, err
		}
	}
	return hit{}, 0, syscall.ENETUNREACH
}

// lookupIn is one table's turn in fib_lookup: ok is false when the table
// has no route for k or a throw route sends the lookup on.
func (f *FIB) lookupIn(t *table, k *lookupKey) (rt hit, nh int, ok bool, err error) {
	rt, nh, err = f.tableLookup(t, k)
	switch {
	case err == errThrow || rt.r == nil && err == nil:
		return hit{}, 0, false, nil
	case err != nil:
		return hit{}, 0, true, err
	}
	return rt, nh, true, nil
}

// tableLookup is fib_table_lookup: the routes containing k.dst, longest
// prefix first (with backtracking), the first whose TOS, scope and
// nexthops fit. Written out rather than with table.scan and a closure:
// it runs once or twice per forwarded packet.
func (f *FIB) tableLookup(t *table, k *lookupKey) (hit, int, error) {
	a := addrU32(k.dst)
	for v := t.longest(a); v != 0; {
		plen := t.aliases[v-1].plen
		for ai := v; ai != 0; ai = t.aliases[ai-1].next {
			al := &t.aliases[ai-1]
			if al.tos != 0 && al.tos != k.tos {
				continue
			}
			r := t.st.infos[al.info]
			if r.Scope < k.scope {
				continue
			}
			h := hit{t: t, ai: ai - 1, r: r}
			switch r.Type {
			case unix.RTN_BLACKHOLE:
				return h, 0, syscall.EINVAL
			case unix.RTN_UNREACHABLE:
				return h, 0, syscall.EHOSTUNREACH
			case unix.RTN_PROHIBIT:
				return h, 0, syscall.EACCES
			case unix.RTN_THROW:
				return h, 0, errThrow
			}
			if nh, ok := f.selectNexthop(r, k); ok {
				return h, nh, nil
			}
		}
		v = t.shorter(a, int(plen))
	}
	return hit{}, 0, nil
}

// selectNexthop picks r's nexthop for k among the live ones (false: none
// is usable).
func (f *FIB) selectNexthop(r *Route, k *lookupKey) (int, bool) {
	nhSel, alive := 0, 0
	for i := range r.Nexthops {
		nh := &r.Nexthops[i]
		if nh.Flags&unix.RTNH_F_DEAD != 0 || nh.Flags&unix.RTNH_F_LINKDOWN != 0 && k.skipLinkdown && !k.ignoreLink {
			continue
		}
		if k.oif != 0 && nh.Ifindex != k.oif {
			continue
		}
		if alive == 0 {
			nhSel = i
		}
		alive++
	}
	if alive == 0 {
		return 0, false
	}
	if alive > 1 && k.oif == 0 {
		nhSel = f.selectMultipath(r, k)
	}
	return nhSel, true
}

// selectMultipath is fib_select_multipath: hash-threshold over the live
// nexthops by weight, the hash over L3 (policy 0) or L4 (policy 1) fields.
func (f *FIB) selectMultipath(r *Route, k *lookupKey) int {
	h := f.seed
	mix := func(v uint32) {
		h ^= v
		h *= 0x9e3779b1
		h ^= h >> 15
	}
	mix(addrU32(k.src))
	mix(addrU32(k.dst))
	if f.sysctl.MultipathHashPolicy == 1 {
		mix(uint32(k.proto))
		mix(uint32(k.sport)<<16 | uint32(k.dport))
	}
	total := 0
	for _, nh := range r.Nexthops {
		if nh.Flags&unix.RTNH_F_DEAD == 0 {
			total += max(nh.Weight, 1)
		}
	}
	x := int(uint64(h) * uint64(total) >> 32)
	for i, nh := range r.Nexthops {
		if nh.Flags&unix.RTNH_F_DEAD != 0 {
			continue
		}
		x -= max(nh.Weight, 1)
		if x < 0 {
			return i
		}
	}
	return 0
}

var limitedBroadcast = netip.AddrFrom4([4]byte{255, 255, 255, 255})

func (f *FIB) lo() *netdev.Device { return f.devs.ByIndex(1) }

// RouteOutput is ip_route_output_key for locally generated traffic.
func (f *FIB) RouteOutput(k *ipv4.FlowKey) (ipv4.Route, error) {
	rt, _, err := f.output(k)
	return rt, err
}

func (f *FIB) output(k *ipv4.FlowKey) (ipv4.Route, hit, error) {
	if k.Src.IsValid() && !k.Src.IsUnspecified() {
		if k.Src.IsMulticast() || k.Src == limitedBroadcast {
			return ipv4.Route{}, hit{}, syscall.EINVAL
		}
		if !f.l.IsLocal(k.Src) {
			return ipv4.Route{}, hit{}, syscall.ENETUNREACH // no device has it
		}
	}
	var oifDev *netdev.Device
	if k.Oif != 0 {
		if oifDev = f.dev(k.Oif); oifDev == nil {
			return ipv4.Route{}, hit{}, syscall.ENODEV
		}
	}
	if k.Dst == limitedBroadcast || k.Dst.IsMulticast() && oifDev != nil {
		if oifDev == nil {
			return ipv4.Route{}, hit{}, syscall.ENETUNREACH
		}
		typ := uint8(unix.RTN_BROADCAST)
		if k.Dst.IsMulticast() {
			typ = unix.RTN_MULTICAST
		}
		return ipv4.Route{Type: typ, Dev: oifDev, Scope: unix.RT_SCOPE_LINK, Src: f.src(k, oifDev, k.Dst, unix.RT_SCOPE_LINK)}, hit{}, nil
	}
	if k.Dst.IsUnspecified() {
		// Sending to 0.0.0.0 means to ourselves (ip_route_output_key:
		// daddr = saddr, or 127.0.0.1).
		d := k.Src
		if !d.IsValid() || d.IsUnspecified() {
			d = netip.AddrFrom4([4]byte{127, 0, 0, 1})
		}
		return ipv4.Route{Type: unix.RTN_LOCAL, Dev: f.lo(), Src: d, Scope: unix.RT_SCOPE_HOST}, hit{}, nil
	}
	lk := lookupKey{dst: k.Dst, src: k.Src, iif: 1, oif: k.Oif, mark: k.Mark, tos: k.TOS & 0x1e, proto: k.Proto, sport: k.Sport, dport: k.Dport}
	r, nh, err := f.lookupOutput(&lk)
	if err != nil {
		if errors.Is(err, syscall.ENETUNREACH) && oifDev != nil {
			// No route but an output device: assume the destination is
			// on its link, as the kernel does.
			return ipv4.Route{Type: unix.RTN_UNICAST, Dev: oifDev, Scope: unix.RT_SCOPE_LINK, Src: f.src(k, oifDev, k.Dst, unix.RT_SCOPE_LINK)}, hit{}, nil
		}
		return ipv4.Route{}, hit{}, err
	}
	var out ipv4.Route
	f.toRoute(&out, r.r, nh, k.Dst)
	out.Src = f.prefSrc(r.r, nh, k.Dst, k.Src)
	return out, r, nil
}

// toRoute turns a FIB entry into what IP needs, in *out, all but the
// source address (prefSrc), which forwarding does not use.
func (f *FIB) toRoute(out *ipv4.Route, r *Route, nh int, dst netip.Addr) {
	n := &r.Nexthops[nh]
	// Every field, one by one: a composite literal would be built in a
	// temporary and copied (see input).
	out.Type, out.Dev, out.Gateway, out.Src = r.Type, f.dev(n.Ifindex), n.Gateway, netip.Addr{}
	out.MTU, out.AdvMSS, out.Scope = int(r.Metrics.MTU), int(r.Metrics.AdvMSS), r.Scope
	if n.scope == unix.RT_SCOPE_HOST {
		out.Gateway = netip.Addr{} // rt_set_nexthop uses only link-scope gateways
	}
	if r.Type == unix.RTN_LOCAL {
		out.Dev = f.lo()
	}
	if len(f.pmtu.m) != 0 { // no clock reading while there are no exceptions
		if mtu, _ := f.pmtuFor(dst, f.l.Exec().Now()); mtu > 0 && (out.MTU == 0 || mtu < out.MTU) {
			out.MTU = mtu
		}
	}
}

// prefSrc is the source address of a locally generated packet to dst on
// nexthop nh of r: the one asked for, the route's prefsrc, or one chosen
// by inet_select_addr.
func (f *FIB) prefSrc(r *Route, nh int, dst, src netip.Addr) netip.Addr {
	n := &r.Nexthops[nh]
	switch {
	case src.IsValid() && !src.IsUnspecified():
		return src
	case r.Prefsrc.IsValid():
		return r.Prefsrc
	case r.Type == unix.RTN_LOCAL:
		return dst
	}
	via := dst
	if n.Gateway.IsValid() {
		via = n.Gateway
	}
	scope := r.Scope
	if n.Gateway.IsValid() && scope < unix.RT_SCOPE_LINK {
		scope = unix.RT_SCOPE_LINK
	}
	return f.l.SelectSource(f.dev(n.Ifindex), via, max(scope, unix.RT_SCOPE_UNIVERSE))
}

func (f *FIB) src(k *ipv4.FlowKey, dev *netdev.Device, dst netip.Addr, scope uint8) netip.Addr {
	if k.Src.IsValid() && !k.Src.IsUnspecified() {
		return k.Src
	}
	return f.l.SelectSource(dev, dst, scope)
}

// RouteInput is ip_route_input_slow for a datagram arriving on iif. It
// fills the caller's *rt (zero on error): a route is some 80 bytes, and
// this runs for every forwarded packet of a new flow.
func (f *FIB) RouteInput(k *ipv4.FlowKey, iif *netdev.Device, rt *ipv4.Route) error {
	_, err := f.input(k, iif, rt)
	return err
}

func (f *FIB) input(k *ipv4.FlowKey, iif *netdev.Device, out *ipv4.Route) (hit, error) {
	*out = ipv4.Route{}
	conf := f.l.Effective(iif.Ifindex())
	// Field by field: the compiler builds a composite literal in a
	// temporary and copies it with wide loads that stall on the narrow
	// stores just made (store forwarding), some 10 ns per packet.
	var lk lookupKey
	lk.dst, lk.src, lk.iif, lk.mark = k.Dst, k.Src, iif.Ifindex(), k.Mark
	lk.tos, lk.proto, lk.sport, lk.dport = k.TOS&0x1e, k.Proto, k.Sport, k.Dport
	lk.skipLinkdown = conf.IgnoreRoutesWithLinkdown
	r, nh, err := f.lookupOutput(&lk)
	if err != nil {
		if !conf.Forwarding && errors.Is(err, syscall.ENETUNREACH) {
			err = syscall.EHOSTUNREACH
		}
		return hit{}, err
	}
	switch r.r.Type {
	case unix.RTN_LOCAL:
		if err := f.validateSource(k, iif, &conf); err != nil {
			return r, err
		}
		*out = ipv4.Route{Type: unix.RTN_LOCAL, Dev: f.lo(), Scope: unix.RT_SCOPE_HOST, Src: k.Dst}
		return r, nil
	case unix.RTN_BROADCAST:
		if err := f.validateSource(k, iif, &conf); err != nil {
			return r, err
		}
		*out = ipv4.Route{Type: unix.RTN_BROADCAST, Dev: f.lo(), Scope: unix.RT_SCOPE_LINK}
		return r, nil
	case unix.RTN_UNICAST:
	default:
		return r, syscall.EINVAL // martian destination
	}
	if !conf.Forwarding {
		return r, syscall.EHOSTUNREACH
	}
	if err := f.validateSource(k, iif, &conf); err != nil {
		return r, err
	}
	f.toRoute(out, r.r, nh, k.Dst) // a forwarded packet keeps its source: no prefSrc
	return r, nil
}

// validateSource is fib_validate_source: reverse path filtering (strict:
// the route back to the source must leave by iif; loose: a route must
// exist) and local sources, which only accept_local allows.
func (f *FIB) validateSource(k *ipv4.FlowKey, iif *netdev.Device, conf *ipv4.DevConf) error {
	if !k.Src.IsValid() || k.Src.IsUnspecified() {
		return nil
	}
	if conf.RPFilter == 0 {
		if !conf.AcceptLocal && f.l.IsLocal(k.Src) && iif.Flags()&netdev.FlagLoopback == 0 {
			return syscall.EINVAL
		}
		return nil
	}
	rk := lookupKey{dst: k.Src, src: k.Dst, iif: 1, mark: k.Mark, tos: k.TOS & 0x1e}
	h, _, err := f.lookupOutput(&rk)
	if err != nil {
		return syscall.EXDEV
	}
	r := h.r
	if r.Type != unix.RTN_UNICAST && (r.Type != unix.RTN_LOCAL || !conf.AcceptLocal) {
		if r.Type == unix.RTN_LOCAL && iif.Flags()&netdev.FlagLoopback != 0 {
			return nil
		}
		return syscall.EINVAL
	}
	for _, nh := range r.Nexthops {
		if nh.Ifindex == iif.Ifindex() {
			return nil
		}
	}
	if conf.RPFilter == 1 {
		return syscall.EXDEV
	}
	return nil
}

// RTCF_* flags ip route get reports in rtm_flags.
const (
	rtcfLocal      = 0x80000000
	rtcfBroadcast  = 0x10000000
	rtcfMulticast  = 0x20000000
	rtcfDoRedirect = 0x01000000
)

// doRedirect reports whether a forwarded datagram would trigger an ICMP
// redirect (RTCF_DOREDIRECT, __mkroute_input): it leaves by the device it
// came in on, send_redirects is on, its source is directly connected
// there and on the same subnet as the next hop.
func (f *FIB) doRedirect(k *ipv4.FlowKey, iif int, rt *ipv4.Route) bool {
	if rt.Type != unix.RTN_UNICAST || rt.Dev == nil || rt.Dev.Ifindex() != iif || !f.l.Effective(iif).SendRedirects {
		return false
	}
	h, nh, err := f.lookupOutput(&lookupKey{dst: k.Src, iif: 1, mark: k.Mark})
	if err != nil || h.r.Nexthops[nh].Gateway.IsValid() {
		return false
	}
	for _, a := range f.l.Addrs(iif) {
		if a.Subnet().Contains(k.Src) && (!rt.Gateway.IsValid() || a.Subnet().Contains(rt.Gateway)) {
			return true
		}
	}
	return false
}

// Get answers `ip route get`: an input lookup when Iif is given, else an
// output lookup; with FibMatch, the matched entry.
func (f *FIB) Get(q Query) (Result, error) {
	k := ipv4.FlowKey{Dst: q.Dst, Src: q.Src, Oif: q.Oif, Mark: q.Mark, TOS: q.TOS, Proto: q.IPProto, Sport: q.Sport, Dport: q.Dport}
	res := Result{Dst: q.Dst, Src: q.Src, Iif: q.Iif}
	var rt ipv4.Route
	var r hit
	var err error
	if q.Iif != 0 {
		dev := f.dev(q.Iif)
		if dev == nil {
			return res, syscall.ENODEV
		}
		k.Iif = q.Iif
		r, err = f.input(&k, dev, &rt)
	} else {
		rt, r, err = f.output(&k)
	}
	if err != nil {
		if q.Iif != 0 && err == syscall.EXDEV {
			// A martian source (rp_filter) is EXDEV inside the input
			// path but RTM_GETROUTE answers EINVAL, as Linux 6.x does.
			err = syscall.EINVAL
		}
		return res, err
	}
	res.Type, res.Gateway, res.Scope = rt.Type, rt.Gateway, rt.Scope
	if rt.Dev != nil {
		res.Dev = rt.Dev.Ifindex()
	}
	if q.Iif == 0 {
		res.Prefsrc = rt.Src
	}
	res.Table = unix.RT_TABLE_MAIN
	if r.r != nil {
		res.Table = r.t.id
		res.Route = r.t.route(r.ai)
	}
	switch rt.Type {
	case unix.RTN_LOCAL:
		res.Flags |= rtcfLocal
	case unix.RTN_BROADCAST:
		res.Flags |= rtcfBroadcast | rtcfLocal
	case unix.RTN_MULTICAST:
		res.Flags |= rtcfMulticast
	}
	if q.Iif != 0 && f.doRedirect(&k, q.Iif, &rt) {
		res.Flags |= rtcfDoRedirect
	}
	res.MTU = rt.MTU // the route's mtu metric or a smaller learnt path MTU
	if r.r != nil {
		res.Metrics = r.r.Metrics
		res.Metrics.MTU = uint32(rt.MTU)
	}
	_, res.Expires = f.pmtuFor(q.Dst, f.l.Exec().Now())
	if q.FibMatch && r.r == nil {
		return res, syscall.ENETUNREACH
	}
	return res, nil
}
