package iproute

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

func (s *session) cmdRoute(args []string) error {
	if len(args) == 0 {
		return s.routeList(nil, false)
	}
	cmd, rest := args[0], args[1:]
	switch {
	case matches(cmd, "add"):
		return s.routeModify(unix.RTM_NEWROUTE, unix.NLM_F_CREATE|unix.NLM_F_EXCL, rest)
	case matches(cmd, "change") || cmd == "chg":
		return s.routeModify(unix.RTM_NEWROUTE, unix.NLM_F_REPLACE, rest)
	case matches(cmd, "replace"):
		return s.routeModify(unix.RTM_NEWROUTE, unix.NLM_F_CREATE|unix.NLM_F_REPLACE, rest)
	case matches(cmd, "prepend"):
		return s.routeModify(unix.RTM_NEWROUTE, unix.NLM_F_CREATE, rest)
	case matches(cmd, "append"):
		return s.routeModify(unix.RTM_NEWROUTE, unix.NLM_F_CREATE|unix.NLM_F_APPEND, rest)
	case matches(cmd, "delete"):
		return s.routeModify(unix.RTM_DELROUTE, 0, rest)
	case matches(cmd, "show") || matches(cmd, "list") || matches(cmd, "lst"):
		return s.routeList(rest, false)
	case matches(cmd, "flush"):
		return s.routeList(rest, true)
	case matches(cmd, "get"):
		return s.routeGet(rest)
	}
	return fail(exitUsage, "Command \"%s\" is unknown, try \"ip route help\".", cmd)
}

// routeReq accumulates a parsed route request.
type routeReq struct {
	r        rtmsg.Route
	table    uint32
	tableSet bool
	scopeSet bool
	gwOK     bool
	dstOK    bool
	mx       rtmsg.Metrics
	lock     uint32
}

func (s *session) parseGateway(v string, family uint8) (netip.Addr, error) {
	a, err := netip.ParseAddr(v)
	if err != nil || family != 0 && familyOf(a) != family {
		return netip.Addr{}, fail(exitFail, "Error: inet%s address is expected rather than \"%s\".",
			map[bool]string{true: "6", false: ""}[family == unix.AF_INET6], v)
	}
	return a, nil
}

func (s *session) routeModify(typ, flags uint16, args []string) error {
	q := routeReq{table: unix.RT_TABLE_MAIN}
	r := &q.r
	r.Family = s.family
	if r.Family == unix.AF_PACKET {
		r.Family = 0
	}
	if typ == unix.RTM_DELROUTE {
		r.Scope = unix.RT_SCOPE_NOWHERE
	} else {
		r.Protocol = unix.RTPROT_BOOT
		r.Type = unix.RTN_UNICAST
	}
	var devName string
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() (string, error) {
			if i+1 >= len(args) {
				return "", incomplete()
			}
			i++
			return args[i], nil
		}
		switch {
		case a == "src":
			v, err := next()
			if err != nil {
				return err
			}
			src, err := s.parseGateway(v, r.Family)
			if err != nil {
				return err
			}
			r.PrefSrc = src
			r.Family = familyOf(src)
		case a == "via":
			v, err := next()
			if err != nil {
				return err
			}
			if v == "inet" || v == "inet6" {
				if v, err = next(); err != nil {
					return err
				}
			}
			gw, err := s.parseGateway(v, 0)
			if err != nil {
				return err
			}
			if r.Family == 0 {
				r.Family = familyOf(gw)
			}
			if familyOf(gw) == r.Family {
				r.Gateway = gw
			} else {
				r.Via = gw
			}
			q.gwOK = true
		case a == "from":
			v, err := next()
			if err != nil {
				return err
			}
			p, ok := parsePrefix(v, r.Family)
			if !ok {
				return invarg("invalid from address", v)
			}
			r.Src, r.SrcLen = p.Addr(), uint8(p.Bits())
		case a == "tos" || matches(a, "dsfield"):
			v, err := next()
			if err != nil {
				return err
			}
			t, ok := parseU(v, 8)
			if !ok {
				return invarg("\"tos\" value is invalid\n", v)
			}
			r.TOS = uint8(t)
		case a == "metric" || a == "priority" || matches(a, "preference"):
			v, err := next()
			if err != nil {
				return err
			}
			m, ok := parseU(v, 32)
			if !ok {
				return invarg("\"metric\" value is invalid\n", v)
			}
			r.Priority = uint32(m)
			r.Attrs.Set(unix.RTA_PRIORITY)
		case a == "scope":
			v, err := next()
			if err != nil {
				return err
			}
			sc, ok := parseScope(v)
			if !ok {
				return invarg("invalid \"scope\" value\n", v)
			}
			r.Scope, q.scopeSet = sc, true
		case metricByName[a] != 0:
			v, err := next()
			if err != nil {
				return err
			}
			ax := metricByName[a]
			if v == "lock" {
				q.lock |= 1 << ax
				if v, err = next(); err != nil {
					return err
				}
			}
			n, ok := parseMetricValue(ax, v)
			if !ok {
				return invarg(fmt.Sprintf("\"%s\" value is invalid\n", a), v)
			}
			q.mx.Values = append(q.mx.Values, rtmsg.Metric{Type: ax, Value: n})
		case a == "onlink":
			r.Flags |= unix.RTNH_F_ONLINK
		case a == "nexthop":
			hops, err := s.parseNexthops(args[i+1:], r)
			if err != nil {
				return err
			}
			r.Multipath = hops
			i = len(args)
		case matches(a, "protocol"):
			v, err := next()
			if err != nil {
				return err
			}
			p, ok := parseProto(v)
			if !ok {
				return invarg("\"protocol\" value is invalid\n", v)
			}
			r.Protocol = p
		case matches(a, "table"):
			v, err := next()
			if err != nil {
				return err
			}
			t, ok := parseTable(v)
			if !ok {
				return invarg("\"table\" value is invalid\n", v)
			}
			q.table, q.tableSet = t, true
		case a == "dev" || a == "oif":
			v, err := next()
			if err != nil {
				return err
			}
			devName = v
		default:
			if a == "to" {
				v, err := next()
				if err != nil {
					return err
				}
				a = v
			}
			if t, ok := parseRouteType(a); ok && !q.dstOK {
				r.Type = t
				v, err := next()
				if err != nil {
					return err
				}
				a = v
			}
			if q.dstOK {
				return garbage("to", a)
			}
			p, ok := parsePrefix(a, r.Family)
			if !ok {
				return fail(exitFail, "Error: any valid prefix is expected rather than \"%s\".", a)
			}
			if r.Family == 0 {
				r.Family = familyOf(p.Addr())
			}
			r.DstLen = uint8(p.Bits())
			if p.Bits() > 0 || a != "default" && a != "any" && a != "all" {
				r.Dst = p.Addr()
			}
			q.dstOK = true
		}
	}
	if !q.dstOK {
		return incomplete()
	}
	if devName != "" {
		idx, err := s.mustIndex(devName)
		if err != nil {
			return err
		}
		r.OIF = uint32(idx)
	}
	if q.table < 256 {
		r.Table8 = uint8(q.table)
	} else {
		r.Table8 = unix.RT_TABLE_UNSPEC
		r.Table = q.table
	}
	if len(q.mx.Values) > 0 || q.lock != 0 {
		if q.lock != 0 {
			q.mx.Values = append([]rtmsg.Metric{{Type: unix.RTAX_LOCK, Value: q.lock}}, q.mx.Values...)
		}
		r.Metrics = &q.mx
	}
	if !q.scopeSet {
		switch r.Type {
		case unix.RTN_LOCAL, unix.RTN_NAT:
			r.Scope = unix.RT_SCOPE_HOST
		case unix.RTN_BROADCAST, unix.RTN_MULTICAST, unix.RTN_ANYCAST:
			r.Scope = unix.RT_SCOPE_LINK
		case unix.RTN_UNICAST, unix.RTN_UNSPEC:
			if typ == unix.RTM_DELROUTE {
				r.Scope = unix.RT_SCOPE_NOWHERE
			} else if !q.gwOK && len(r.Multipath) == 0 {
				r.Scope = unix.RT_SCOPE_LINK
			}
		}
	}
	if r.Family == 0 {
		r.Family = unix.AF_INET
	}
	c, err := s.rtnl()
	if err != nil {
		return err
	}
	b, err := r.MarshalBinary()
	if err != nil {
		return err
	}
	_, err = c.Do(typ, flags, b)
	return err
}

// parseMetricValue parses a route metric. Times (rtt, rttvar, rto_min)
// take a unit as iproute2's get_time_rtt does: with "s" or "ms" the
// kernel gets milliseconds scaled as it stores them (rtt << 3, rttvar
// << 2); a bare number is passed through raw.
func parseMetricValue(ax uint16, v string) (uint32, bool) {
	switch ax {
	case unix.RTAX_RTT, unix.RTAX_RTTVAR, unix.RTAX_RTO_MIN:
		ms, raw, ok := parseTime(v)
		if !ok {
			return 0, false
		}
		if !raw {
			switch ax {
			case unix.RTAX_RTT:
				ms *= 8
			case unix.RTAX_RTTVAR:
				ms *= 4
			}
		}
		return ms, true
	}
	n, ok := parseU(v, 32)
	return uint32(n), ok
}

func parseTime(v string) (ms uint32, raw, ok bool) {
	scale := 0.0
	switch {
	case strings.HasSuffix(v, "ms") || strings.HasSuffix(v, "msec") || strings.HasSuffix(v, "msecs"):
		v, scale = strings.TrimRight(v, "msec"), 1
	case strings.HasSuffix(v, "s") || strings.HasSuffix(v, "sec") || strings.HasSuffix(v, "secs"):
		v, scale = strings.TrimRight(v, "secs"), 1000
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f*max(scale, 1) > float64(^uint32(0)) {
		return 0, false, false
	}
	if scale == 0 {
		return uint32(f), true, true
	}
	return uint32(f * scale), false, true
}

// parseNexthops parses "via A dev D weight W onlink nexthop ...".
func (s *session) parseNexthops(args []string, r *rtmsg.Route) ([]rtmsg.NextHop, error) {
	var hops []rtmsg.NextHop
	cur := rtmsg.NextHop{}
	started := true
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() (string, error) {
			if i+1 >= len(args) {
				return "", incomplete()
			}
			i++
			return args[i], nil
		}
		switch a {
		case "nexthop":
			hops = append(hops, cur)
			cur = rtmsg.NextHop{}
		case "via":
			v, err := next()
			if err != nil {
				return nil, err
			}
			if v == "inet" || v == "inet6" {
				if v, err = next(); err != nil {
					return nil, err
				}
			}
			gw, err := s.parseGateway(v, 0)
			if err != nil {
				return nil, err
			}
			if r.Family == 0 {
				r.Family = familyOf(gw)
			}
			if familyOf(gw) == r.Family {
				cur.Gateway = gw
			} else {
				cur.Via = gw
			}
		case "dev":
			v, err := next()
			if err != nil {
				return nil, err
			}
			idx, err := s.mustIndex(v)
			if err != nil {
				return nil, err
			}
			cur.Index = idx
		case "weight":
			v, err := next()
			if err != nil {
				return nil, err
			}
			w, ok := parseU(v, 32)
			if !ok || w == 0 || w > 256 {
				return nil, invarg("\"weight\" is invalid\n", v)
			}
			cur.Hops = uint8(w - 1)
		case "onlink":
			cur.Flags |= unix.RTNH_F_ONLINK
		default:
			return nil, fail(exitUsage, "Error: either \"nexthop\" is duplicate, or \"%s\" is a garbage.", a)
		}
	}
	if started {
		hops = append(hops, cur)
	}
	return hops, nil
}

// routeFilter is what `ip route show/flush` selects on.
type routeFilter struct {
	table    uint32 // 0: all tables
	typ      uint8
	typeSet  bool
	proto    uint8
	protoSet bool
	scope    uint8
	scopeSet bool
	oif      int32
	via      netip.Addr
	src      netip.Addr
	rdst     netip.Prefix // route dst must lie within (root)
	mdst     netip.Prefix // route dst must contain (match)
	cloned   bool
}

func (f *routeFilter) match(r *rtmsg.Route) bool {
	if f.table != 0 && r.TableID() != f.table {
		return false
	}
	if r.Flags&unix.RTM_F_CLONED != 0 && !f.cloned {
		return false
	}
	if f.typeSet && r.Type != f.typ || f.protoSet && r.Protocol != f.proto || f.scopeSet && r.Scope != f.scope {
		return false
	}
	if f.oif != 0 && int32(r.OIF) != f.oif {
		return false
	}
	if f.via.IsValid() && r.Gateway != f.via {
		return false
	}
	if f.src.IsValid() && r.PrefSrc != f.src {
		return false
	}
	dst := r.Dst
	if !dst.IsValid() {
		if r.Family == unix.AF_INET6 {
			dst = netip.IPv6Unspecified()
		} else {
			dst = netip.IPv4Unspecified()
		}
	}
	if f.rdst.IsValid() {
		if familyOf(dst) != familyOf(f.rdst.Addr()) || int(r.DstLen) < f.rdst.Bits() || !f.rdst.Contains(dst) {
			return false
		}
	}
	if f.mdst.IsValid() {
		if familyOf(dst) != familyOf(f.mdst.Addr()) || int(r.DstLen) > f.mdst.Bits() ||
			!netip.PrefixFrom(dst, int(r.DstLen)).Contains(f.mdst.Addr()) {
			return false
		}
	}
	return true
}

func (s *session) routeList(args []string, flush bool) error {
	f := routeFilter{table: unix.RT_TABLE_MAIN}
	family := s.family
	if family == unix.AF_PACKET {
		family = 0
	}
	tableGiven := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() (string, error) {
			if i+1 >= len(args) {
				return "", incomplete()
			}
			i++
			return args[i], nil
		}
		var err error
		var v string
		switch {
		case matches(a, "table"):
			if v, err = next(); err != nil {
				return err
			}
			t, ok := parseTable(v)
			if !ok {
				if v == "cache" {
					f.cloned = true
					break
				}
				return invarg("table id value is invalid\n", v)
			}
			f.table, tableGiven = t, true
		case a == "cache" || a == "cloned":
			f.cloned = true
		case matches(a, "protocol"):
			if v, err = next(); err != nil {
				return err
			}
			p, ok := parseProto(v)
			if !ok {
				return invarg("invalid \"protocol\"\n", v)
			}
			f.proto, f.protoSet = p, true
		case a == "scope":
			if v, err = next(); err != nil {
				return err
			}
			sc, ok := parseScope(v)
			if !ok {
				return invarg("invalid \"scope\"\n", v)
			}
			f.scope, f.scopeSet = sc, true
		case a == "type":
			if v, err = next(); err != nil {
				return err
			}
			t, ok := parseRouteType(v)
			if !ok {
				return invarg("node type value is invalid\n", v)
			}
			f.typ, f.typeSet = t, true
		case a == "dev" || a == "oif":
			if v, err = next(); err != nil {
				return err
			}
			idx, err := s.ifindex(v)
			if err != nil {
				return err
			}
			if idx == 0 {
				return fail(exitFail, "Cannot find device \"%s\"", v)
			}
			f.oif = idx
		case a == "via":
			if v, err = next(); err != nil {
				return err
			}
			gw, err := s.parseGateway(v, family)
			if err != nil {
				return err
			}
			f.via = gw
		case a == "src":
			if v, err = next(); err != nil {
				return err
			}
			src, err := s.parseGateway(v, family)
			if err != nil {
				return err
			}
			f.src = src
		case a == "root" || a == "match" || a == "exact" || a == "to":
			if v, err = next(); err != nil {
				return err
			}
			p, ok := parsePrefix(v, family)
			if !ok {
				return fail(exitFail, "Error: any valid prefix is expected rather than \"%s\".", v)
			}
			switch a {
			case "root":
				f.rdst = p
			case "match":
				f.mdst = p
			default:
				f.rdst, f.mdst = p, p
			}
			family = familyOf(p.Addr())
		default:
			p, ok := parsePrefix(a, family)
			if !ok {
				return fail(exitFail, "Error: any valid prefix is expected rather than \"%s\".", a)
			}
			f.rdst, f.mdst = p, p
			family = familyOf(p.Addr())
		}
	}
	if family == 0 && f.table != 0 {
		family = unix.AF_INET
	}
	if flush && len(args) == 0 {
		return fail(exitFail, "\"ip route flush\" requires arguments.")
	}
	_ = tableGiven
	c, err := s.rtnl()
	if err != nil {
		return err
	}
	if err := s.loadLinks(); err != nil {
		return err
	}
	req := make([]byte, unix.SizeofRtMsg)
	req[0] = family
	var routes []*rtmsg.Route
	var raws [][]byte
	err = c.Dump(unix.RTM_GETROUTE, req, func(h netlink.Header, data []byte) error {
		r := new(rtmsg.Route)
		if h.Type != unix.RTM_NEWROUTE || r.UnmarshalBinary(data) != nil {
			return nil
		}
		if family != 0 && r.Family != family || !f.match(r) {
			return nil
		}
		routes = append(routes, r)
		raws = append(raws, append([]byte(nil), data...))
		return nil
	})
	if err != nil {
		return err
	}
	if flush {
		for _, b := range raws {
			if _, err := c.Do(unix.RTM_DELROUTE, 0, b); err != nil {
				if ne, ok := err.(*NetlinkError); ok && ne.Errno == unix.ESRCH {
					continue
				}
				return fail(exitFail, "Failed to send flush request: %s", strerror(err))
			}
		}
		return nil
	}
	p := s.out
	p.openArray("")
	for _, r := range routes {
		p.openObject("")
		s.printRoute(r, &f, false)
		p.closeObject()
	}
	p.closeArray()
	if p.json {
		p.b.WriteByte('\n')
	}
	return nil
}

// metricByName are the metrics `ip route add` takes as NAME [lock] VALUE.
var metricByName = map[string]uint16{
	"mtu": unix.RTAX_MTU, "advmss": unix.RTAX_ADVMSS, "window": unix.RTAX_WINDOW,
	"rtt": unix.RTAX_RTT, "rttvar": unix.RTAX_RTTVAR, "rto_min": unix.RTAX_RTO_MIN,
	"ssthresh": unix.RTAX_SSTHRESH, "cwnd": unix.RTAX_CWND, "reordering": unix.RTAX_REORDERING,
	"hoplimit": unix.RTAX_HOPLIMIT, "initcwnd": unix.RTAX_INITCWND, "initrwnd": unix.RTAX_INITRWND,
}
