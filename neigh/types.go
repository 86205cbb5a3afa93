package neigh

import (
	"time"
)

// State is a NUD state (include/uapi/linux/neighbour.h values).
type State uint16

// NUD states.
const (
	StateNone       State = 0x00
	StateIncomplete State = 0x01
	StateReachable  State = 0x02
	StateStale      State = 0x04
	StateDelay      State = 0x08
	StateProbe      State = 0x10
	StateFailed     State = 0x20
	StateNoARP      State = 0x40
	StatePermanent  State = 0x80
)

// State classes of include/net/neighbour.h.
const (
	inTimer   = StateIncomplete | StateReachable | StateDelay | StateProbe
	valid     = StatePermanent | StateNoARP | StateReachable | StateProbe | StateStale | StateDelay
	connected = StatePermanent | StateNoARP | StateReachable
)

// Valid reports NUD_VALID: the entry holds a usable link-layer address.
func (s State) Valid() bool { return s&valid != 0 }

// Connected reports NUD_CONNECTED: the address is known good.
func (s State) Connected() bool { return s&connected != 0 }

var stateNames = [...]struct {
	s    State
	name string
}{
	{StateIncomplete, "INCOMPLETE"}, {StateReachable, "REACHABLE"}, {StateStale, "STALE"},
	{StateDelay, "DELAY"}, {StateProbe, "PROBE"}, {StateFailed, "FAILED"},
	{StateNoARP, "NOARP"}, {StatePermanent, "PERMANENT"},
}

// String returns the name `ip neigh` prints.
func (s State) String() string {
	if s == StateNone {
		return "NONE"
	}
	for _, n := range stateNames {
		if s == n.s {
			return n.name
		}
	}
	return "UNKNOWN"
}

// Flags are the NTF_* entry flags.
type Flags uint8

// Entry flags (include/uapi/linux/neighbour.h).
const (
	FlagUse        Flags = 0x01
	FlagSelf       Flags = 0x02
	FlagMaster     Flags = 0x04
	FlagProxy      Flags = 0x08
	FlagExtLearned Flags = 0x10
	FlagOffloaded  Flags = 0x20
	FlagSticky     Flags = 0x40
	FlagRouter     Flags = 0x80
)

// UpdateFlags are the NEIGH_UPDATE_F_* flags of Update.
type UpdateFlags uint32

// Update flags (include/net/neighbour.h).
const (
	// UpdateOverride: a different lladdr replaces the cached one.
	UpdateOverride UpdateFlags = 1 << 0
	// UpdateWeakOverride: a different lladdr only makes a connected
	// entry STALE, keeping the old address (NDP's unsolicited adverts).
	UpdateWeakOverride UpdateFlags = 1 << 1
	// UpdateOverrideIsRouter: the IsRouter flag may change.
	UpdateOverrideIsRouter UpdateFlags = 1 << 2
	// UpdateExtLearned: with UpdateAdmin, the entry's NTF_EXT_LEARNED
	// flag becomes this bit's value (neigh_update_ext_learned).
	UpdateExtLearned UpdateFlags = 1 << 29
	// UpdateIsRouter: the new IsRouter value (with OverrideIsRouter).
	UpdateIsRouter UpdateFlags = 1 << 30
	// UpdateAdmin: the change comes from the administrator: NOARP and
	// PERMANENT entries may change, and STALE is applied as given.
	UpdateAdmin UpdateFlags = 1 << 31
)

// Params are a device's neighbour parameters (net.ipv4.neigh.DEV.*), the
// NEIGH_VAR values of struct neigh_parms.
type Params struct {
	BaseReachable   time.Duration // base_reachable_time
	RetransTime     time.Duration // retrans_time
	DelayFirstProbe time.Duration // delay_first_probe_time
	GCStaleTime     time.Duration // gc_stale_time
	LockTime        time.Duration // locktime
	UcastProbes     int           // ucast_solicit
	McastProbes     int           // mcast_solicit
	AppProbes       int           // app_solicit
	MCastReprobes   int           // mcast_resolicit
	// QueueLenBytes bounds the bytes (in skb truesize terms, see
	// Truesize) queued on one unresolved entry: unres_qlen_bytes.
	QueueLenBytes int
	// EvictNoCarrier: carrier loss flushes the device's entries
	// (arp_evict_nocarrier / ndisc_evict_nocarrier).
	EvictNoCarrier bool
}

// DefaultParams returns Linux's arp_tbl defaults.
func DefaultParams() Params {
	return Params{
		BaseReachable:   30 * time.Second,
		RetransTime:     time.Second,
		DelayFirstProbe: 5 * time.Second,
		GCStaleTime:     60 * time.Second,
		LockTime:        time.Second,
		UcastProbes:     3,
		McastProbes:     3,
		AppProbes:       0,
		MCastReprobes:   0,
		QueueLenBytes:   212992, // SK_WMEM_MAX: sysctl_wmem_max's default
		EvictNoCarrier:  true,
	}
}

// Table-wide defaults (net.ipv4.neigh.default.gc_*).
const (
	DefaultGCThresh1 = 128
	DefaultGCThresh2 = 512
	DefaultGCThresh3 = 1024
	// forcedGCAge: an entry updated within this is spared by forced GC,
	// and forced GC runs over gc_thresh2 at most this often.
	forcedGCAge = 5 * time.Second
	// reachRandInterval: how often reachable_time is redrawn.
	reachRandInterval = 300 * time.Second
	// minTimer is HZ/100, the shortest re-arm of an entry timer.
	minTimer = 10 * time.Millisecond
)

// skbOverhead approximates what Linux adds to a packet's length in its
// truesize: SKB_DATA_ALIGN(sizeof(struct sk_buff)) plus
// SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) on x86-64.
const skbOverhead = 256 + 320

// Truesize is the memory charge of b in the unresolved queue, so that
// unres_qlen_bytes bounds about as many packets as it does in Linux.
func Truesize(n int) int { return n + skbOverhead }

// Stats are the table's counters, the columns of /proc/net/stat/arp_cache.
type Stats struct {
	Allocs         uint64
	Destroys       uint64
	HashGrows      uint64
	Lookups        uint64
	Hits           uint64
	ResFailed      uint64
	RcvProbesMcast uint64
	RcvProbesUcast uint64
	PeriodicGCRuns uint64
	ForcedGCRuns   uint64
	UnresDiscards  uint64
	TableFulls     uint64
}

// Event is what a table tells its subscribers.
type Event int

const (
	// EventNew is RTM_NEWNEIGH: sent on every change neigh_update and the
	// timer report (Linux has no separate "update" message).
	EventNew Event = iota
	// EventDelete is RTM_DELNEIGH: the entry was removed.
	EventDelete
)

// Notifier receives table events. It runs on the executor, after the
// change; it must not keep e beyond the call for EventDelete.
type Notifier func(ev Event, e *Entry)
