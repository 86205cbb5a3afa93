package bridge

import (
	"syscall"
	"time"

	"github.com/usnet/usnet/netdev"
)

// fdbKey is what the FDB is indexed by: address and VLAN (0 without VLAN
// filtering), as net_bridge_fdb_key.
type fdbKey struct {
	addr [6]byte
	vid  uint16
}

type fdbEntry struct {
	key     fdbKey
	port    *Port // nil: the bridge device itself
	local   bool  // the address of a port or of the bridge: deliver up (BR_FDB_LOCAL)
	static  bool  // never ages, never moves (BR_FDB_STATIC)
	user    bool  // added by the user (BR_FDB_ADDED_BY_USER)
	updated time.Duration
	used    time.Duration
}

// fdb is the forwarding database: a hash map bounded in learned entries
// (dynamic) and in user entries.
type fdb struct {
	m       map[fdbKey]*fdbEntry
	learned int
	users   int
	max     int
	free    []*fdbEntry
}

// FDBEntry is a snapshot of one FDB entry.
type FDBEntry struct {
	Addr [6]byte
	VID  uint16
	// Port is the port device, or the bridge device for its own entries.
	Port    *netdev.Device
	Local   bool // NUD_PERMANENT: an address of the bridge or a port
	Static  bool // NUD_NOARP: user-configured, never ages
	User    bool // added by the user (BR_FDB_ADDED_BY_USER)
	Updated time.Duration
	Used    time.Duration
}

func (f *fdb) init(max int) {
	f.m = make(map[fdbKey]*fdbEntry, 64)
	f.max = max
}

func (f *fdb) lookup(addr [6]byte, vid uint16) *fdbEntry {
	return f.m[fdbKey{addr, vid}]
}

func (f *fdb) newEntry() *fdbEntry {
	if n := len(f.free); n > 0 {
		e := f.free[n-1]
		f.free = f.free[:n-1]
		*e = fdbEntry{}
		return e
	}
	return &fdbEntry{}
}

func (f *fdb) remove(br *Bridge, e *fdbEntry) {
	delete(f.m, e.key)
	switch {
	case e.user:
		f.users--
	case !e.local && !e.static:
		f.learned--
	}
	br.notify(e, true)
	if len(f.free) < 256 {
		f.free = append(f.free, e)
	}
}

func (br *Bridge) snapshot(e *fdbEntry) FDBEntry {
	d := br.dev
	if e.port != nil {
		d = e.port.dev
	}
	return FDBEntry{Addr: e.key.addr, VID: e.key.vid, Port: d, Local: e.local, Static: e.static,
		User: e.user, Updated: e.updated, Used: e.used}
}

func (br *Bridge) notify(e *fdbEntry, deleted bool) {
	if len(br.notifiers) == 0 {
		return
	}
	snap := br.snapshot(e)
	for _, f := range br.notifiers {
		f(snap, deleted)
	}
}

// insertLocal adds a permanent local entry (fdb_add_local): a port's or
// the bridge's own address. A learned entry for it is replaced; an
// existing local entry (two ports sharing a MAC) stays.
func (f *fdb) insertLocal(br *Bridge, p *Port, addr [6]byte, vid uint16) {
	k := fdbKey{addr, vid}
	if e := f.m[k]; e != nil {
		if e.local {
			return
		}
		f.remove(br, e)
	}
	e := f.newEntry()
	e.key, e.port, e.local, e.static = k, p, true, true
	e.updated = br.exec.Now()
	e.used = e.updated
	f.m[k] = e
	br.notify(e, false)
}

// deleteLocal removes the local entry of p (nil: the bridge) for addr/vid.
func (f *fdb) deleteLocal(br *Bridge, p *Port, addr [6]byte, vid uint16) {
	if e := f.m[fdbKey{addr, vid}]; e != nil && e.local && e.port == p && !e.user {
		f.remove(br, e)
	}
}

// changeLocal re-keys the local entries of p (nil: the bridge) from old
// to addr (br_fdb_change_mac_address, br_fdb_changeaddr).
func (f *fdb) changeLocal(br *Bridge, p *Port, old, addr [6]byte) {
	if old == addr {
		return
	}
	var vids [64]uint16
	n := 0
	for k, e := range f.m {
		if e.local && !e.user && e.port == p && k.addr == old && n < len(vids) {
			vids[n] = k.vid
			n++
		}
	}
	for _, vid := range vids[:n] {
		f.deleteLocal(br, p, old, vid)
		f.insertLocal(br, p, addr, vid)
	}
}

func (f *fdb) changeLocalPort(br *Bridge, p *Port, addr [6]byte) {
	var old [6]byte
	found := false
	for _, e := range f.m {
		if e.local && !e.user && e.port == p {
			old, found = e.key.addr, true
			break
		}
	}
	if found {
		f.changeLocal(br, p, old, addr)
	}
}

// flush deletes the dynamic entries of p (nil: every port), and with all
// the local and user entries too (br_fdb_delete_by_port).
func (f *fdb) flush(br *Bridge, p *Port, all bool) {
	for _, e := range f.m {
		if p != nil && e.port != p {
			continue
		}
		if p == nil && e.port == nil && !all {
			continue
		}
		if (e.local || e.static) && !all {
			continue
		}
		f.remove(br, e)
	}
}

// holdTime is how long a learned entry lives: forward_delay during a
// topology change, ageing_time otherwise (hold_time).
func (br *Bridge) holdTime() time.Duration {
	if br.topologyChange {
		return br.forwardDelay
	}
	return br.ageingTime
}

// learn records that addr (on VLAN vid) was seen on p at now
// (br_fdb_update). It allocates only when the address is new.
func (br *Bridge) learn(p *Port, addr [6]byte, vid uint16, now time.Duration) {
	f := &br.fdb
	if e := f.m[fdbKey{addr, vid}]; e != nil {
		if e.local || e.static {
			return
		}
		if e.port != p {
			e.port = p
			e.updated = now
			br.notify(e, false)
			return
		}
		if e.updated != now {
			e.updated = now
		}
		return
	}
	if f.learned >= f.max {
		br.Stats.LearnDrops++
		return
	}
	e := f.newEntry()
	e.key = fdbKey{addr, vid}
	e.port = p
	e.updated, e.used = now, now
	f.m[e.key] = e
	f.learned++
	br.notify(e, false)
}

// gcInterval is when the next sweep is due at the latest.
func (br *Bridge) gcInterval() time.Duration {
	h := br.holdTime()
	if h <= 0 {
		return 10 * time.Second
	}
	return max(h/10, 10*time.Millisecond)
}

// gc removes expired learned entries and rearms itself for the earliest
// next expiry (br_fdb_cleanup).
func (br *Bridge) gc() {
	if br.dead {
		return
	}
	hold := br.holdTime()
	now := br.exec.Now()
	next := br.gcInterval()
	if hold > 0 {
		for _, e := range br.fdb.m {
			if e.local || e.static {
				continue
			}
			if exp := e.updated + hold; exp <= now {
				br.fdb.remove(br, e)
			} else {
				next = min(next, exp-now)
			}
		}
	}
	br.gcTimer.Reset(max(next, 10*time.Millisecond))
}

// FDB returns a snapshot of every entry, ports in ifindex order is not
// promised: callers sort.
func (br *Bridge) FDB() []FDBEntry {
	out := make([]FDBEntry, 0, len(br.fdb.m))
	for _, e := range br.fdb.m {
		out = append(out, br.snapshot(e))
	}
	return out
}

// Lookup returns the entry for addr on vid.
func (br *Bridge) Lookup(addr [6]byte, vid uint16) (FDBEntry, bool) {
	e := br.fdb.lookup(addr, vid)
	if e == nil {
		return FDBEntry{}, false
	}
	return br.snapshot(e), true
}

// FDBAdd adds or replaces a user entry (br_fdb_add): on port dev (the
// bridge device itself for a local "self" entry); local makes it
// NUD_PERMANENT (delivered to the bridge), static NUD_NOARP, neither a
// user-added entry that ages. EEXIST when exclusive and present.
func (br *Bridge) FDBAdd(addr [6]byte, vid uint16, dev *netdev.Device, local, static, exclusive, replace bool) error {
	if addr[0]&1 != 0 || addr == ([6]byte{}) {
		return syscall.EINVAL
	}
	var p *Port
	if dev != br.dev {
		if p = br.Port(dev); p == nil {
			return syscall.EINVAL
		}
	}
	if vid >= 4095 {
		return syscall.EINVAL
	}
	// A port that cannot learn takes only local and static entries.
	if p != nil && !local && !static && p.state != StateLearning && p.state != StateForwarding {
		return syscall.EPERM
	}
	f := &br.fdb
	k := fdbKey{addr, vid}
	e := f.m[k]
	if e != nil {
		if exclusive {
			return syscall.EEXIST
		}
		if !e.user && e.local && !replace {
			return syscall.EEXIST
		}
		f.remove(br, e)
	} else if f.users >= f.max {
		return syscall.ENOSPC
	}
	e = f.newEntry()
	e.key, e.port, e.user = k, p, true
	e.local = local || p == nil
	e.static = static || e.local
	e.updated = br.exec.Now()
	e.used = e.updated
	f.m[k] = e
	f.users++
	br.notify(e, false)
	return nil
}

// FDBDel deletes the entry for addr on vid (br_fdb_delete); ENOENT when
// there is none on dev.
func (br *Bridge) FDBDel(addr [6]byte, vid uint16, dev *netdev.Device) error {
	e := br.fdb.lookup(addr, vid)
	if e == nil {
		return syscall.ENOENT
	}
	if dev != nil && dev != br.dev && (e.port == nil || e.port.dev != dev) {
		return syscall.ENOENT
	}
	br.fdb.remove(br, e)
	return nil
}

// FDBFlush deletes the learned entries (IFLA_BR_FDB_FLUSH).
func (br *Bridge) FDBFlush() { br.fdb.flush(br, nil, false) }
