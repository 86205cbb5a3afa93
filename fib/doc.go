// Package fib is the IPv4 forwarding information base of a namespace
// (net/ipv4/fib_*.c): routing tables, policy rules, longest-prefix match,
// nexthop validation, multipath selection, path-MTU exceptions and the
// `ip route get` lookup. It implements the ipv4 package's Router,
// RouteHooks and PMTUUpdater, and runs on the namespace executor.
//
// Storage: every table is a multibit trie with strides 16-8-8 (see
// table.go and node.go for the layout and why): a direct root array for
// prefixes up to /16, and popcount-compressed 256-slot nodes for /17-/24
// and /25-/32, whose lookup blocks live in one arena. A lookup is two to
// three dependent memory reads and never allocates; an update rewrites at
// most one node. Routes are 16-byte aliases (struct fib_alias) pointing
// at deduplicated, shared route info (struct fib_info), so a BGP-sized
// table costs about 60 bytes per route. Linux's LC-trie adapts its
// strides to the data; the fixed strides here would cost 256 KiB of root
// even for a namespace's handful of routes, so a table of up to 32
// prefixes is a list scanned longest first, and becomes a trie when it
// grows. Benchmarks: BenchmarkInsert1M, BenchmarkLookup1M and
// BenchmarkRouteOutput.
//
// Lookups: while the rules are the three default ones (no custom rules,
// Linux's !fib_has_custom_rules), a lookup goes straight to tables local,
// main and default without walking the rules (lookupDefault); any rule
// change recomputes that (rulesChanged). There is no per-flow cache, as
// Linux has none since the route cache went: an input lookup for a
// forwarded packet is the table lookups plus fib_validate_source, which
// with rp_filter off is one hash lookup for accept_local.
package fib

import (
	"net/netip"
	"time"
)

// Nexthop is one path of a route (struct fib_nh).
type Nexthop struct {
	Gateway netip.Addr // invalid: directly connected
	Ifindex int
	Weight  int    // 1..256 (rtnh_hops+1); 0 means 1
	Flags   uint32 // RTNH_F_ONLINK, RTNH_F_DEAD, RTNH_F_LINKDOWN
	// scope is nh_scope, set when the route is validated: the scope of
	// the route the gateway resolved through (host: a local address,
	// which lookups then treat as no gateway).
	scope uint8
}

// Metrics are a route's RTAX_* values; zero means unset.
type Metrics struct {
	Lock                                             uint32
	MTU, Window, RTT, RTTVar, SSThresh, Cwnd, AdvMSS uint32
	Reordering, Hoplimit, InitCwnd, Features, RTOMin uint32
	InitRwnd, QuickAck                               uint32
	CCAlgo                                           string
}

// Route is one FIB entry (struct fib_alias with its fib_info).
type Route struct {
	Table    uint32
	Dst      netip.Prefix // masked
	TOS      uint8
	Priority uint32
	Type     uint8 // RTN_*
	Scope    uint8 // RT_SCOPE_*
	Protocol uint8 // RTPROT_*
	Prefsrc  netip.Addr
	Flags    uint32
	Metrics  Metrics
	Nexthops []Nexthop
}

// PortRange is a rule's sport/dport selector; zero is any.
type PortRange struct{ Start, End uint16 }

func (p PortRange) any() bool            { return p.Start == 0 && p.End == 0 }
func (p PortRange) has(port uint16) bool { return port >= p.Start && port <= p.End }

// Rule is a policy routing rule (struct fib4_rule).
type Rule struct {
	Priority          uint32
	Src, Dst          netip.Prefix // invalid: any
	IIf, OIf          string
	Mark, Mask        uint32
	TOS               uint8
	IPProto           uint8
	Sport, Dport      PortRange
	Action            uint8 // FR_ACT_*
	Table             uint32
	Goto              uint32
	SuppressPrefixLen int // -1: not set
	SuppressIfgroup   int // -1: not set
	Flags             uint32
	Protocol          uint8
}

// Info identifies the netlink request behind a change.
type Info struct {
	Portid, Seq uint32
	NlFlags     uint16
}

// Event says what changed.
type Event int

const (
	RouteAdd Event = iota
	RouteDel
	RuleAdd
	RuleDel
)

// Notifier is told of every change that Linux notifies; silent flushes
// (link down, an address's routes) are not reported, as in Linux.
type Notifier func(ev Event, r *Route, rule *Rule, info Info)

// Query is an `ip route get` request (RTM_GETROUTE).
type Query struct {
	Dst, Src     netip.Addr
	Iif, Oif     int
	Mark         uint32
	TOS, IPProto uint8
	Sport, Dport uint16
	FibMatch     bool
}

// Result is what `ip route get` prints.
type Result struct {
	Type    uint8
	Table   uint32
	Dst     netip.Addr
	Src     netip.Addr // the query's source, when given
	Dev     int
	Gateway netip.Addr
	Prefsrc netip.Addr
	Iif     int
	Flags   uint32  // RTCF_* as rtm_flags
	MTU     int     // the route's MTU metric or a smaller PMTU exception; 0 when none
	Metrics Metrics // the matched route's metrics (RTA_METRICS of the answer), MTU as above
	Expires time.Duration
	Scope   uint8
	Route   *Route // the matched entry (for fibmatch)
}

// Sysctl holds the FIB's namespace-wide settings.
type Sysctl struct {
	MultipathHashPolicy int           // fib_multipath_hash_policy: 0 L3, 1 L4
	MTUExpires          time.Duration // route/mtu_expires
	MinPMTU             int           // route/min_pmtu
	MaxPMTUEntries      int           // bound of the exception cache
}
