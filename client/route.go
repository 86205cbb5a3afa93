package client

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"

	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

// Route is an IPv4 route as RTM_NEWROUTE describes it.
type Route struct {
	Dst      netip.Prefix // an invalid prefix means 0.0.0.0/0 (default)
	Gateway  netip.Addr
	Dev      string // output device (RTA_OIF by name)
	Index    int    // output device's ifindex (set by the client from Dev)
	Table    uint32 // 0: main on add; any table in results
	Metric   uint32 // RTA_PRIORITY
	Protocol uint8  // RTPROT_*; 0 on add means RTPROT_BOOT, as ip sends
	Scope    uint8  // RT_SCOPE_*; on add 0 means ip's choice (link without a gateway)
	Type     uint8  // RTN_*; 0 on add means RTN_UNICAST
	PrefSrc  netip.Addr
	MTU      uint32 // RTAX_MTU metric, 0: none
	// Multipath holds the next hops of an ECMP route instead of
	// Gateway/Dev.
	Multipath []NextHop

	Raw *rtmsg.Route
}

// NextHop is one path of a multipath route.
type NextHop struct {
	Gateway netip.Addr
	Dev     string
	Index   int
	Weight  int // 1..256; 0 on add means 1
}

// Routes lists the IPv4 routes of table (0 = every table, as `ip route
// show table all`; unix.RT_TABLE_MAIN for `ip route show`).
func (n *Namespace) Routes(table uint32) ([]Route, error) {
	names, err := n.names()
	if err != nil {
		return nil, wrap("route show", err)
	}
	var out []Route
	hdr := rtmsg.Route{Family: unix.AF_INET}
	p, _ := hdr.MarshalBinary()
	err = n.request(func(c *conn) error {
		return c.dump(unix.RTM_GETROUTE, p, func(h netlink.Header, data []byte) error {
			if h.Type != unix.RTM_NEWROUTE {
				return nil
			}
			r, err := decodeRouteMsg(data, names)
			if err != nil {
				return err
			}
			if table == 0 || r.Table == table {
				out = append(out, r)
			}
			return nil
		})
	})
	return out, wrap("route show", err)
}

func decodeRouteMsg(data []byte, names map[int]string) (Route, error) {
	m := new(rtmsg.Route)
	if err := m.UnmarshalBinary(data); err != nil {
		return Route{}, err
	}
	return routeFrom(m, names), nil
}

func routeFrom(m *rtmsg.Route, names map[int]string) Route {
	dst := m.Dst
	if !dst.IsValid() {
		dst = netip.IPv4Unspecified()
		if m.Family == unix.AF_INET6 {
			dst = netip.IPv6Unspecified()
		}
	}
	r := Route{
		Dst:      netip.PrefixFrom(dst, int(m.DstLen)),
		Gateway:  m.Gateway,
		Index:    int(m.OIF),
		Dev:      names[int(m.OIF)],
		Table:    m.TableID(),
		Metric:   m.Priority,
		Protocol: m.Protocol,
		Scope:    m.Scope,
		Type:     m.Type,
		PrefSrc:  m.PrefSrc,
		Raw:      m,
	}
	if m.Metrics != nil {
		r.MTU, _ = m.Metrics.Get(unix.RTAX_MTU)
	}
	for _, h := range m.Multipath {
		r.Multipath = append(r.Multipath, NextHop{Gateway: h.Gateway, Index: int(h.Index), Dev: names[int(h.Index)], Weight: int(h.Hops) + 1})
	}
	return r
}

// AddRoute adds r (`ip route add`): EEXIST when the same route exists.
func (n *Namespace) AddRoute(r Route) error {
	return n.routeReq("route add", unix.RTM_NEWROUTE, unix.NLM_F_CREATE|unix.NLM_F_EXCL, r)
}

// ReplaceRoute adds r or replaces the route with its key (`ip route
// replace`).
func (n *Namespace) ReplaceRoute(r Route) error {
	return n.routeReq("route replace", unix.RTM_NEWROUTE, unix.NLM_F_CREATE|unix.NLM_F_REPLACE, r)
}

// DelRoute deletes the first route matching r's set fields (`ip route
// del`): Dst and Table always, Metric, Gateway, Dev, Protocol, Type and
// Scope when set. ESRCH when none matches.
func (n *Namespace) DelRoute(r Route) error {
	return n.routeReq("route del", unix.RTM_DELROUTE, 0, r)
}

func (n *Namespace) routeReq(op string, typ, flags uint16, r Route) error {
	m, err := n.routeMsg(r, typ == unix.RTM_DELROUTE, n.index)
	if err != nil {
		return wrap(op, err)
	}
	p, err := m.MarshalBinary()
	if err != nil {
		return wrap(op, err)
	}
	return wrap(op, n.request(func(c *conn) error { return c.do(typ, flags, p, nil) }))
}

// routeMsg builds the rtmsg as iproute2's iproute_modify fills it;
// index resolves device names.
func (n *Namespace) routeMsg(r Route, del bool, index func(string) (int, error)) (*rtmsg.Route, error) {
	m := &rtmsg.Route{Family: unix.AF_INET, Table: r.Table, Priority: r.Metric, Gateway: r.Gateway, PrefSrc: r.PrefSrc}
	if r.Dst.IsValid() {
		m.Family = family(r.Dst.Addr())
		m.DstLen = uint8(r.Dst.Bits())
		if r.Dst.Bits() > 0 {
			m.Dst = r.Dst.Masked().Addr()
		}
	} else if r.Gateway.IsValid() {
		m.Family = family(r.Gateway)
	}
	if m.Table == 0 {
		m.Table = unix.RT_TABLE_MAIN
	}
	m.Table8 = uint8(m.Table)
	if m.Table > 255 {
		m.Table8 = unix.RT_TABLE_COMPAT
	}
	m.Protocol, m.Type, m.Scope = r.Protocol, r.Type, r.Scope
	if !del {
		if m.Protocol == 0 {
			m.Protocol = unix.RTPROT_BOOT
		}
		if m.Type == 0 {
			m.Type = unix.RTN_UNICAST
		}
	}
	idx := r.Index
	if r.Dev != "" {
		i, err := index(r.Dev)
		if err != nil {
			return nil, err
		}
		idx = i
	}
	m.OIF = uint32(idx)
	for _, h := range r.Multipath {
		hi := h.Index
		if h.Dev != "" {
			i, err := index(h.Dev)
			if err != nil {
				return nil, err
			}
			hi = i
		}
		w := max(h.Weight, 1)
		if w > 256 {
			return nil, syscall.EINVAL
		}
		m.Multipath = append(m.Multipath, rtmsg.NextHop{Gateway: h.Gateway, Index: int32(hi), Hops: uint8(w - 1)})
	}
	if r.MTU != 0 {
		m.Metrics = &rtmsg.Metrics{Values: []rtmsg.Metric{{Type: unix.RTAX_MTU, Value: r.MTU}}}
	}
	if r.Scope == 0 {
		switch {
		case del:
			m.Scope = unix.RT_SCOPE_NOWHERE
		case m.Type == unix.RTN_LOCAL:
			m.Scope = unix.RT_SCOPE_HOST
		case m.Type == unix.RTN_BROADCAST || m.Type == unix.RTN_MULTICAST || m.Type == unix.RTN_ANYCAST:
			m.Scope = unix.RT_SCOPE_LINK
		case m.Type == unix.RTN_UNICAST && !r.Gateway.IsValid() && len(r.Multipath) == 0:
			m.Scope = unix.RT_SCOPE_LINK
		}
	}
	return m, nil
}

// AddRoutes adds many routes at once, as `ip -batch` does: the requests
// travel in datagrams of up to 256 messages, each acknowledged on its
// own. Every route is tried; the result joins the failures (each an
// *Error naming the route's position), nil when all were added.
func (n *Namespace) AddRoutes(rs []Route) error {
	const op = "route add"
	names, err := n.names()
	if err != nil {
		return wrap(op, err)
	}
	byName := make(map[string]int, len(names))
	for i, name := range names {
		byName[name] = i
	}
	index := func(name string) (int, error) {
		if i, ok := byName[name]; ok || name == "" {
			return i, nil
		}
		return 0, syscall.ENODEV
	}
	var errs []error
	payloads := make([][]byte, 0, min(len(rs), batchSize))
	for start := 0; start < len(rs); start += batchSize {
		payloads = payloads[:0]
		chunk := rs[start:min(start+batchSize, len(rs))]
		for _, r := range chunk {
			m, err := n.routeMsg(r, false, index)
			if err == nil {
				var p []byte
				p, err = m.MarshalBinary()
				payloads = append(payloads, p)
			}
			if err != nil {
				return errors.Join(append(errs, wrap(fmt.Sprintf("%s #%d", op, start+len(payloads)), err))...)
			}
		}
		err := n.request(func(c *conn) error {
			return c.batch(unix.RTM_NEWROUTE, unix.NLM_F_CREATE|unix.NLM_F_EXCL, payloads, func(i int, err error) {
				errs = append(errs, wrap(fmt.Sprintf("%s #%d", op, start+i), err))
			})
		})
		if err != nil {
			return errors.Join(append(errs, wrap(op, err))...)
		}
	}
	return errors.Join(errs...)
}

// batchSize is the number of requests AddRoutes puts in one datagram.
const batchSize = 256

// RouteGetOptions are the selectors of `ip route get`.
type RouteGetOptions struct {
	Src      netip.Addr // from
	IIF      string     // iif: look the route up as for a packet received on it
	OIF      string     // oif
	Mark     uint32
	FIBMatch bool // fibmatch: return the FIB entry rather than the resolved route
}

// RouteGet asks which route the stack would use for dst (`ip route get`).
func (n *Namespace) RouteGet(dst netip.Addr, o RouteGetOptions) (Route, error) {
	const op = "route get"
	m := rtmsg.Route{Family: family(dst), Dst: dst, DstLen: uint8(dst.BitLen()), Src: o.Src, Mark: o.Mark}
	if o.Src.IsValid() {
		m.SrcLen = uint8(o.Src.BitLen())
	}
	if o.FIBMatch {
		m.Flags |= unix.RTM_F_FIB_MATCH
	}
	iif, err := n.index(o.IIF)
	if err != nil {
		return Route{}, wrap(op, err)
	}
	oif, err := n.index(o.OIF)
	if err != nil {
		return Route{}, wrap(op, err)
	}
	m.IIF, m.OIF = uint32(iif), uint32(oif)
	p, err := m.MarshalBinary()
	if err != nil {
		return Route{}, wrap(op, err)
	}
	names, err := n.names()
	if err != nil {
		return Route{}, wrap(op, err)
	}
	var out Route
	found := false
	err = n.request(func(c *conn) error {
		return c.do(unix.RTM_GETROUTE, 0, p, func(h netlink.Header, data []byte) error {
			if h.Type != unix.RTM_NEWROUTE {
				return nil
			}
			r, err := decodeRouteMsg(data, names)
			out, found = r, err == nil
			return err
		})
	})
	if err == nil && !found {
		err = syscall.EPROTO
	}
	return out, wrap(op, err)
}
