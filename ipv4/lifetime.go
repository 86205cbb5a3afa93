package ipv4

import (
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/usnet/usnet/netdev"
)

// InfinityLifeTime is INFINITY_LIFE_TIME: a lifetime that never ends.
const InfinityLifeTime = ^uint32(0)

// Timing of devinet.c's check_lifetime work.
const (
	addrCheckFrequency = 120 * time.Second // ADDR_CHECK_FREQUENCY: the longest sleep
	timerFuzzMinus     = time.Second / 50  // ADDRCONF_TIMER_FUZZ_MINUS: expire this early, to batch
	timerFuzz          = time.Second / 4   // ADDRCONF_TIMER_FUZZ: rounding to a second allowed
	timerFuzzMax       = time.Second       // ADDRCONF_TIMER_FUZZ_MAX: the shortest sleep
	lifetimeUnit       = time.Second       // lifetimes are counted in seconds (HZ)
)

// setLifetime is set_ifa_lifetime: PERMANENT when the valid lifetime is
// infinite, DEPRECATED when the preferred one is zero, both counted from
// now; the creation stamp is set once.
func (l *Layer) setLifetime(a *IfAddr, valid, preferred uint32) {
	a.Flags &^= unix.IFA_F_PERMANENT | unix.IFA_F_DEPRECATED
	if valid == InfinityLifeTime {
		a.Flags |= unix.IFA_F_PERMANENT
	} else {
		a.ValidLft = valid
	}
	if preferred != InfinityLifeTime {
		if preferred == 0 {
			a.Flags |= unix.IFA_F_DEPRECATED
		}
		a.PreferredLft = preferred
	} else {
		a.PreferredLft = InfinityLifeTime
	}
	a.Tstamp = l.exec.Now()
	if !a.stamped {
		a.Cstamp, a.stamped = a.Tstamp, true
	}
}

// Remaining returns the lifetimes left at now, as inet_fill_ifaddr
// reports them: infinite for a permanent address; otherwise counted down
// in whole seconds from the last update (the valid lifetime only when
// the preferred one is finite, as the kernel does).
func (a *IfAddr) Remaining(now time.Duration) (valid, preferred uint32) {
	if a.Flags&unix.IFA_F_PERMANENT != 0 {
		return InfinityLifeTime, InfinityLifeTime
	}
	valid, preferred = a.ValidLft, a.PreferredLft
	if preferred != InfinityLifeTime {
		tval := uint64(max(0, now-a.Tstamp) / lifetimeUnit)
		preferred = uint32(uint64(preferred) - min(uint64(preferred), tval))
		if valid != InfinityLifeTime {
			valid = uint32(uint64(valid) - min(uint64(valid), tval))
		}
	}
	return valid, preferred
}

// ReplaceAddr applies an NLM_F_REPLACE of an existing address, as
// inet_rtm_newaddr does: the prefix route's metric, the protocol and the
// lifetimes (counted again from now) change; other flags do not. The
// caller announces the address (RTM_NEWADDR).
func (l *Layer) ReplaceAddr(a *IfAddr, metric uint32, proto uint8, valid, preferred uint32) error {
	l.confGen++ // source selection and locality change: cached routes are stale
	if valid == 0 || preferred > valid {
		return syscall.EINVAL
	}
	if a.Priority != metric {
		l.modifyPrefixMetric(a, metric)
		a.Priority = metric
	}
	a.Proto = proto
	l.setLifetime(a, valid, preferred)
	l.kickLifetimes()
	return nil
}

// modifyPrefixMetric is fib_modify_prefix_metric: the prefix route of a
// primary address on an up device is added with the new metric, then the
// old one is deleted.
func (l *Layer) modifyPrefixMetric(a *IfAddr, metric uint32) {
	sub := a.Subnet()
	if l.routes == nil || !a.Dev.IsUp() || a.Secondary() || a.Flags&unix.IFA_F_NOPREFIXROUTE != 0 ||
		sub.Addr().IsUnspecified() || (sub.Addr() == a.Local && sub.Bits() == 32) {
		return
	}
	typ, table := uint8(unix.RTN_UNICAST), uint32(unix.RT_TABLE_MAIN)
	if a.Dev.Flags()&netdev.FlagLoopback != 0 {
		typ, table = unix.RTN_LOCAL, unix.RT_TABLE_LOCAL
	}
	r := KernelRoute{Table: table, Type: typ, Dst: sub, Ifindex: a.Dev.Ifindex(), Prefsrc: a.Local,
		Scope: unix.RT_SCOPE_LINK, Priority: metric}
	l.routes.AddKernelRoute(r)
	r.Priority = a.Priority
	l.routes.DelKernelRoute(r)
}

// kickLifetimes runs the lifetime check soon (the kernel queues its work
// with no delay after an address with a lifetime is added or replaced):
// on the executor, after the current request, as a timer.
func (l *Layer) kickLifetimes() {
	if l.lft == nil {
		l.lft = l.exec.NewTimer(l.checkLifetimes)
	}
	l.lft.ResetAt(l.exec.Now())
}

// checkLifetimes is check_lifetime: addresses whose valid lifetime has
// run out are deleted (RTM_DELADDR, their routes flushed, a secondary
// promoted as on any delete), those whose preferred lifetime has run out
// become DEPRECATED (RTM_NEWADDR). Expiry is judged in whole seconds,
// 20 ms early so that close deadlines are handled together, and the
// check sleeps until the next deadline, rounded up to a whole second
// when that costs less than 250 ms, at least one second and at most two
// minutes; it does not sleep at all when no address has a lifetime.
func (l *Layer) checkLifetimes() {
	l.confGen++ // addresses may turn deprecated or go: cached routes are stale
	now := l.exec.Now()
	next := now + addrCheckFrequency
	for _, d := range l.devs.Devices() {
		for i := 0; i < len(l.addrs[d.Ifindex()]); i++ {
			a := l.addrs[d.Ifindex()][i]
			if a.Flags&unix.IFA_F_PERMANENT != 0 {
				continue
			}
			age := uint64((now - a.Tstamp + timerFuzzMinus) / lifetimeUnit)
			switch {
			case a.ValidLft != InfinityLifeTime && age >= uint64(a.ValidLft):
				l.removeAddr(d, a, l.Effective(d.Ifindex()).PromoteSecondaries)
				i = -1 // the list changed: start over (handled addresses are skipped)
			case a.PreferredLft == InfinityLifeTime:
			case age >= uint64(a.PreferredLft):
				next = min(next, a.Tstamp+time.Duration(a.ValidLft)*lifetimeUnit)
				if a.Flags&unix.IFA_F_DEPRECATED == 0 {
					a.Flags |= unix.IFA_F_DEPRECATED
					l.notifyAddr(AddrNew, a)
				}
			default:
				next = min(next, a.Tstamp+time.Duration(a.PreferredLft)*lifetimeUnit)
			}
		}
	}
	if !l.hasLifetimes() {
		return
	}
	sched := next
	if sec := (next + lifetimeUnit - 1) / lifetimeUnit * lifetimeUnit; sec < next+timerFuzz {
		sched = sec
	}
	sched = max(sched, now+timerFuzzMax)
	l.lft.ResetAt(sched)
}

// hasLifetimes reports whether any address may still expire.
func (l *Layer) hasLifetimes() bool {
	for _, list := range l.addrs {
		for _, a := range list {
			if a.Flags&unix.IFA_F_PERMANENT == 0 {
				return true
			}
		}
	}
	return false
}
