package tcp

import (
	"net/netip"
	"syscall"
	"time"
)

// Local port selection for connect (__inet_hash_connect) and TIME_WAIT
// reuse (tcp_twsk_unique).
//
// Linux does not look for a port nobody uses: an ephemeral port may be
// shared by connections to different destinations, since the 4-tuple is
// what must be unique. The search starts at an offset derived from a keyed
// hash of (saddr, daddr, dport) plus a perturbation that advances after
// each pick, so consecutive connections to one destination walk the range
// while different destinations start at unrelated places. connect takes
// ports of the range's low parity first (even, for 32768–60999) and
// bind(0) the other, so the two rarely compete. A port bound explicitly
// (a listener, a connect from a given port) is skipped. A 4-tuple held by
// a TIME_WAIT connection is taken over when tcp_twsk_unique allows it.

// perturbSize is the number of perturbation slots (Linux has 2^16,
// INET_TABLE_PERTURB_SIZE; 256 keeps a namespace small and still spreads
// destinations).
const perturbSize = 256

// portOffset is secure_ipv4_port_ephemeral: a keyed hash of the
// destination, 64 bits.
func (t *Table) portOffset(src, dst netip.Addr, dport uint16) uint64 {
	s, d := src.As4(), dst.As4()
	x := t.portKey ^ uint64(s[0])<<56 ^ uint64(s[1])<<48 ^ uint64(s[2])<<40 ^ uint64(s[3])<<32 ^
		uint64(d[0])<<24 ^ uint64(d[1])<<16 ^ uint64(d[2])<<8 ^ uint64(d[3])
	x = mix64(x ^ uint64(dport)<<16) // mix64: cookie.go
	return mix64(x ^ t.portKey>>17)
}

// connectPort picks the local port for a connect from src to dst:dport
// (__inet_hash_connect). tw, when set, is a TIME_WAIT connection on the
// chosen 4-tuple that the caller must take over.
func (t *Table) connectPort(src, dst netip.Addr, dport uint16) (port uint16, tw *Conn, err error) {
	low, high := int(t.ip.Sysctl.LocalPortLow), int(t.ip.Sysctl.LocalPortHigh)+1
	if high <= low {
		return 0, nil, syscall.EADDRNOTAVAIL
	}
	remaining := high - low
	if remaining > 1 {
		remaining &^= 1
	}
	po := t.portOffset(src, dst, dport)
	index := po & (perturbSize - 1)
	offset := int((uint64(t.perturb[index]) + po>>32) % uint64(remaining))
	offset &^= 1
	const step = 2
	for {
		p := low + offset
		for i := 0; i < remaining; i, p = i+step, p+step {
			if p >= high {
				p -= remaining
			}
			if t.bound[uint16(p)] > 0 || len(t.listeners[uint16(p)]) > 0 {
				continue
			}
			c := t.conns[key{la: src, ra: dst, lp: uint16(p), rp: dport}]
			if c != nil && (c.state != TimeWait || !t.twUnique(c, true)) {
				continue
			}
			// A little randomness in the next start, most under low
			// contention (get_random_u32_below(8) * step).
			i = max(i, int(t.exec.Rand().Uint32N(8))*step)
			t.perturb[index] += uint32(i + step)
			return uint16(p), c, nil
		}
		offset++
		if offset&1 == 0 || remaining <= 1 {
			return 0, nil, syscall.EADDRNOTAVAIL
		}
	}
}

// twUnique is tcp_twsk_unique: may a new outgoing connection take over the
// 4-tuple of the TIME_WAIT connection tw? Only when tw saw timestamps
// (PAWS then rejects the old incarnation's segments) and, for an
// automatically chosen port, tcp_tw_reuse allows it (2: only for loopback
// traffic) and tw has been in TIME_WAIT for tcp_tw_reuse_delay. An
// explicitly bound port (auto false) needs only the timestamps.
func (t *Table) twUnique(tw *Conn, auto bool) bool {
	if !tw.tsOK || !tw.tsRecentSet {
		return false
	}
	if !auto {
		return true
	}
	reuse := t.Sysctl.TwReuse
	if reuse == 2 && !tw.k.la.IsLoopback() && !tw.k.ra.IsLoopback() {
		reuse = 0
	}
	return reuse != 0 && t.exec.Now()-(tw.twEntered-1) > t.Sysctl.TwReuseDelay
}

// takeOver ends tw and starts c where it left off: sequence numbers past
// anything tw sent, and its TS.Recent for PAWS (tcp_twsk_unique).
func (c *Conn) takeOver(tw *Conn) {
	isn := tw.sndNxt + 65535 + 2
	if isn == 0 {
		isn = 1
	}
	c.iss = isn
	c.tsRecent, c.tsRecentSet = tw.tsRecent, tw.tsRecentSet
	c.t.Stats.TWRecycled++
	tw.destroy()
}

// twDefaults are tcp_tw_reuse (2), tcp_tw_reuse_delay (1000 ms) and
// tcp_max_tw_buckets.
const (
	defaultTwReuse      = 2
	defaultTwReuseDelay = time.Second
	defaultMaxTw        = 262144
)

// secureSeq is secure_tcp_seq: a keyed hash of the 4-tuple plus the
// clock in 64 ns units, so a new incarnation of a 4-tuple starts above the
// old one's sequence space (what lets a SYN end a TIME_WAIT) while the
// ISN stays unpredictable to others (RFC 6528).
func (t *Table) secureSeq(k key) uint32 {
	h := t.portOffset(k.la, k.ra, k.rp) ^ uint64(k.lp)<<32
	return uint32(mix64(h^t.portKey)) + uint32(t.exec.Now()/64)
}

// tsOffset is secure_tcp_ts_off: the timestamp offset is per address
// pair, so TSval grows across the connections between two hosts (PAWS on
// a TIME_WAIT connection can tell a new SYN from an old duplicate).
func (t *Table) tsOffset(src, dst netip.Addr) uint32 {
	return uint32(t.portOffset(src, dst, 0) >> 32)
}
