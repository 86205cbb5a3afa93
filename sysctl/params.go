package sysctl

import (
	"math"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/tcp"
	"github.com/usnet/usnet/tcp/cc"
)

// Ranges of the kernel's proc handlers.
const (
	intMin = math.MinInt32
	intMax = math.MaxInt32
	u8Max  = math.MaxUint8
	// hz is the jiffy rate that bounds the values proc_dointvec_jiffies
	// accepts (INT_MAX / HZ seconds); CONFIG_HZ=250 as on common kernels.
	hz = 250
	// gidMax is the largest valid gid (gid_valid: not (gid_t)-1).
	gidMax = math.MaxUint32 - 1
	// rmemMin is the least value each of tcp_rmem's three takes
	// (measured on Linux 6.18; tcp_wmem takes 1).
	rmemMin = 4096
	// memFloor is what tcp_rmem[0] and tcp_wmem[0] read: the kernel's
	// default (usnet has no memory pressure that would use it).
	memFloor = 4096
)

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func vec(v ...int64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = itoa(x)
	}
	return strings.Join(s, "\t")
}

// scalar makes a single-integer name in [lo, hi].
func scalar(name string, lo, hi int64, get func(Net) int64, set func(Net, int64)) param {
	return param{name: name, get: func(n Net) string { return itoa(get(n)) },
		set: func(n Net, s string) error {
			v := []int64{get(n)}
			if err := parseVec(s, v); err != nil {
				return err
			}
			if err := inRange(v, lo, hi); err != nil {
				return err
			}
			set(n, v[0])
			return nil
		}}
}

// tcpScalar is scalar over the TCP table's settings.
func tcpScalar(name string, lo, hi int64, get func(*tcp.Sysctl) int64, set func(*tcp.Sysctl, int64)) param {
	p := scalar(name, lo, hi, func(n Net) int64 { return get(&n.TCP.Sysctl) }, func(n Net, v int64) { set(&n.TCP.Sysctl, v) })
	p.tcp = true
	return p
}

func ip(n Net) *ipv4.Sysctl { return &n.IPv4.Sysctl }

// seconds and millis convert between a duration and the unit a name
// shows.
func seconds(d time.Duration) int64 { return int64(d / time.Second) }
func millis(d time.Duration) int64  { return int64(d / time.Millisecond) }

// params are the namespace-wide names, sorted.
var params = []param{
	scalar("net.ipv4.icmp_echo_ignore_all", 0, 1,
		func(n Net) int64 { return b2i(ip(n).ICMPEchoIgnoreAll) },
		func(n Net, v int64) { ip(n).ICMPEchoIgnoreAll = v != 0 }),
	scalar("net.ipv4.icmp_echo_ignore_broadcasts", 0, 1,
		func(n Net) int64 { return b2i(ip(n).ICMPEchoIgnoreBroadcasts) },
		func(n Net, v int64) { ip(n).ICMPEchoIgnoreBroadcasts = v != 0 }),
	scalar("net.ipv4.icmp_ratelimit", 0, intMax,
		func(n Net) int64 { return ip(n).ICMPRateLimit / 1e6 },
		func(n Net, v int64) { ip(n).ICMPRateLimit = v * 1e6 }),
	scalar("net.ipv4.icmp_ratemask", intMin, intMax,
		func(n Net) int64 { return int64(int32(ip(n).ICMPRateMask)) },
		func(n Net, v int64) { ip(n).ICMPRateMask = uint32(v) }),
	scalar("net.ipv4.ip_default_ttl", 1, 255,
		func(n Net) int64 { return int64(ip(n).DefaultTTL) },
		func(n Net, v int64) { ip(n).DefaultTTL = uint8(v) }),
	// ip_forward is conf.all.forwarding (devinet_sysctl_forward).
	{name: "net.ipv4.ip_forward",
		get: func(n Net) string { return itoa(b2i(n.IPv4.All.Forwarding)) },
		set: func(n Net, s string) error { return setConf(n, ipv4.ConfAll, ipv4.ConfForwarding, s) }},
	scalar("net.ipv4.ip_forward_use_pmtu", 0, u8Max,
		func(n Net) int64 { return b2i(ip(n).FwdUseMTU) },
		func(n Net, v int64) { ip(n).FwdUseMTU = v != 0 }),
	{name: "net.ipv4.ip_local_port_range",
		get: func(n Net) string { return vec(int64(ip(n).LocalPortLow), int64(ip(n).LocalPortHigh)) },
		set: func(n Net, s string) error {
			v := []int64{int64(ip(n).LocalPortLow), int64(ip(n).LocalPortHigh)}
			if err := parseVec(s, v); err != nil {
				return err
			}
			// ipv4_local_port_range: 1..65535, low <= high, and no
			// overlap with the privileged ports.
			if inRange(v, 1, 65535) != nil || v[1] < v[0] || v[0] < int64(ip(n).UnprivilegedPortStart) {
				return syscall.EINVAL
			}
			ip(n).LocalPortLow, ip(n).LocalPortHigh = uint16(v[0]), uint16(v[1])
			return nil
		}},
	scalar("net.ipv4.tcp_early_demux", 0, 1,
		func(n Net) int64 { return b2i(ip(n).TCPEarlyDemux) },
		func(n Net, v int64) { ip(n).TCPEarlyDemux = v != 0 }),
	scalar("net.ipv4.ip_no_pmtu_disc", 0, u8Max,
		func(n Net) int64 { return int64(ip(n).IPNoPMTUDisc) },
		func(n Net, v int64) { ip(n).IPNoPMTUDisc = int(v) }),
	{name: "net.ipv4.ip_unprivileged_port_start",
		get: func(n Net) string { return itoa(int64(ip(n).UnprivilegedPortStart)) },
		set: func(n Net, s string) error {
			v := []int64{int64(ip(n).UnprivilegedPortStart)}
			if err := parseVec(s, v); err != nil {
				return err
			}
			// ipv4_privileged_ports: 0..65535, not above the local
			// port range.
			if inRange(v, 0, 65535) != nil || v[0] > int64(ip(n).LocalPortLow) {
				return syscall.EINVAL
			}
			ip(n).UnprivilegedPortStart = uint16(v[0])
			return nil
		}},
	// ipfrag_high_thresh may not go below ipfrag_low_thresh, which usnet
	// does not model: the kernel's default, 3 MiB, stands for it.
	scalar("net.ipv4.ipfrag_high_thresh", 3<<20, math.MaxInt64,
		func(n Net) int64 { return int64(ip(n).IPFragHighThresh) },
		func(n Net, v int64) { ip(n).IPFragHighThresh = int(v) }),
	scalar("net.ipv4.ipfrag_time", -intMax/hz, intMax/hz,
		func(n Net) int64 { return ip(n).IPFragTime / 1e9 },
		func(n Net, v int64) { ip(n).IPFragTime = v * 1e9 }),
	{name: "net.ipv4.ping_group_range",
		get: func(n Net) string { return vec(int64(ip(n).PingGroupLow), int64(ip(n).PingGroupHigh)) },
		set: func(n Net, s string) error {
			v := []int64{int64(ip(n).PingGroupLow), int64(ip(n).PingGroupHigh)}
			if err := parseVec(s, v); err != nil {
				return err
			}
			if err := inRange(v, 0, gidMax); err != nil {
				return err
			}
			if v[1] < v[0] {
				v[0], v[1] = 1, 0 // ipv4_ping_group_range: nobody
			}
			ip(n).PingGroupLow, ip(n).PingGroupHigh = uint32(v[0]), uint32(v[1])
			return nil
		}},
	{name: "net.ipv4.tcp_available_congestion_control", tcp: true,
		get: func(Net) string { return strings.Join(cc.Names(), " ") }},
	tcpScalar("net.ipv4.tcp_challenge_ack_limit", intMin, intMax,
		func(s *tcp.Sysctl) int64 { return int64(s.ChallengeAckLimit) },
		func(s *tcp.Sysctl, v int64) { s.ChallengeAckLimit = int(v) }),
	{name: "net.ipv4.tcp_congestion_control", tcp: true,
		get: func(n Net) string { return n.TCP.Sysctl.CongestionControl },
		set: func(n Net, s string) error {
			s = strings.TrimSpace(s)
			if _, err := cc.New(s); err != nil {
				return syscall.ENOENT
			}
			n.TCP.Sysctl.CongestionControl = s
			return nil
		}},
	tcpScalar("net.ipv4.tcp_ecn", 0, 2,
		func(s *tcp.Sysctl) int64 { return int64(s.ECN) },
		func(s *tcp.Sysctl, v int64) { s.ECN = int(v) }),
	tcpScalar("net.ipv4.tcp_frto", 0, u8Max,
		func(s *tcp.Sysctl) int64 { return int64(s.FRTO) },
		func(s *tcp.Sysctl, v int64) { s.FRTO = int(v) }),
	tcpScalar("net.ipv4.tcp_keepalive_intvl", -intMax/hz, intMax/hz,
		func(s *tcp.Sysctl) int64 { return seconds(s.KeepaliveIntvl) },
		func(s *tcp.Sysctl, v int64) { s.KeepaliveIntvl = time.Duration(v) * time.Second }),
	tcpScalar("net.ipv4.tcp_keepalive_probes", 0, u8Max,
		func(s *tcp.Sysctl) int64 { return int64(s.KeepaliveProbes) },
		func(s *tcp.Sysctl, v int64) { s.KeepaliveProbes = int(v) }),
	tcpScalar("net.ipv4.tcp_keepalive_time", -intMax/hz, intMax/hz,
		func(s *tcp.Sysctl) int64 { return seconds(s.KeepaliveTime) },
		func(s *tcp.Sysctl, v int64) { s.KeepaliveTime = time.Duration(v) * time.Second }),
	tcpScalar("net.ipv4.tcp_max_syn_backlog", intMin, intMax,
		func(s *tcp.Sysctl) int64 { return int64(s.MaxSynBacklog) },
		func(s *tcp.Sysctl, v int64) { s.MaxSynBacklog = int(v) }),
	tcpScalar("net.ipv4.tcp_max_tw_buckets", intMin, intMax,
		func(s *tcp.Sysctl) int64 { return int64(s.MaxTwBuckets) },
		func(s *tcp.Sysctl, v int64) { s.MaxTwBuckets = int(v) }),
	tcpScalar("net.ipv4.tcp_moderate_rcvbuf", 0, u8Max,
		func(s *tcp.Sysctl) int64 { return b2i(s.ModerateRcvbuf) },
		func(s *tcp.Sysctl, v int64) { s.ModerateRcvbuf = v != 0 }),
	tcpScalar("net.ipv4.tcp_retries2", 0, u8Max,
		func(s *tcp.Sysctl) int64 { return int64(s.Retries2) },
		func(s *tcp.Sysctl, v int64) { s.Retries2 = int(v) }),
	memParam("net.ipv4.tcp_rmem", rmemMin,
		func(s *tcp.Sysctl) (*int, *int) { return &s.RmemDefault, &s.RmemMax }),
	tcpScalar("net.ipv4.tcp_sack", 0, u8Max,
		func(s *tcp.Sysctl) int64 { return b2i(s.SACK) },
		func(s *tcp.Sysctl, v int64) { s.SACK = v != 0 }),
	tcpScalar("net.ipv4.tcp_syn_retries", 1, 127,
		func(s *tcp.Sysctl) int64 { return int64(s.SynRetries) },
		func(s *tcp.Sysctl, v int64) { s.SynRetries = int(v) }),
	tcpScalar("net.ipv4.tcp_synack_retries", 0, u8Max,
		func(s *tcp.Sysctl) int64 { return int64(s.SynackRetries) },
		func(s *tcp.Sysctl, v int64) { s.SynackRetries = int(v) }),
	tcpScalar("net.ipv4.tcp_syncookies", 0, u8Max,
		func(s *tcp.Sysctl) int64 { return int64(s.Syncookies) },
		func(s *tcp.Sysctl, v int64) { s.Syncookies = int(v) }),
	tcpScalar("net.ipv4.tcp_timestamps", 0, u8Max,
		func(s *tcp.Sysctl) int64 { return b2i(s.Timestamps) },
		func(s *tcp.Sysctl, v int64) { s.Timestamps = v != 0 }),
	tcpScalar("net.ipv4.tcp_tw_reuse", 0, 2,
		func(s *tcp.Sysctl) int64 { return int64(s.TwReuse) },
		func(s *tcp.Sysctl, v int64) { s.TwReuse = int(v) }),
	tcpScalar("net.ipv4.tcp_tw_reuse_delay", 1, intMax,
		func(s *tcp.Sysctl) int64 { return millis(s.TwReuseDelay) },
		func(s *tcp.Sysctl, v int64) { s.TwReuseDelay = time.Duration(v) * time.Millisecond }),
	memParam("net.ipv4.tcp_wmem", 1,
		func(s *tcp.Sysctl) (*int, *int) { return &s.WmemDefault, &s.WmemMax }),
}

// memParam is tcp_rmem or tcp_wmem: "min default max", each at least lo.
// usnet keeps default and max; min reads as the kernel's default.
func memParam(name string, lo int64, fields func(*tcp.Sysctl) (*int, *int)) param {
	return param{name: name, tcp: true,
		get: func(n Net) string {
			d, m := fields(&n.TCP.Sysctl)
			return vec(memFloor, int64(*d), int64(*m))
		},
		set: func(n Net, s string) error {
			d, m := fields(&n.TCP.Sysctl)
			v := []int64{memFloor, int64(*d), int64(*m)}
			if err := parseVec(s, v); err != nil {
				return err
			}
			if err := inRange(v, lo, intMax); err != nil {
				return err
			}
			*d, *m = int(v[1]), int(v[2])
			return nil
		}}
}
