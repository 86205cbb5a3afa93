// Package neigh is usnet's protocol-independent neighbour table, Linux's
// net/core/neighbour.c: one Table per protocol per namespace (ARP for
// IPv4; NDP later), mapping (device, next hop) to a link-layer address.
//
// Each Entry runs the NUD state machine of neigh_timer_handler and
// __neigh_update (INCOMPLETE, REACHABLE, STALE, DELAY, PROBE, FAILED, plus
// NOARP and PERMANENT) on one reusable executor timer, keeps a bounded
// queue of packets awaiting resolution, and holds the prebuilt 14-byte
// Ethernet header (Linux's hh_cache, illumos' nce fast path) that Output
// pushes in front of every packet of a usable entry: the resolved path
// allocates nothing.
//
// The protocol (package arp) plugs in through Ops: it sends solicitations,
// chooses the initial state of new entries (Constructor) and turns dropped
// packets into ICMP errors (ErrorReporter). It feeds what it learns back
// with Update and EventNS, exactly as arp.c calls neigh_update and
// neigh_event_ns.
//
// Tables are bounded: entries beyond gc_thresh3 are refused with ENOBUFS
// after a forced collection, and a periodic collection removes unused
// entries once the table holds more than gc_thresh1. The table follows
// its devices through netdev notifier events: a hardware-address change
// or a NOARP flag change flushes the device's entries (neigh_changeaddr),
// carrier loss flushes all but PERMANENT ones (neigh_carrier_down), and
// administrative down or unregister flushes everything (neigh_ifdown), so
// a cached header never outlives the MAC it was built from.
//
// Beside the entries, a table keeps proxy entries (Linux's pneigh table,
// `ip neigh add proxy ADDR dev DEV`): addresses the namespace answers
// solicitations for on behalf of other hosts (package arp asks
// LookupProxy). They have no state machine, are bounded by MaxProxy, are
// flushed with their device like the entries (permanent ones survive
// carrier loss) and, as in Linux, are not announced to subscribers.
//
// Everything runs on the namespace executor; times are executor times.
package neigh
