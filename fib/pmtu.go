package fib

import (
	"net/netip"
	"time"
)

// pmtuCache holds path-MTU exceptions learnt from ICMP frag-needed
// (fib_nh_exception): per destination, expiring, bounded.
type pmtuCache struct {
	m map[netip.Addr]pmtuEntry
	// next is the earliest expiry of an entry (0: none), when the
	// route generation must change since lookups answer differently.
	next time.Duration
}

type pmtuEntry struct {
	mtu     int
	expires time.Duration
}

func (c *pmtuCache) init()  { c.m = map[netip.Addr]pmtuEntry{} }
func (c *pmtuCache) flush() { clear(c.m); c.next = 0 }

// UpdatePMTU records a smaller path MTU towards dst (ip_rt_update_pmtu):
// never below min_pmtu, ignored for a route whose MTU metric is locked.
func (f *FIB) UpdatePMTU(dst netip.Addr, mtu int, now time.Duration) {
	if mtu <= 0 {
		return
	}
	mtu = max(mtu, f.sysctl.MinPMTU)
	if r, _, err := f.lookupOutput(&lookupKey{dst: dst, iif: 1}); err == nil && r.r.Metrics.Lock&(1<<2) != 0 {
		return // RTAX_MTU locked
	}
	if e, ok := f.pmtu.m[dst]; ok && e.mtu <= mtu && e.expires > now {
		return
	}
	if len(f.pmtu.m) >= f.sysctl.MaxPMTUEntries {
		f.expirePMTU(now)
		if len(f.pmtu.m) >= f.sysctl.MaxPMTUEntries {
			// Evict the entry that expires first, as the kernel
			// recycles its oldest exception.
			var victim netip.Addr
			var first time.Duration = -1
			for a, e := range f.pmtu.m {
				if first < 0 || e.expires < first || e.expires == first && a.Less(victim) {
					victim, first = a, e.expires
				}
			}
			delete(f.pmtu.m, victim)
		}
	}
	e := pmtuEntry{mtu: mtu, expires: now + f.sysctl.MTUExpires}
	f.pmtu.m[dst] = e
	if f.pmtu.next == 0 || e.expires < f.pmtu.next {
		f.pmtu.next = e.expires
	}
	f.flushCache()
}

func (f *FIB) expirePMTU(now time.Duration) {
	f.pmtu.next = 0
	for a, e := range f.pmtu.m {
		if e.expires <= now {
			delete(f.pmtu.m, a)
		} else if f.pmtu.next == 0 || e.expires < f.pmtu.next {
			f.pmtu.next = e.expires
		}
	}
	f.flushCache()
}

// flushCache is rt_cache_flush: routes cached outside the FIB become
// stale.
func (f *FIB) flushCache() { f.gen++ }

// Genid returns the route generation (rt_genid): a route looked up when
// it had the same value is still the answer. An expired PMTU exception
// changes answers without any change request, so it is expired here.
func (f *FIB) Genid() uint64 {
	if f.pmtu.next != 0 && f.pmtu.next <= f.l.Exec().Now() {
		f.expirePMTU(f.l.Exec().Now())
	}
	return f.gen
}

// pmtuFor returns the live exception for dst.
func (f *FIB) pmtuFor(dst netip.Addr, now time.Duration) (int, time.Duration) {
	e, ok := f.pmtu.m[dst]
	if !ok {
		return 0, 0
	}
	if e.expires <= now {
		delete(f.pmtu.m, dst)
		return 0, 0
	}
	return e.mtu, e.expires - now
}

// PMTUEntries is the size of the exception cache.
func (f *FIB) PMTUEntries() int { return len(f.pmtu.m) }
