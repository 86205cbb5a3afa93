package rtnl

import (
	"encoding/binary"
	"net/netip"
	"syscall"

	"github.com/usnet/usnet/fib"
	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

var (
	hNewRoute = handlers{doit: newRoute, hdrLen: unix.SizeofRtMsg}
	hDelRoute = handlers{doit: delRoute, hdrLen: unix.SizeofRtMsg}
	hGetRoute = handlers{doit: getRoute, dumpit: dumpRoutes, hdrLen: unix.SizeofRtMsg}
)

// haveFIB tells tests whether routes and rules are served.
const haveFIB = true

// subscribeFIB turns FIB changes into RTM_NEW/DELROUTE and
// RTM_NEW/DELRULE (rtmsg_fib, notify_rule).
func (st *nsState) subscribeFIB() {
	if st.ns.FIB == nil {
		return
	}
	st.ns.FIB.Subscribe(st.fibEvent)
}

func (st *nsState) fibEvent(ev fib.Event, r *fib.Route, rule *fib.Rule, info fib.Info) {
	st.beforeOther()
	h := netlink.Header{Seq: info.Seq, Pid: info.Portid}
	var group int
	var echo []uint16
	switch ev {
	case fib.RouteAdd, fib.RouteDel:
		h.Type, h.Flags, group = unix.RTM_NEWROUTE, info.NlFlags, unix.RTNLGRP_IPV4_ROUTE
		if ev == fib.RouteDel {
			h.Type = unix.RTM_DELROUTE
		}
		echo = routeTypes
	default:
		h.Type, group = unix.RTM_NEWRULE, unix.RTNLGRP_IPV4_RULE
		if ev == fib.RuleDel {
			h.Type = unix.RTM_DELRULE
		}
		echo = ruleTypes
	}
	// Only the requester named in info may have asked for an echo.
	if c := st.ctx(echo...); c == nil || c.pid != info.Portid {
		echo = nil
	}
	if !st.wants(group, echo...) {
		return
	}
	e := st.begin()
	m := e.BeginMessage(h)
	if r != nil {
		fillRoute(e, r)
	} else if rule != nil {
		fillRule(e, rule)
	}
	e.EndMessage(m)
	st.multicast(group, e.Bytes(), echo...)
}

var (
	routeTypes = []uint16{unix.RTM_NEWROUTE, unix.RTM_DELROUTE}
	ruleTypes  = []uint16{unix.RTM_NEWRULE, unix.RTM_DELRULE}
)

func (c *call) fibInfo() fib.Info {
	return fib.Info{Portid: c.s.port, Seq: c.h.Seq, NlFlags: c.h.Flags}
}

// metricSetters maps RTAX_* to the fib.Metrics fields.
func metricField(m *fib.Metrics, t uint16) *uint32 {
	switch t {
	case unix.RTAX_LOCK:
		return &m.Lock
	case unix.RTAX_MTU:
		return &m.MTU
	case unix.RTAX_WINDOW:
		return &m.Window
	case unix.RTAX_RTT:
		return &m.RTT
	case unix.RTAX_RTTVAR:
		return &m.RTTVar
	case unix.RTAX_SSTHRESH:
		return &m.SSThresh
	case unix.RTAX_CWND:
		return &m.Cwnd
	case unix.RTAX_ADVMSS:
		return &m.AdvMSS
	case unix.RTAX_REORDERING:
		return &m.Reordering
	case unix.RTAX_HOPLIMIT:
		return &m.Hoplimit
	case unix.RTAX_INITCWND:
		return &m.InitCwnd
	case unix.RTAX_FEATURES:
		return &m.Features
	case unix.RTAX_RTO_MIN:
		return &m.RTOMin
	case unix.RTAX_INITRWND:
		return &m.InitRwnd
	case unix.RTAX_QUICKACK:
		return &m.QuickAck
	}
	return nil
}

// toFIBRoute is rtm_to_fib_config.
func (c *call) toFIBRoute(del bool) (fib.Route, *rtmsg.Route, error) {
	var rm rtmsg.Route
	if err := rm.UnmarshalBinary(c.data()); err != nil {
		return fib.Route{}, nil, decodeErr(err, "route request")
	}
	if rm.DstLen > 32 {
		return fib.Route{}, nil, errMsg(syscall.EINVAL, "Invalid prefix length")
	}
	if rm.Attrs.Has(unix.RTA_ENCAP) || rm.EncapType != 0 {
		return fib.Route{}, nil, errMsg(syscall.EOPNOTSUPP, "Encap not supported")
	}
	dst := rm.Dst
	if !dst.IsValid() {
		dst = netip.IPv4Unspecified()
	}
	p := netip.PrefixFrom(dst, int(rm.DstLen))
	if p.Masked() != p {
		return fib.Route{}, nil, errMsg(syscall.EINVAL, "Invalid prefix for given prefix length")
	}
	r := fib.Route{Table: rm.TableID(), Dst: p, TOS: rm.TOS, Priority: rm.Priority, Type: rm.Type,
		Scope: rm.Scope, Protocol: rm.Protocol, Prefsrc: rm.PrefSrc, Flags: rm.Flags}
	if r.Table == 0 {
		r.Table = unix.RT_TABLE_MAIN
	}
	if rm.Metrics != nil {
		for _, v := range rm.Metrics.Values {
			f := metricField(&r.Metrics, v.Type)
			if f == nil {
				return fib.Route{}, nil, errMsg(syscall.EINVAL, "Invalid metric")
			}
			*f = v.Value
		}
		r.Metrics.CCAlgo = rm.Metrics.CCAlgo
	}
	gw := rm.Gateway
	if rm.Via.IsValid() {
		if !rm.Via.Is4() {
			return fib.Route{}, nil, errMsg(syscall.EINVAL, "IPv6 gateway not supported")
		}
		gw = rm.Via
	}
	if len(rm.Multipath) > 0 {
		for _, h := range rm.Multipath {
			g := h.Gateway
			if h.Via.IsValid() {
				if !h.Via.Is4() {
					return fib.Route{}, nil, errMsg(syscall.EINVAL, "IPv6 gateway not supported")
				}
				g = h.Via
			}
			r.Nexthops = append(r.Nexthops, fib.Nexthop{Gateway: g, Ifindex: int(h.Index), Weight: int(h.Hops) + 1, Flags: uint32(h.Flags)})
		}
	} else if gw.IsValid() || rm.OIF != 0 || !del {
		r.Nexthops = []fib.Nexthop{{Gateway: gw, Ifindex: int(rm.OIF), Weight: 1, Flags: rm.Flags & unix.RTNH_F_ONLINK}}
	}
	return r, &rm, nil
}

func (c *call) fibOrErr() (*fib.FIB, error) {
	if c.st.ns.FIB == nil {
		return nil, syscall.EOPNOTSUPP
	}
	return c.st.ns.FIB, nil
}

// newRoute is inet_rtm_newroute.
func newRoute(c *call) error {
	if c.family() != unix.AF_INET {
		return syscall.EOPNOTSUPP
	}
	f, err := c.fibOrErr()
	if err != nil {
		return err
	}
	r, _, err := c.toFIBRoute(false)
	if err != nil {
		return err
	}
	return f.Add(r, c.h.Flags, c.fibInfo())
}

// delRoute is inet_rtm_delroute.
func delRoute(c *call) error {
	if c.family() != unix.AF_INET {
		return syscall.EOPNOTSUPP
	}
	f, err := c.fibOrErr()
	if err != nil {
		return err
	}
	r, _, err := c.toFIBRoute(true)
	if err != nil {
		return err
	}
	return f.Delete(r, c.fibInfo())
}

// fillRoute appends an rtmsg for r in fib_dump_info order.
func fillRoute(e *netlink.AttributeEncoder, r *fib.Route) {
	table8 := uint8(unix.RT_TABLE_COMPAT)
	if r.Table < 256 {
		table8 = uint8(r.Table)
	}
	flags := r.Flags
	if len(r.Nexthops) == 1 {
		flags |= r.Nexthops[0].Flags
	}
	h := [unix.SizeofRtMsg]byte{unix.AF_INET, uint8(r.Dst.Bits()), 0, r.TOS, table8, r.Protocol, r.Scope, r.Type}
	binary.NativeEndian.PutUint32(h[8:], flags)
	e.Append(h[:])
	e.Uint32(unix.RTA_TABLE, r.Table)
	if r.Dst.Bits() > 0 {
		e.Addr(unix.RTA_DST, r.Dst.Addr())
	}
	if r.Priority != 0 {
		e.Uint32(unix.RTA_PRIORITY, r.Priority)
	}
	fillMetrics(e, &r.Metrics)
	if r.Prefsrc.IsValid() {
		e.Addr(unix.RTA_PREFSRC, r.Prefsrc)
	}
	switch len(r.Nexthops) {
	case 0:
	case 1:
		nh := &r.Nexthops[0]
		if nh.Gateway.IsValid() {
			e.Addr(unix.RTA_GATEWAY, nh.Gateway)
		}
		if nh.Ifindex != 0 {
			e.Uint32(unix.RTA_OIF, uint32(nh.Ifindex))
		}
	default:
		mp := e.BeginNest(unix.RTA_MULTIPATH)
		for i := range r.Nexthops {
			nh := &r.Nexthops[i]
			w := max(nh.Weight, 1)
			start := e.Len()
			var hdr [unix.SizeofRtNexthop]byte
			hdr[2], hdr[3] = uint8(nh.Flags), uint8(w-1)
			binary.NativeEndian.PutUint32(hdr[4:], uint32(nh.Ifindex))
			e.Append(hdr[:])
			if nh.Gateway.IsValid() {
				e.Addr(unix.RTA_GATEWAY, nh.Gateway)
			}
			binary.NativeEndian.PutUint16(e.Bytes()[start:], uint16(e.Len()-start))
		}
		e.EndNest(mp)
	}
}

// fillMetrics appends RTA_METRICS when any metric is set
// (rtnetlink_put_metrics).
func fillMetrics(e *netlink.AttributeEncoder, m *fib.Metrics) {
	if *m == (fib.Metrics{}) {
		return
	}
	n := e.BeginNest(unix.RTA_METRICS)
	for t := uint16(unix.RTAX_LOCK); t <= unix.RTAX_MAX; t++ {
		if t == unix.RTAX_CC_ALGO {
			if m.CCAlgo != "" {
				e.String(t, m.CCAlgo)
			}
			continue
		}
		if f := metricField(m, t); f != nil && *f != 0 {
			e.Uint32(t, *f)
		}
	}
	e.EndNest(n)
}

// dumpRoutes is inet_dump_fib with the strict filters of
// ip_valid_fib_dump_req: table, protocol, type, output device.
func dumpRoutes(c *call) error {
	var table uint32
	var proto, typ uint8
	var oif int
	cloned := false
	if len(c.data()) >= unix.SizeofRtMsg {
		var rm rtmsg.Route
		err := rm.UnmarshalBinary(c.data())
		if c.s.strict {
			if err != nil {
				return decodeErr(err, "route dump request")
			}
			if rm.DstLen != 0 || rm.SrcLen != 0 || rm.TOS != 0 || rm.Scope != 0 {
				return errMsg(syscall.EINVAL, "Invalid values in header for FIB dump request")
			}
			if rm.Flags&^(unix.RTM_F_CLONED|unix.RTM_F_PREFIX) != 0 {
				return errMsg(syscall.EINVAL, "Invalid flags for FIB dump request")
			}
			for _, t := range []uint16{unix.RTA_DST, unix.RTA_SRC, unix.RTA_IIF, unix.RTA_PRIORITY, unix.RTA_GATEWAY, unix.RTA_PREFSRC, unix.RTA_MULTIPATH, unix.RTA_METRICS} {
				if rm.Attrs.Has(t) {
					return errMsg(syscall.EINVAL, "Unsupported attribute in dump request")
				}
			}
			table, proto, typ, oif = rm.TableID(), rm.Protocol, rm.Type, int(rm.OIF)
			if oif != 0 && c.st.ns.Dev.ByIndex(oif) == nil {
				return syscall.ENODEV
			}
			if table != 0 || proto != 0 || typ != 0 || oif != 0 {
				c.s.dump.Flags = unix.NLM_F_DUMP_FILTERED
			}
		}
		if err == nil {
			cloned = rm.Flags&unix.RTM_F_CLONED != 0
		}
	} else if c.s.strict {
		return errMsg(syscall.EINVAL, "Invalid header for FIB dump request")
	}
	f := c.st.ns.FIB
	if !familyIncluded(c.family()) || f == nil || cloned {
		return c.emptyDump() // usnet keeps no cached (exception) routes
	}
	f.Walk(table, func(r *fib.Route) bool {
		if proto != 0 && r.Protocol != proto || typ != 0 && r.Type != typ {
			return true
		}
		if oif != 0 {
			found := false
			for _, nh := range r.Nexthops {
				found = found || nh.Ifindex == oif
			}
			if !found {
				return true
			}
		}
		c.dumpMsg(unix.RTM_NEWROUTE, func(e *netlink.AttributeEncoder) { fillRoute(e, r) })
		return true
	})
	c.finishDump()
	return nil
}

// getRoute is inet_rtm_getroute: a lookup (ip route get), or with
// RTM_F_FIB_MATCH the matching FIB entry.
func getRoute(c *call) error {
	if c.family() != unix.AF_INET {
		return syscall.EOPNOTSUPP
	}
	f, err := c.fibOrErr()
	if err != nil {
		return err
	}
	var rm rtmsg.Route
	if err := rm.UnmarshalBinary(c.data()); err != nil {
		return decodeErr(err, "route get request")
	}
	if rm.Dst.IsValid() && !rm.Dst.Is4() || rm.Src.IsValid() && !rm.Src.Is4() {
		return syscall.EINVAL
	}
	dst := rm.Dst
	if !dst.IsValid() {
		dst = netip.IPv4Unspecified()
	}
	q := fib.Query{Dst: dst, Src: rm.Src, Iif: int(rm.IIF), Oif: int(rm.OIF), Mark: rm.Mark, TOS: rm.TOS,
		IPProto: rm.IPProto, Sport: rm.SPort, Dport: rm.DPort, FibMatch: rm.Flags&unix.RTM_F_FIB_MATCH != 0}
	if q.Iif != 0 && c.st.ns.Dev.ByIndex(q.Iif) == nil || q.Oif != 0 && c.st.ns.Dev.ByIndex(q.Oif) == nil {
		return syscall.ENODEV
	}
	res, err := f.Get(q)
	if err != nil {
		return err
	}
	if q.FibMatch {
		if res.Route == nil {
			return syscall.ENETUNREACH
		}
		c.reply(unix.RTM_NEWROUTE, func(e *netlink.AttributeEncoder) { fillRoute(e, res.Route) })
		return nil
	}
	// The table reported (inet_rtm_getroute): main unless the request
	// asks for the lookup table with RTM_F_LOOKUP_TABLE; with local and
	// main still merged (no custom rules), local routes are main's.
	switch {
	case rm.Flags&unix.RTM_F_LOOKUP_TABLE == 0:
		res.Table = unix.RT_TABLE_MAIN
	case res.Table == unix.RT_TABLE_LOCAL && !f.CustomRules():
		res.Table = unix.RT_TABLE_MAIN
	}
	c.reply(unix.RTM_NEWROUTE, func(e *netlink.AttributeEncoder) { fillLookup(e, &rm, &res) })
	return nil
}

// fillLookup appends the answer of a route lookup as rt_fill_info lays
// it out: a cloned /32 route.
func fillLookup(e *netlink.AttributeEncoder, req *rtmsg.Route, res *fib.Result) {
	table8 := uint8(unix.RT_TABLE_COMPAT)
	if res.Table < 256 {
		table8 = uint8(res.Table)
	}
	srcLen := uint8(0)
	if req.Src.IsValid() {
		srcLen = 32
	}
	// rtm_tos is the TOS of the entry the lookup matched, not the query's.
	tos := uint8(0)
	if res.Route != nil {
		tos = res.Route.TOS
	}
	h := [unix.SizeofRtMsg]byte{unix.AF_INET, 32, srcLen, tos, table8, 0, 0, res.Type}
	binary.NativeEndian.PutUint32(h[8:], res.Flags|unix.RTM_F_CLONED)
	e.Append(h[:])
	e.Uint32(unix.RTA_TABLE, res.Table)
	e.Addr(unix.RTA_DST, res.Dst)
	if req.Src.IsValid() {
		e.Addr(unix.RTA_SRC, req.Src)
	}
	if res.Dev != 0 {
		e.Uint32(unix.RTA_OIF, uint32(res.Dev))
	}
	if !req.Src.IsValid() && res.Prefsrc.IsValid() && res.Iif == 0 {
		e.Addr(unix.RTA_PREFSRC, res.Prefsrc)
	}
	if res.Gateway.IsValid() {
		e.Addr(unix.RTA_GATEWAY, res.Gateway)
	}
	// The cached route carries all of the matched route's metrics, with
	// the MTU of a PMTU exception in place of the route's (rt_fill_info).
	m := res.Metrics
	if res.MTU != 0 {
		m.MTU = uint32(res.MTU)
	}
	fillMetrics(e, &m)
	if req.Mark != 0 {
		e.Uint32(unix.RTA_MARK, req.Mark)
	}
	if res.Iif != 0 {
		// An input route: the kernel reports the input interface and no
		// uid (rt_fill_info).
		e.Uint32(unix.RTA_IIF, uint32(res.Iif))
	} else {
		e.Uint32(unix.RTA_UID, 0)
	}
	var ci [32]byte
	e.PutBytes(unix.RTA_CACHEINFO, ci[:])
}
