package neigh

import (
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/usnet/usnet/executor"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
)

// Ops is what a protocol provides to its table (struct neigh_ops plus the
// constructor).
type Ops interface {
	// Solicit sends a solicitation for e: unicast to e.LLAddr when
	// unicast is set (a reachability probe), broadcast otherwise. queued
	// is a clone of the newest packet waiting on e, or nil; the protocol
	// may use its source address (arp_announce) and must free it.
	Solicit(t *Table, e *Entry, unicast bool, queued *skb.Buf)
	// EtherType is the type of the packets the table resolves for.
	EtherType() uint16
}

// Constructor is implemented by protocols that set up new entries
// themselves (arp_constructor): NOARP for multicast, broadcast and
// NOARP/loopback devices, with the matching link-layer address. Without
// it, entries on NOARP or loopback devices become NOARP with the device's
// own address and all others start in NONE.
type Constructor interface {
	Construct(t *Table, e *Entry)
}

// ErrorReporter is implemented by protocols that report packets dropped
// when resolution fails (arp_error_report: ICMP host unreachable). It
// takes ownership of b.
type ErrorReporter interface {
	ErrorReport(t *Table, e *Entry, b *skb.Buf)
}

// key identifies an entry: the device and the protocol address.
type key struct {
	ifindex int
	addr    netip.Addr
}

// Entry is one neighbour (struct neighbour). Its exported fields are
// read-only outside this package.
type Entry struct {
	Addr   netip.Addr
	Dev    *netdev.Device
	State  State
	Flags  Flags
	LLAddr [6]byte
	// Probes counts solicitations sent in this round (neigh->probes).
	Probes int
	// Updated is the last state or address change, Used the last use
	// for output, Confirmed the last proof of reachability.
	Updated, Used, Confirmed time.Duration

	t     *Table
	k     key
	timer *executor.Timer
	dead  bool
	// gcExempt: PERMANENT or externally learned at creation; such
	// entries are not counted against the gc thresholds.
	gcExempt bool

	// hh is the prebuilt link-layer header (hh_cache).
	hh [14]byte

	// qhead..qtail is the unresolved queue, linked through Buf.Next.
	qhead, qtail *skb.Buf
	qbytes       int
	qlen         int

	// prev, next link all entries in creation order (the gc list).
	prev, next *Entry
}

// QueueLen returns the packets and truesize bytes awaiting resolution.
func (e *Entry) QueueLen() (packets, bytes int) { return e.qlen, e.qbytes }

// IsRouter reports NTF_ROUTER.
func (e *Entry) IsRouter() bool { return e.Flags&FlagRouter != 0 }

// Header returns the cached link-layer header.
func (e *Entry) Header() [14]byte { return e.hh }

// rebuildHeader refreshes the cached Ethernet header from the entry's
// address and the device's current one (neigh_update_hhs).
func (e *Entry) rebuildHeader() {
	copy(e.hh[0:6], e.LLAddr[:])
	src := e.Dev.Addr()
	copy(e.hh[6:12], src[:])
	binary.BigEndian.PutUint16(e.hh[12:14], e.t.etherType)
}

// pushHeader prepends the cached header to b; it reports false (and b is
// untouched) if b cannot be given the headroom.
func (e *Entry) pushHeader(b *skb.Buf) bool {
	h := b.Push(14)
	if h == nil {
		if !b.Expand(14, 0) {
			return false
		}
		h = b.Push(14)
	}
	copy(h, e.hh[:])
	b.SetL2()
	b.Protocol = e.t.etherType
	return true
}

// enqueue appends b to the unresolved queue, dropping the oldest packets
// while the byte bound would be exceeded (__neigh_event_send).
func (e *Entry) enqueue(b *skb.Buf, limit int) {
	sz := Truesize(b.Len())
	for e.qhead != nil && e.qbytes+sz > limit {
		old := e.dequeue()
		old.Free()
		e.t.Stats.UnresDiscards++
	}
	b.Next = nil
	if e.qtail == nil {
		e.qhead = b
	} else {
		e.qtail.Next = b
	}
	e.qtail = b
	e.qbytes += sz
	e.qlen++
}

func (e *Entry) dequeue() *skb.Buf {
	b := e.qhead
	if b == nil {
		return nil
	}
	e.qhead = b.Next
	if e.qhead == nil {
		e.qtail = nil
	}
	b.Next = nil
	e.qbytes -= Truesize(b.Len())
	e.qlen--
	return b
}

// purge frees every queued packet.
func (e *Entry) purge() {
	for b := e.dequeue(); b != nil; b = e.dequeue() {
		b.Free()
	}
	e.qbytes, e.qlen = 0, 0
}
