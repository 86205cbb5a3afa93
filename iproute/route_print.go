package iproute

import (
	"fmt"
	"net/netip"
	"strconv"

	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

// rtFlagNames are the rtm_flags / rtnh_flags words in iproute2's order.
var rtFlagNames = []struct {
	bit  uint32
	name string
}{
	{unix.RTNH_F_DEAD, "dead"}, {unix.RTNH_F_ONLINK, "onlink"}, {unix.RTNH_F_PERVASIVE, "pervasive"},
	{unix.RTNH_F_OFFLOAD, "offload"}, {0x40, "trap"}, {unix.RTM_F_NOTIFY, "notify"},
	{unix.RTNH_F_LINKDOWN, "linkdown"}, {unix.RTNH_F_UNRESOLVED, "unresolved"},
	{0x2000, "rt_offload"}, {0x4000, "rt_trap"}, {0x20000, "rt_offload_failed"},
}

func (s *session) printRouteFlags(flags uint32) {
	p := s.out
	p.openArray("flags")
	for _, f := range rtFlagNames {
		if flags&f.bit != 0 {
			p.str(anyOut, "", "%s ", f.name)
		}
	}
	p.closeArray()
}

func hostLen(family uint8) uint8 {
	if family == unix.AF_INET6 {
		return 128
	}
	return 32
}

func prefixString(a netip.Addr, n uint8, family uint8) string {
	if !a.IsValid() {
		if n == 0 {
			return "default"
		}
		return fmt.Sprintf("0/%d", n)
	}
	if n == hostLen(family) {
		return a.String()
	}
	return fmt.Sprintf("%s/%d", a, n)
}

// printRoute prints one route as print_route does.
func (s *session) printRoute(r *rtmsg.Route, f *routeFilter, deleted bool) {
	p := s.out
	if deleted {
		p.null(anyOut, "deleted", "Deleted ")
	}
	if r.Type != unix.RTN_UNICAST || s.details {
		p.str(anyOut, "type", "%s ", typeName(r.Type))
	}
	p.str(anyOut, "dst", "%s ", prefixString(r.Dst, r.DstLen, r.Family))
	if r.SrcLen > 0 || r.Src.IsValid() {
		p.str(anyOut, "from", "from %s ", prefixString(r.Src, r.SrcLen, r.Family))
	}
	if r.TOS != 0 {
		p.str(anyOut, "tos", "tos %s ", fmt.Sprintf("0x%02x", r.TOS))
	}
	if r.Gateway.IsValid() && (f == nil || !f.via.IsValid()) {
		p.str(anyOut, "gateway", "via %s ", r.Gateway.String())
	}
	if r.Via.IsValid() {
		p.openObject("via")
		p.str(anyOut, "family", "via %s ", familyName(familyOf(r.Via)))
		p.str(anyOut, "host", "%s ", r.Via.String())
		p.closeObject()
	}
	if r.Attrs.Has(unix.RTA_OIF) && (f == nil || f.oif == 0) {
		p.str(anyOut, "dev", "dev %s ", s.ifname(int32(r.OIF)))
	}
	// The table is printed for lookup answers (cloned) too; protocol
	// and scope are not (iproute2's print_route).
	if table := r.TableID(); table != 0 && (table != unix.RT_TABLE_MAIN || s.details) && (f == nil || f.table == 0) {
		p.str(anyOut, "table", "table %s ", tableName(table))
	}
	if r.Flags&unix.RTM_F_CLONED == 0 {
		if (r.Protocol != unix.RTPROT_BOOT || s.details) && (f == nil || !f.protoSet) {
			p.str(anyOut, "protocol", "proto %s ", protoName(r.Protocol))
		}
		if (r.Scope != unix.RT_SCOPE_UNIVERSE || s.details) && (f == nil || !f.scopeSet) {
			p.str(anyOut, "scope", "scope %s ", scopeName(r.Scope))
		}
	}
	if r.PrefSrc.IsValid() && (f == nil || !f.src.IsValid()) {
		p.str(anyOut, "prefsrc", "src %s ", r.PrefSrc.String())
	}
	if r.Attrs.Has(unix.RTA_PRIORITY) {
		p.uint(anyOut, "metric", "metric %d ", uint64(r.Priority))
	}
	s.printRouteFlags(r.Flags)
	if r.Mark != 0 {
		p.uint(anyOut, "mark", "mark %d ", uint64(r.Mark))
	}
	if r.Attrs.Has(unix.RTA_UID) {
		p.uint(anyOut, "uid", "uid %d ", uint64(r.UID))
	}
	if r.Flags&unix.RTM_F_CLONED != 0 && r.Family == unix.AF_INET {
		p.textRaw("\n    cache ")
		p.openArray("cache")
		s.printCacheFlags(r.Flags &^ 0xffff)
		p.closeArray()
	}
	if r.Metrics != nil {
		s.printMetrics(r.Metrics)
	}
	if r.Attrs.Has(unix.RTA_IIF) {
		p.str(anyOut, "iif", "iif %s ", s.ifname(int32(r.IIF)))
	}
	if len(r.Multipath) > 0 {
		p.openArray("nexthops")
		for i := range r.Multipath {
			h := &r.Multipath[i]
			p.openObject("")
			p.textRaw("\n\tnexthop ")
			if h.Gateway.IsValid() {
				p.str(anyOut, "gateway", "via %s ", h.Gateway.String())
			}
			if h.Via.IsValid() {
				p.openObject("via")
				p.str(anyOut, "family", "via %s ", familyName(familyOf(h.Via)))
				p.str(anyOut, "host", "%s ", h.Via.String())
				p.closeObject()
			}
			if h.Index != 0 {
				p.str(anyOut, "dev", "dev %s ", s.ifname(h.Index))
			}
			if r.Family != unix.AF_MPLS {
				p.uint(anyOut, "weight", "weight %d ", uint64(h.Hops)+1)
			}
			s.printRouteFlags(uint32(h.Flags))
			p.closeObject()
		}
		p.closeArray()
	}
	if r.Attrs.Has(unix.RTA_PREF) {
		pref := strconv.Itoa(int(r.Pref))
		switch r.Pref {
		case 0:
			pref = "medium"
		case 1:
			pref = "high"
		case 3:
			pref = "low"
		}
		p.str(anyOut, "pref", "pref %s", pref)
	}
	p.textRaw("\n")
}

// rtcfNames are the RTCF_* route cache flags in iproute2's order.
var rtcfNames = []struct {
	bit  uint32
	name string
}{
	{0x80000000, "local"}, {0x40000000, "reject"}, {0x20000000, "mc"}, {0x10000000, "brd"},
	{0x08000000, "dst-nat"}, {0x00800000, "src-nat"}, {0x00400000, "masq"}, {0x00020000, "dst-direct"},
	{0x04000000, "src-direct"}, {0x00040000, "redirected"}, {0x01000000, "redirect"},
	{0x00200000, "fastroute"}, {0x00010000, "notify"}, {0x00080000, "tproxy"},
}

func (s *session) printCacheFlags(flags uint32) {
	if flags == 0 {
		return
	}
	p := s.out
	p.textRaw("<")
	first := true
	for _, f := range rtcfNames {
		if flags&f.bit == 0 {
			continue
		}
		flags &^= f.bit
		if !first {
			p.textRaw(",")
		}
		first = false
		p.str(anyOut, "", "%s", f.name)
	}
	if flags != 0 {
		if !first {
			p.textRaw(",")
		}
		p.str(anyOut, "", "%s", fmt.Sprintf("%x", flags))
	}
	p.textRaw("> ")
}

var metricNames = map[uint16]string{
	unix.RTAX_MTU: "mtu", unix.RTAX_WINDOW: "window", unix.RTAX_RTT: "rtt", unix.RTAX_RTTVAR: "rttvar",
	unix.RTAX_SSTHRESH: "ssthresh", unix.RTAX_CWND: "cwnd", unix.RTAX_ADVMSS: "advmss",
	unix.RTAX_REORDERING: "reordering", unix.RTAX_HOPLIMIT: "hoplimit", unix.RTAX_INITCWND: "initcwnd",
	unix.RTAX_FEATURES: "features", unix.RTAX_RTO_MIN: "rto_min", unix.RTAX_INITRWND: "initrwnd",
	unix.RTAX_QUICKACK: "quickack", unix.RTAX_FASTOPEN_NO_COOKIE: "fastopen_no_cookie",
}

func (s *session) printMetrics(m *rtmsg.Metrics) {
	p := s.out
	lock, _ := m.Get(unix.RTAX_LOCK)
	p.openArray("metrics")
	p.openObject("")
	for t := uint16(unix.RTAX_MTU); t <= unix.RTAX_FASTOPEN_NO_COOKIE; t++ {
		v, ok := m.Get(t)
		if !ok {
			continue
		}
		name, known := metricNames[t]
		if !known {
			name = fmt.Sprintf("metric %d", t)
		}
		p.text("%s ", name)
		if lock&(1<<t) != 0 {
			p.textRaw("lock ")
		}
		switch t {
		case unix.RTAX_RTT, unix.RTAX_RTTVAR, unix.RTAX_RTO_MIN:
			// Times as the kernel keeps them: rtt in 1/8 ms,
			// rttvar in 1/4 ms, rto_min in ms.
			switch t {
			case unix.RTAX_RTT:
				v /= 8
			case unix.RTAX_RTTVAR:
				v /= 4
			}
			p.uint(jsonOnly, name, "", uint64(v))
			if v >= 1000 {
				p.text("%gs ", float64(v)/1000)
			} else {
				p.text("%dms ", v)
			}
			continue
		}
		p.uint(anyOut, name, "%d ", uint64(v))
	}
	if m.CCAlgo != "" {
		p.str(anyOut, "congctl", "congctl %s ", m.CCAlgo)
	}
	p.closeObject()
	p.closeArray()
}
