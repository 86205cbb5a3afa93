package vxlan

import (
	"fmt"
	"net/netip"
	"sort"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// MaxFDB bounds a device's FDB when maxaddress is not set lower. Linux has
// no default bound; usnet bounds every table.
const MaxFDB = 8192

// maxRemotes bounds the destinations of one entry (a flood list).
const maxRemotes = 64

// ageInterval is how often expired entries are collected
// (FDB_AGE_INTERVAL).
const ageInterval = 10 * time.Second

// ZeroMAC is the all-zeros address whose entry holds the default
// destinations (flood list).
var ZeroMAC [6]byte

// Neighbour states as the FDB reports them (NUD_*).
const (
	StateReachable = unix.NUD_REACHABLE
	StateNoARP     = unix.NUD_NOARP
	StatePermanent = unix.NUD_PERMANENT
)

// Remote is one destination of an FDB entry (struct vxlan_rdst).
type Remote struct {
	IP      netip.Addr
	Port    uint16 // 0: the device's destination port
	VNI     uint32 // used when HasVNI; otherwise the device's VNI
	HasVNI  bool
	Ifindex int // underlay device (via), 0: any
}

// FDBEntry is one entry as a dump reports it.
type FDBEntry struct {
	MAC     [6]byte
	State   uint16 // NUD_*
	Flags   uint8  // NTF_*
	Remotes []Remote
	// Used and Updated are namespace-clock times (NDA_CACHEINFO).
	Used, Updated time.Duration
}

type entry struct {
	state   uint16
	flags   uint8
	remotes []Remote
	used    time.Duration
	updated time.Duration
}

func (e *entry) dynamic() bool { return e.state&(StatePermanent|StateNoARP) == 0 }

type fdb struct {
	m     map[[6]byte]*entry
	limit int
}

func (f *fdb) init(limit int) {
	f.m = make(map[[6]byte]*entry)
	f.limit = limit
}

// Update flags (the NLM_F_* of an RTM_NEWNEIGH).
const (
	flagCreate       = unix.NLM_F_CREATE
	flagExcl         = unix.NLM_F_EXCL
	flagReplace      = unix.NLM_F_REPLACE
	flagAppend       = unix.NLM_F_APPEND
	flagAppendCreate = flagAppend | flagCreate
)

func isMulticast(mac [6]byte) bool { return mac[0]&1 != 0 }

func sameRemote(a, b Remote) bool {
	return a.IP == b.IP && a.Port == b.Port && a.HasVNI == b.HasVNI && a.VNI == b.VNI && a.Ifindex == b.Ifindex
}

// update is vxlan_fdb_update: create, replace or append according to
// the netlink flags.
func (f *fdb) update(mac [6]byte, r Remote, state uint16, flags int, now time.Duration) error {
	floodMAC := isMulticast(mac) || mac == ZeroMAC
	if e := f.m[mac]; e != nil {
		if flags&flagExcl != 0 {
			return syscall.EEXIST
		}
		if e.state != state {
			e.state = state
			e.updated = now
		}
		switch {
		case flags&flagReplace != 0:
			if floodMAC {
				return syscall.EOPNOTSUPP
			}
			e.remotes[0] = r
			e.updated = now
		case flags&flagAppend != 0 && floodMAC:
			for _, o := range e.remotes {
				if sameRemote(o, r) {
					return nil
				}
			}
			if len(e.remotes) >= maxRemotes {
				return syscall.ENOSPC
			}
			e.remotes = append(e.remotes, r)
			e.updated = now
		}
		return nil
	}
	if flags&flagCreate == 0 {
		return syscall.ENOENT
	}
	if flags&flagReplace != 0 && floodMAC {
		return syscall.EOPNOTSUPP
	}
	if len(f.m) >= f.limit {
		return syscall.ENOSPC
	}
	f.m[mac] = &entry{state: state, flags: unix.NTF_SELF, remotes: []Remote{r}, used: now, updated: now}
	return nil
}

// delete removes one destination (r.IP valid) or the whole entry
// (__vxlan_fdb_delete). keepLast false removes the entry with its last
// destination, as the kernel does.
func (f *fdb) delete(mac [6]byte, r Remote, _ bool) error {
	e := f.m[mac]
	if e == nil {
		return syscall.ENOENT
	}
	if !r.IP.IsValid() || len(e.remotes) == 1 && matchRemote(e.remotes[0], r) {
		delete(f.m, mac)
		return nil
	}
	for i, o := range e.remotes {
		if matchRemote(o, r) {
			e.remotes = append(e.remotes[:i], e.remotes[i+1:]...)
			return nil
		}
	}
	return syscall.ENOENT
}

// matchRemote is vxlan_fdb_find_rdst's comparison with the fields a
// delete request left out treated as wildcards.
func matchRemote(o, r Remote) bool {
	return o.IP == r.IP && (r.Port == 0 || o.Port == r.Port) && (!r.HasVNI || o.VNI == r.VNI) && (r.Ifindex == 0 || o.Ifindex == r.Ifindex)
}

func (f *fdb) flushDynamic() {
	for mac, e := range f.m {
		if e.dynamic() {
			delete(f.m, mac)
		}
	}
}

func (f *fdb) flushAll() { clear(f.m) }

// FDBAdd adds or changes an entry as RTM_NEWNEIGH does on a VXLAN device
// (vxlan_fdb_add): state is NUD_* (0 means NUD_PERMANENT, as `bridge fdb
// add` without a state asks for static), flags the request's NLM_F_*.
// The entry's destination needs an IPv4 address.
func (v *Dev) FDBAdd(mac [6]byte, r Remote, state uint16, nlflags int) error {
	if !r.IP.IsValid() {
		if v.cfg.Remote.IsValid() {
			r.IP = v.cfg.Remote
		} else {
			return fmt.Errorf("vxlan: fdb entry needs a destination: %w", syscall.EINVAL)
		}
	}
	if !r.IP.Is4() {
		return syscall.EAFNOSUPPORT
	}
	if state == 0 {
		state = StatePermanent
	}
	if state&(StatePermanent|StateReachable|StateNoARP) == 0 {
		return syscall.EINVAL
	}
	return v.fdb.update(mac, r, state, nlflags, v.now())
}

// FDBAppend is `bridge fdb append MAC dev DEV dst IP`: a destination
// added to the entry's list (flood lists use the all-zeros MAC).
func (v *Dev) FDBAppend(mac [6]byte, r Remote) error {
	return v.FDBAdd(mac, r, StatePermanent, flagAppendCreate)
}

// FDBDel removes r from mac's entry, or the whole entry when r.IP is
// invalid (vxlan_fdb_delete): ENOENT when there is nothing to remove.
func (v *Dev) FDBDel(mac [6]byte, r Remote) error { return v.fdb.delete(mac, r, false) }

// FDBDump returns every entry sorted by MAC with the all-zeros entry
// last (the kernel walks a hash table; the order is ours). It allocates:
// control path only.
func (v *Dev) FDBDump() []FDBEntry {
	out := make([]FDBEntry, 0, len(v.fdb.m))
	for mac, e := range v.fdb.m {
		out = append(out, FDBEntry{MAC: mac, State: e.state, Flags: e.flags, Remotes: append([]Remote(nil), e.remotes...), Used: e.used, Updated: e.updated})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].MAC, out[j].MAC
		if (a == ZeroMAC) != (b == ZeroMAC) {
			return b == ZeroMAC
		}
		return string(a[:]) < string(b[:])
	})
	return out
}

// FDBLookup returns the destinations of mac's entry (nil when absent).
func (v *Dev) FDBLookup(mac [6]byte) []Remote {
	if e := v.fdb.m[mac]; e != nil {
		return append([]Remote(nil), e.remotes...)
	}
	return nil
}

// FDBLen is the number of entries.
func (v *Dev) FDBLen() int { return len(v.fdb.m) }

// ageFDB deletes learned entries idle for longer than the ageing time
// (vxlan_cleanup) and re-arms itself.
func (v *Dev) ageFDB() {
	now := v.now()
	ttl := time.Duration(v.cfg.Ageing) * time.Second
	for mac, e := range v.fdb.m {
		if e.dynamic() && now-e.updated >= ttl {
			delete(v.fdb.m, mac)
		}
	}
	if v.dev.IsUp() {
		v.age.Reset(ageInterval)
	}
}

// learn records that src sits behind the tunnel endpoint ip
// (vxlan_snoop): a new dynamic entry, a refresh, or a move of a dynamic
// entry to a new endpoint. It reports false when the frame must be
// dropped (a static entry claims the address elsewhere is still accepted,
// as Linux does, but not changed).
func (v *Dev) learn(src [6]byte, ip netip.Addr, ifindex int) {
	now := v.now()
	if e := v.fdb.m[src]; e != nil {
		r := &e.remotes[0]
		if r.IP == ip {
			e.updated = now
			return
		}
		if !e.dynamic() {
			return
		}
		r.IP, r.Ifindex = ip, ifindex
		e.updated = now
		return
	}
	if len(v.fdb.m) >= v.fdb.limit {
		return
	}
	// Learned entries hold their slice in the entry; the append in
	// update allocates once per new address, which is bounded by the
	// table limit.
	v.fdb.update(src, Remote{IP: ip, Ifindex: ifindex}, StateReachable, flagCreate, now)
}
