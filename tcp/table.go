package tcp

import (
	"encoding/binary"
	"math"
	"net/netip"
	"syscall"
	"time"

	"github.com/usnet/usnet/executor"
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
)

// Sysctl holds the namespace's net.ipv4.tcp_* settings that apply.
type Sysctl struct {
	SynRetries      int           // tcp_syn_retries (6)
	SynackRetries   int           // tcp_synack_retries (5)
	Retries2        int           // tcp_retries2 (15)
	FinTimeout      time.Duration // TIME_WAIT length (60 s, TCP_TIMEWAIT_LEN)
	MaxSynBacklog   int           // tcp_max_syn_backlog
	RmemDefault     int           // tcp_rmem[1]: initial receive buffer (131072; the window is half)
	WmemDefault     int           // tcp_wmem[1]: initial send buffer (16384)
	RmemMax         int           // tcp_rmem[2]: autotuning's receive limit (32 MiB: Linux 6.18, min(32 MiB, a share of memory))
	WmemMax         int           // tcp_wmem[2]: send buffer growth limit (4 MiB)
	ModerateRcvbuf  bool          // tcp_moderate_rcvbuf (1)
	MaxConnections  int           // bound on the connection table
	SACK            bool          // tcp_sack (1)
	FRTO            int           // tcp_frto (2: F-RTO, RFC 5682 with SACK; 0: off)
	Timestamps      bool          // tcp_timestamps (1)
	KeepaliveTime   time.Duration // tcp_keepalive_time (7200 s)
	KeepaliveIntvl  time.Duration // tcp_keepalive_intvl (75 s)
	KeepaliveProbes int           // tcp_keepalive_probes (9)
	Syncookies      int           // tcp_syncookies (1: when the SYN queue overflows; 2: always; 0: never)
	ECN             int           // tcp_ecn (2: accept ECN when the peer asks, do not ask)
	TwReuse         int           // tcp_tw_reuse (2: reuse TIME_WAIT for outgoing loopback connections; 1: all; 0: never)
	TwReuseDelay    time.Duration // tcp_tw_reuse_delay (1 s)
	MaxTwBuckets    int           // tcp_max_tw_buckets: beyond it a closing connection skips TIME_WAIT
	// ChallengeAckLimit is tcp_challenge_ack_limit, RFC 5961 challenge
	// ACKs per second in the namespace; math.MaxInt32 (Linux's default
	// since 6.0) means no limit, leaving the per-connection 500 ms one.
	ChallengeAckLimit int
	// CongestionControl is tcp_congestion_control ("cubic").
	CongestionControl string
	// CompSackNr is tcp_comp_sack_nr, the most duplicate ACKs held back
	// in a row (44; 0 turns SACK compression off), and CompSackDelay
	// tcp_comp_sack_delay_ns, the longest they are held (1 ms).
	CompSackNr    int
	CompSackDelay time.Duration
}

func defaultSysctl() Sysctl {
	return Sysctl{SynRetries: 6, SynackRetries: 5, Retries2: 15, FinTimeout: 60 * time.Second,
		MaxSynBacklog: 256, RmemDefault: 131072, WmemDefault: 16384,
		RmemMax: 32 << 20, WmemMax: 4 << 20, ModerateRcvbuf: true, MaxConnections: 65536,
		CongestionControl: "cubic", SACK: true, FRTO: 2, Timestamps: true, Syncookies: 1,
		ECN: 2, TwReuse: defaultTwReuse, TwReuseDelay: defaultTwReuseDelay, MaxTwBuckets: defaultMaxTw,
		KeepaliveTime: 7200 * time.Second, KeepaliveIntvl: 75 * time.Second, KeepaliveProbes: 9,
		ChallengeAckLimit: math.MaxInt32, CompSackNr: compSackNr, CompSackDelay: compSackDelay}
}

// Stats are the Tcp: SNMP counters that apply.
type Stats struct {
	ActiveOpens, PassiveOpens, AttemptFails, EstabResets uint64
	InSegs, OutSegs, RetransSegs, InErrs, OutRsts        uint64
	InCsumErrors, ListenOverflows                        uint64
	SyncookiesSent, SyncookiesRecv, SyncookiesFailed     uint64
	ChallengeACKs                                        uint64
	TWRecycled, TWOverflow                               uint64 // TIME_WAIT taken over by a connect; skipped at tcp_max_tw_buckets
	// TcpExt counters of undone reductions (undo.go).
	TCPSpuriousRTOs, TCPFullUndo, TCPPartialUndo, TCPDSACKUndo, TCPLossUndo uint64
	// TcpExt counters of tail loss probes sent, of probes that repaired a
	// loss, and of retransmitted segments lost again (tlp.go, rack.go).
	TCPLossProbes, TCPLossProbeRecovery, TCPLostRetransmit uint64
	// TcpExt counters of resets for data nobody will read: arriving after
	// close(2), or unread at close(2).
	TCPAbortOnData, TCPAbortOnClose uint64
	// TcpExt counters of D-SACKs sent for data below rcv_nxt and for
	// out-of-order data, and of out-of-order segments dropped as
	// duplicates or covered (sack.go, input.go).
	TCPDSACKOldSent, TCPDSACKOfoSent, TCPOFOMerge uint64
	// TcpExt counters of delayed ACKs sent by their timer and of SACK
	// reneging seen (delack.go, sack.go).
	DelayedACKs, TCPSACKReneging uint64
	// TcpExt counter of duplicate ACKs held back and never sent
	// (compsack.go).
	TCPAckCompressed uint64
}

type key struct {
	la, ra netip.Addr
	lp, rp uint16
}

// Table is the TCP state of a namespace.
type Table struct {
	ip        *ipv4.Layer
	exec      executor.Executor
	pool      *skb.Pool
	conns     map[key]*Conn
	listeners map[uint16][]*Listener
	ports     map[uint16]int // local ports in use, by count
	bound     map[uint16]int // ports bound explicitly by connect (bind before connect)
	nextEp    uint16
	perturb   [perturbSize]uint32 // __inet_hash_connect's table_perturb
	portKey   uint64
	tw        int      // connections in TIME_WAIT
	rxCE      bool     // the segment being received arrived CE-marked
	rxBuf     *skb.Buf // the packet being received, whose payload receive queues may keep
	fires     uint64   // connection timers run (tests check none is left armed)
	cookieKey [2]uint64
	// challenge ACK budget (tcp_challenge_ack_limit)
	challengeSec   time.Duration
	challengeCount int
	Sysctl         Sysctl
	Stats          Stats
}

// New creates the TCP layer of a namespace and registers protocol 6.
func New(l *ipv4.Layer) *Table {
	t := &Table{ip: l, exec: l.Exec(), pool: l.Pool(), conns: map[key]*Conn{}, listeners: map[uint16][]*Listener{},
		ports: map[uint16]int{}, bound: map[uint16]int{}, Sysctl: defaultSysctl()}
	t.nextEp = uint16(t.exec.Rand().Uint32())
	t.cookieKey = [2]uint64{t.exec.Rand().Uint64(), t.exec.Rand().Uint64()}
	t.portKey = t.exec.Rand().Uint64()
	l.Register(6, t)
	l.SetEarlyDemux(t.earlyDemux)
	return t
}

// earlyDemux is tcp_v4_early_demux: whether the established connection
// of the segment after IP header h has a valid input route for it, the
// one the previous segment took (inet_sk_rx_dst_set in Receive): same
// receiving device, same route generation. The lookup key is the
// 4-tuple; like Linux, the mark and TOS a policy rule might select on
// are not compared.
func (t *Table) earlyDemux(h []byte, iif int, gen uint64) bool {
	ihl := int(h[0]&0x0f) * 4
	if len(h) < ihl+4 || len(h) < 20 {
		return false
	}
	k := key{
		la: netip.AddrFrom4([4]byte(h[16:20])), ra: netip.AddrFrom4([4]byte(h[12:16])),
		lp: binary.BigEndian.Uint16(h[ihl+2:]), rp: binary.BigEndian.Uint16(h[ihl:]),
	}
	c := t.conns[k]
	return c != nil && c.state != TimeWait && c.rxOK && c.rxIfindex == iif && c.rxGen == gen
}

// ephemeral picks a free local port from ip_local_port_range.
func (t *Table) ephemeral() (uint16, error) {
	lo, hi := t.ip.Sysctl.LocalPortLow, t.ip.Sysctl.LocalPortHigh
	n := int(hi) - int(lo) + 1
	for i := 0; i < n; i++ {
		t.nextEp++
		p := lo + uint16(int(t.nextEp)%n)
		if t.ports[p] == 0 && len(t.listeners[p]) == 0 {
			return p, nil
		}
	}
	return 0, syscall.EADDRNOTAVAIL
}

func (t *Table) hold(p uint16) { t.ports[p]++ }

func (t *Table) release(p uint16) {
	if t.ports[p]--; t.ports[p] <= 0 {
		delete(t.ports, p)
	}
}

// lookupListener finds the listener for a SYN to dst:port (specific
// address before wildcard).
func (t *Table) lookupListener(dst netip.Addr, port uint16) *Listener {
	var wild *Listener
	for _, l := range t.listeners[port] {
		if l.addr == dst {
			return l
		}
		if l.addr.IsUnspecified() {
			wild = l
		}
	}
	return wild
}

// Error is told of ICMP errors about our segments (tcp_v4_err): a hard
// error aborts a connection still opening, and is reported otherwise.
func (t *Table) Error(typ, code uint8, info uint32, inner []byte) {
	if len(inner) < 20 {
		return
	}
	ihl := int(inner[0]&0x0f) * 4
	if ihl < 20 || len(inner) < ihl+8 {
		return
	}
	src := netip.AddrFrom4([4]byte(inner[12:16]))
	dst := netip.AddrFrom4([4]byte(inner[16:20]))
	sp := uint16(inner[ihl])<<8 | uint16(inner[ihl+1])
	dp := uint16(inner[ihl+2])<<8 | uint16(inner[ihl+3])
	c := t.conns[key{la: src, ra: dst, lp: sp, rp: dp}]
	if c == nil {
		return
	}
	c.icmpError(typ, code, info)
}

var _ ipv4.ProtoHandler = (*Table)(nil)

func (t *Table) devOf(rt *ipv4.Route) *netdev.Device { return rt.Dev }

// NumConns is the number of connections in the table, TIME_WAIT included.
func (t *Table) NumConns() int { return len(t.conns) }

// NumTimeWait is the number of connections in TIME_WAIT.
func (t *Table) NumTimeWait() int { return t.tw }

// NumPorts is the number of local ports held by connections.
func (t *Table) NumPorts() int { return len(t.ports) }

// newTimer makes a connection timer that is not always needed; it and
// Conn.initTimers count every firing, so a test can tell whether any
// timer still fires after the connections are gone.
func (t *Table) newTimer(f func()) *executor.Timer {
	return t.exec.NewTimer(func() {
		t.fires++
		f()
	})
}
