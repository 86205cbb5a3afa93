// Package macvlan is the macvlan device (drivers/net/macvlan.c): several
// devices with their own MAC addresses on one Ethernet lower device. The
// lower device's receive hook (one port per lower device) hands each frame
// to the macvlan whose address it is sent to, and floods broadcast and
// multicast frames following the mode rules of Linux:
//
//   - bridge: macvlans of the port reach each other directly, without the
//     wire;
//   - vepa: everything leaves by the lower device; macvlans reach each
//     other only when an external switch sends frames back (hairpin);
//   - private: like vepa, and even reflected broadcasts never reach
//     another macvlan, so neighbours are never resolved;
//   - passthru: one macvlan takes the whole lower device (its MAC, and
//     promiscuous mode);
//   - source: the macvlan receives the frames sent from a list of source
//     MAC addresses.
//
// As in Linux, the lower device never reaches its own macvlans: what it
// sends goes to the wire, and the port only sees what comes from it.
// Frames for a macvlan are queued on its NAPI so it receives in a round of
// its own. A macvlan may be moved into another namespace (a container);
// its transmit then crosses to the lower's executor through a bounded
// queue, and the port's tables stay on the lower's executor.
//
// Differences from Linux: multicast filters are not modelled (every up
// macvlan gets every broadcast and multicast its mode allows);
// broadcasts go to each macvlan's NAPI directly instead of through the
// port's work queue, so bcqueuelen is reported but bounds nothing (the
// NAPI backlog does); the source list is dumped newest first (the
// kernel's order is that of its hash buckets); a copy for a source-mode
// macvlan whose destination is another host's unicast address is
// classified PACKET_OTHERHOST by the receiving core and dropped, where
// Linux keeps the lower's classification; a passthru macvlan's MAC change
// does not change the lower's; the nodst flag is kept only; EADDRINUSE on
// open is checked only next to the lower device; the source list of a
// macvlan moved away should be changed and dumped next to the lower.
package macvlan

import (
	"fmt"
	"sync/atomic"
	"syscall"

	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
)

// Modes (MACVLAN_MODE_*) and flags (MACVLAN_FLAG_*) of if_link.h.
const (
	ModePrivate  uint32 = 1
	ModeVEPA     uint32 = 2
	ModeBridge   uint32 = 4
	ModePassthru uint32 = 8
	ModeSource   uint32 = 16

	FlagNoPromisc uint16 = 1
	FlagNoDst     uint16 = 2
)

// Source address list operations (MACVLAN_MACADDR_*).
const (
	MACAddrAdd   uint32 = 0
	MACAddrDel   uint32 = 1
	MACAddrFlush uint32 = 2
	MACAddrSet   uint32 = 3
)

// DefaultBCQueueLen is MACVLAN_DEFAULT_BC_QUEUE_LEN.
const DefaultBCQueueLen = 1000

// maxSources bounds the source-mode address list of a port.
const maxSources = 4096

// Config describes a macvlan to create, as `ip link add link LOWER name
// NAME type macvlan mode MODE`.
type Config struct {
	Name  string
	Lower *netdev.Device
	Mode  uint32 // 0: vepa, as Linux
	Flags uint16
	// Addr, zero for a random one (passthru takes the lower's).
	Addr [6]byte
	MTU  int // 0: the lower device's
	// BCQueueLen is the requested broadcast queue length; nil: 1000.
	BCQueueLen *uint32
}

// Dev is the driver state of one macvlan. The port's tables and the plain
// fields below are touched on the lower device's executor only; the
// macvlan may live in another namespace (a container), so what its own
// executor needs is mirrored in atomics.
type Dev struct {
	dev        *netdev.Device
	lower      *netdev.Device
	port       *port
	mode       uint32
	flags      uint16
	bcQueueLen uint32
	hashed     bool // in port.byMAC (while up)
	nsources   int
	rxOne      *skb.Batch
	tx         *skb.Batch
	// tap, when set, takes the received frames instead of the stack
	// (the macvtap idea; see tap.go).
	tap func(b *skb.Buf)
	// ts is the macvtap state behind tap (nil for a plain macvlan).
	ts *tapState

	napi  *netdev.NAPI
	txq   netdev.XmitQueue             // frames from another namespace's executor
	up    atomic.Bool                  // administratively up
	home  atomic.Pointer[netdev.Table] // the namespace the macvlan is in
	modeA atomic.Uint32                // mirrors of mode, flags, bcQueueLen
	flagA atomic.Uint32
	bcqA  atomic.Uint32
}

// Of returns the macvlan state of d.
func Of(d *netdev.Device) (*Dev, bool) {
	v, ok := d.Driver().(*Dev)
	return v, ok
}

// New creates a macvlan on c.Lower (macvlan_common_newlink) in the lower
// device's namespace; netdev.Move takes it elsewhere afterwards. Call on
// the lower device's executor.
func New(c Config) (*netdev.Device, error) {
	lower := c.Lower
	if lower == nil {
		return nil, &netdev.ExtError{Errno: syscall.EINVAL, Msg: "macvlan: lower device required"}
	}
	if lower.Type() != netdev.ARPHRDEther {
		return nil, fmt.Errorf("macvlan: %s is not Ethernet: %w", lower.Name(), syscall.EINVAL)
	}
	if v, ok := Of(lower); ok {
		// Linux stacks a macvlan on a macvlan's own lower device.
		lower = v.lower
	}
	if c.Mode == 0 {
		c.Mode = ModeVEPA
	}
	if !validMode(c.Mode) {
		return nil, &netdev.ExtError{Errno: syscall.EINVAL, Msg: "macvlan: invalid mode"}
	}
	if c.Flags&^(FlagNoPromisc|FlagNoDst) != 0 {
		return nil, syscall.EINVAL
	}
	if c.Flags&FlagNoPromisc != 0 && c.Mode != ModePassthru {
		return nil, syscall.EINVAL
	}
	t := lower.Table()
	p := portOf(lower, false)
	if p != nil && (p.passthru || c.Mode == ModePassthru && len(p.vlans) > 0) {
		return nil, syscall.EINVAL // passthru takes the whole lower device
	}
	mtu := c.MTU
	if mtu == 0 {
		mtu = lower.MTU()
	} else if mtu > lower.MTU() {
		return nil, syscall.EINVAL
	}
	addr := c.Addr
	if c.Mode == ModePassthru {
		addr = lower.Addr()
	} else if addr == ([6]byte{}) {
		addr = netdev.RandomMAC(t.Net().Exec().Rand())
	}
	v := &Dev{lower: lower, mode: c.Mode, flags: c.Flags, bcQueueLen: DefaultBCQueueLen,
		rxOne: skb.NewBatch(1), tx: skb.NewBatch(64)}
	if c.BCQueueLen != nil {
		v.bcQueueLen = *c.BCQueueLen
	}
	v.mirror()
	// The port comes first: once registered, the macvlan is reported to
	// rtnetlink (and unregistered on a failure), which reads its source
	// list from the port.
	if p == nil {
		if p = portOf(lower, true); p == nil {
			return nil, fmt.Errorf("macvlan: %s has another receive handler: %w", lower.Name(), syscall.EBUSY)
		}
	}
	v.port = p
	d, err := t.Register(netdev.Config{
		Name: c.Name, MTU: mtu, MinMTU: 68, MaxMTU: 0xffff,
		Addr: addr, Broadcast: netdev.BroadcastMAC, Type: netdev.ARPHRDEther,
		Flags: netdev.FlagBroadcast | netdev.FlagMulticast, TxQueueLen: 1000,
		Features: lower.Features(), ManagesCarrier: true, CarrierOn: true,
	}, v, 0)
	if err != nil {
		p.remove(v) // drops a port made for this macvlan
		return nil, err
	}
	v.dev = d
	v.home.Store(t)
	v.napi = netdev.NewNAPI(d)
	v.txq.Init(t.Net().Exec(), v.xmitOnLower)
	d.SetLink(lower.Ifindex(), nil)
	p.vlans = append(p.vlans, v)
	if c.Mode == ModePassthru {
		p.passthru = true
	}
	p.updateBCQueueLen()
	// macvlan_common_newlink: the lower's carrier, then a linkwatch run
	// whatever it is, so the state is computed (UP or DOWN) before the
	// macvlan is first opened.
	v.transferOperstate()
	d.FireLinkwatch()
	return d, nil
}

func (v *Dev) mirror() {
	v.modeA.Store(v.mode)
	v.flagA.Store(uint32(v.flags))
	v.bcqA.Store(v.bcQueueLen)
}

func validMode(m uint32) bool {
	switch m {
	case ModePrivate, ModeVEPA, ModeBridge, ModePassthru, ModeSource:
		return true
	}
	return false
}

// local reports whether the macvlan is in its lower device's namespace.
func (v *Dev) local() bool { return v.home.Load() == v.lower.Table() }

// onLower runs f on the lower device's executor: now when the macvlan is
// in the same namespace, posted otherwise.
func (v *Dev) onLower(f func()) {
	if v.local() {
		f()
		return
	}
	v.lower.Table().Net().Exec().Post(f)
}

// onHome runs f on the macvlan's own executor (called on the lower's).
func (v *Dev) onHome(f func()) {
	if v.local() {
		f()
		return
	}
	v.home.Load().Net().Exec().Post(f)
}

// Device returns the macvlan's device; Lower its lower device.
func (v *Dev) Device() *netdev.Device { return v.dev }
func (v *Dev) Lower() *netdev.Device  { return v.lower }

// Mode, Flags, BCQueueLen and BCQueueLenUsed are what IFLA_INFO_DATA
// reports; safe from the macvlan's executor.
func (v *Dev) Mode() uint32           { return v.modeA.Load() }
func (v *Dev) Flags() uint16          { return uint16(v.flagA.Load()) }
func (v *Dev) BCQueueLen() uint32     { return v.bcqA.Load() }
func (v *Dev) BCQueueLenUsed() uint32 { return v.port.bcUsed.Load() }

// SetMode changes the mode (macvlan_changelink); passthru cannot be
// entered or left.
func (v *Dev) SetMode(m uint32) error {
	if !validMode(m) {
		return syscall.EINVAL
	}
	if (m == ModePassthru) != (v.Mode() == ModePassthru) {
		return syscall.EINVAL
	}
	v.modeA.Store(m)
	v.onLower(func() {
		if v.mode == ModeSource && m != ModeSource {
			v.port.flushSources(v)
		}
		v.mode = m
	})
	return nil
}

// SetFlags changes the flags; NOPROMISC toggles the lower device's
// promiscuity of a passthru macvlan that is up.
func (v *Dev) SetFlags(f uint16) error {
	if f&^(FlagNoPromisc|FlagNoDst) != 0 {
		return syscall.EINVAL
	}
	if f&FlagNoPromisc != 0 && v.Mode() != ModePassthru {
		return syscall.EINVAL
	}
	v.flagA.Store(uint32(f))
	v.onLower(func() {
		if v.mode == ModePassthru && v.up.Load() && (f^v.flags)&FlagNoPromisc != 0 {
			if f&FlagNoPromisc != 0 {
				v.lower.SetPromisc(-1)
			} else {
				v.lower.SetPromisc(1)
			}
		}
		v.flags = f
	})
	return nil
}

// SetBCQueueLen sets the requested broadcast queue length.
func (v *Dev) SetBCQueueLen(n uint32) {
	v.bcqA.Store(n)
	v.onLower(func() {
		v.bcQueueLen = n
		v.port.updateBCQueueLen()
	})
}

// Sources returns the source-mode address list of the macvlan. Call on
// the lower device's executor (or while the macvlan is next to it).
func (v *Dev) Sources() [][6]byte { return v.port.sourcesOf(v) }

// ChangeSources applies a MACVLAN_MACADDR_* operation (source mode only).
// Call on the lower device's executor (or while the macvlan is next to it).
func (v *Dev) ChangeSources(op uint32, addrs [][6]byte) error {
	if v.mode != ModeSource {
		return syscall.EINVAL
	}
	p := v.port
	switch op {
	case MACAddrAdd:
		for _, a := range addrs {
			if err := p.addSource(v, a); err != nil {
				return err
			}
		}
	case MACAddrDel:
		for _, a := range addrs {
			p.delSource(v, a)
		}
	case MACAddrFlush:
		p.flushSources(v)
	case MACAddrSet:
		p.flushSources(v)
		for _, a := range addrs {
			if err := p.addSource(v, a); err != nil {
				return err
			}
		}
	default:
		return syscall.EINVAL
	}
	return nil
}

// Kind is "macvlan" ("macvtap" for a tap, see NewTap).
func (v *Dev) Kind() string {
	if v.tap != nil {
		return "macvtap"
	}
	return "macvlan"
}

// Open puts the address in the port's table, refusing one in use there
// (macvlan_open; checked at once only next to the lower device); a
// passthru macvlan makes the lower promiscuous.
func (v *Dev) Open(d *netdev.Device) error {
	p := v.port
	addr := d.Addr()
	if v.local() && v.mode != ModePassthru && p.busy(addr, v) {
		return &netdev.ExtError{Errno: syscall.EADDRINUSE, Msg: "macvlan: address in use on the lower device"}
	}
	v.up.Store(true)
	v.onLower(func() {
		if v.mode == ModePassthru {
			if v.flags&FlagNoPromisc == 0 {
				v.lower.SetPromisc(1)
			}
		} else if !p.busy(addr, v) {
			p.byMAC[addr] = v
			v.hashed = true
		}
	})
	return nil
}

// Stop takes the address out of the port's table. The carrier stays:
// it follows the lower device alone (macvlan_stop leaves it).
func (v *Dev) Stop(d *netdev.Device) {
	v.up.Store(false)
	v.onLower(func() {
		if v.mode == ModePassthru && v.flags&FlagNoPromisc == 0 {
			v.lower.SetPromisc(-1)
		}
		v.unhash()
	})
}

func (v *Dev) unhash() {
	if v.hashed {
		for a, x := range v.port.byMAC {
			if x == v {
				delete(v.port.byMAC, a)
			}
		}
	}
	v.hashed = false
}

// ChangeMTU refuses an MTU above the lower device's.
func (v *Dev) ChangeMTU(_ *netdev.Device, mtu int) error {
	if v.local() && mtu > v.lower.MTU() {
		return syscall.EINVAL
	}
	return nil
}

// Uninit leaves the port.
func (v *Dev) Uninit(*netdev.Device) {
	v.napi.Purge()
	v.up.Store(false)
	if v.tap != nil {
		closeTap(v)
	}
	p := v.port
	v.onLower(func() {
		p.remove(v)
		v.txq.Purge()
	})
}

// LeavingNetns points the device's home at its new namespace before it
// gets there, so that the lower device's events post to that executor
// rather than act on the old one (netdev.NetnsLeaver).
func (v *Dev) LeavingNetns(_ *netdev.Device, dst *netdev.Table) { v.home.Store(dst) }

// MovedNetns re-homes the receive poll and records where the macvlan now
// is (IFLA_LINK then names the lower device in another namespace).
func (v *Dev) MovedNetns(d *netdev.Device) {
	v.napi.Rebind()
	v.home.Store(d.Table())
	var net any
	if d.Table() != v.lower.Table() {
		net = v.lower.Table().Net()
	}
	d.SetLink(v.lower.Ifindex(), net)
}

// transferOperstate copies the lower device's carrier bit, up or down,
// to the macvlan, up or down (netif_stacked_transfer_operstate on the
// lower's NETDEV_UP, NETDEV_DOWN and NETDEV_CHANGE). It goes through
// linkwatch: the macvlan is announced by the run after the one that
// announced the lower, as the kernel's NETDEV_CHANGE handler queues it
// while linkwatch handles the lower. Lower's executor.
func (v *Dev) transferOperstate() {
	on := v.lower.Carrier()
	v.onHome(func() { v.dev.SetCarrierLinkwatch(on) })
}

// receive queues b (owned) for the macvlan's own receive round, or hands
// it to the tap. Lower's executor; drops are counted on the lower device.
func (v *Dev) receive(b *skb.Buf) {
	if v.tap != nil {
		v.tap(b)
		return
	}
	v.rxOne.Add(b)
	if n := v.napi.Enqueue(v.rxOne); n > 0 {
		v.lower.Stats.RxDropped += uint64(n)
	}
}
