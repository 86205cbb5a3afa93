// Package ipvlan is the ipvlan device (drivers/net/ipvlan): slaves that
// share their lower device's MAC address and are told apart by IP
// address. A slave usually lives in another namespace than its lower
// device (a container), so the two sides meet through queues:
//
//   - receive: the lower device's hook (one port per lower device) looks
//     up the destination IP address (the target of an ARP packet) among
//     the slaves' addresses and queues the frame on that slave's NAPI;
//     unknown destinations stay with the lower device;
//   - transmit: a slave queues its frames for the lower device's executor,
//     which handles them by mode.
//
// Modes: l2 (slaves resolve neighbours with ARP over the lower's link and
// frames leave by the lower device; broadcasts reach every slave), l3
// (slaves are NOARP and their packets are routed in the lower device's
// namespace, as ipvlan_process_v4_outbound does; no broadcast reaches
// them), l3s (l3 with netfilter hooks in Linux; usnet has no netfilter
// yet, so l3s behaves as l3). Flags bridge (default), private (slaves
// never reach each other) and vepa (everything leaves by the lower
// device, even traffic between slaves).
//
// Slaves learn their addresses from the IPv4 layer of the namespace they
// are in: Attach must have been called for that namespace.
//
// Differences from Linux: a duplicate address is not refused (the first
// slave to have it keeps it); multicast filters are not modelled; IPv6
// is not handled yet; ipvtap is not implemented. The kernel of the
// development machine has no ipvlan, so the behaviour here follows the
// kernel source, not a recording.
package ipvlan

import (
	"fmt"
	"sync/atomic"
	"syscall"

	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
)

// Modes (IPVLAN_MODE_*) and flags (IPVLAN_F_*) of if_link.h.
const (
	ModeL2  uint16 = 0
	ModeL3  uint16 = 1
	ModeL3S uint16 = 2

	FlagPrivate uint16 = 0x01
	FlagVEPA    uint16 = 0x02
)

// Config describes a slave to create, as `ip link add link LOWER name
// NAME type ipvlan mode MODE [bridge|private|vepa]`.
type Config struct {
	Name  string
	Lower *netdev.Device
	Mode  uint16 // ModeL2 is the zero value; rtnetlink defaults to l3, as Linux
	Flags uint16
	MTU   int // 0: the lower's
}

// Dev is the driver state of one slave.
type Dev struct {
	dev   *netdev.Device
	lower *netdev.Device
	port  *port
	napi  *netdev.NAPI
	rxOne *skb.Batch
	txq   netdev.XmitQueue             // frames for the lower's executor
	up    atomic.Bool                  // administratively up (read by the port)
	home  atomic.Pointer[netdev.Table] // the namespace the slave is in
}

// Of returns the ipvlan state of d.
func Of(d *netdev.Device) (*Dev, bool) {
	v, ok := d.Driver().(*Dev)
	return v, ok
}

// New creates a slave on c.Lower, in the lower device's namespace (move
// it with netdev.Move). Call on the lower device's executor. The mode and
// flags are the port's: every slave of a lower device shares them, and
// creating a slave with others changes them for all (ipvlan_link_new).
func New(c Config) (*netdev.Device, error) {
	lower := c.Lower
	if lower == nil {
		return nil, &netdev.ExtError{Errno: syscall.EINVAL, Msg: "ipvlan: lower device required"}
	}
	if v, ok := Of(lower); ok {
		lower = v.lower // a slave of a slave sits on the same lower
	}
	if lower.Type() != netdev.ARPHRDEther {
		return nil, fmt.Errorf("ipvlan: %s is not Ethernet: %w", lower.Name(), syscall.EINVAL)
	}
	if c.Mode > ModeL3S {
		return nil, syscall.EINVAL
	}
	if c.Flags&^(FlagPrivate|FlagVEPA) != 0 || c.Flags == FlagPrivate|FlagVEPA {
		return nil, syscall.EINVAL
	}
	if lower.Addr() == ([6]byte{}) {
		return nil, syscall.EINVAL
	}
	mtu := c.MTU
	if mtu == 0 {
		mtu = lower.MTU()
	} else if mtu > lower.MTU() {
		return nil, syscall.EINVAL
	}
	t := lower.Table()
	// The port comes first: once registered, the slave is reported to
	// rtnetlink (and unregistered on a failure below), which reads its
	// mode from the port.
	p := portOf(lower, true)
	if p == nil {
		return nil, fmt.Errorf("ipvlan: %s has another receive handler: %w", lower.Name(), syscall.EBUSY)
	}
	v := &Dev{lower: lower, port: p, rxOne: skb.NewBatch(1)}
	flags := netdev.FlagBroadcast | netdev.FlagMulticast
	if c.Mode != ModeL2 {
		flags |= netdev.FlagNoARP
	}
	d, err := t.Register(netdev.Config{
		Name: c.Name, MTU: mtu, MinMTU: 68, MaxMTU: 0xffff,
		Addr: lower.Addr(), Broadcast: lower.Broadcast(), Type: netdev.ARPHRDEther,
		Flags: flags, Features: lower.Features(), ManagesCarrier: true,
		CarrierOn: lower.Carrier(), // ipvlan_init copies the lower's carrier
	}, v, 0)
	if err != nil {
		p.remove(v) // drops a port made for this slave
		return nil, err
	}
	v.dev = d
	v.home.Store(t)
	v.napi = netdev.NewNAPI(d)
	d.SetLink(lower.Ifindex(), nil)
	v.txq.Init(t.Net().Exec(), v.flushTx)
	p.slaves = append(p.slaves, v)
	p.setMode(c.Mode, c.Flags)
	// ipvlan_link_new transfers the lower's state without a linkwatch
	// run of its own: a slave of a lower with carrier is UNKNOWN until
	// the lower's carrier next changes.
	v.setCarrier(lower.Carrier())
	return d, nil
}

// Device returns the slave's device; Lower its lower device.
func (v *Dev) Device() *netdev.Device { return v.dev }
func (v *Dev) Lower() *netdev.Device  { return v.lower }

// Mode and Flags are the port's (IFLA_IPVLAN_MODE, IFLA_IPVLAN_FLAGS).
// They are read on the lower's executor, or through rtnetlink.
func (v *Dev) Mode() uint16  { return v.port.mode }
func (v *Dev) Flags() uint16 { return v.port.flags }

// SetMode changes the port's mode and flags (ipvlan_nl_changelink). Call
// on the lower device's executor.
func (v *Dev) SetMode(mode, flags uint16) error {
	if mode > ModeL3S || flags&^(FlagPrivate|FlagVEPA) != 0 || flags == FlagPrivate|FlagVEPA {
		return syscall.EINVAL
	}
	v.port.setMode(mode, flags)
	return nil
}

// Kind is "ipvlan".
func (*Dev) Kind() string { return "ipvlan" }

// Open and Stop tell the port; the carrier follows the lower device.
func (v *Dev) Open(d *netdev.Device) error { v.up.Store(true); return nil }
func (v *Dev) Stop(d *netdev.Device)       { v.up.Store(false) }

// ChangeMTU refuses an MTU above the lower device's.
func (v *Dev) ChangeMTU(_ *netdev.Device, mtu int) error {
	if mtu > v.lower.MTU() {
		return syscall.EINVAL
	}
	return nil
}

// Uninit leaves the port (on the lower's executor).
func (v *Dev) Uninit(*netdev.Device) {
	v.napi.Purge()
	p := v.port
	v.lower.Table().Net().Exec().Post(func() {
		p.remove(v)
		v.txq.Purge()
	})
}

// LeavingNetns points the device's home at its new namespace before it
// gets there, so that the lower device's events post to that executor
// rather than act on the old one (netdev.NetnsLeaver).
func (v *Dev) LeavingNetns(_ *netdev.Device, dst *netdev.Table) { v.home.Store(dst) }

// MovedNetns re-homes the receive poll and tells IFLA_LINK where the lower
// device is.
func (v *Dev) MovedNetns(d *netdev.Device) {
	v.napi.Rebind()
	v.home.Store(d.Table())
	var net any
	if v.lower.Table() != d.Table() {
		net = v.lower.Table().Net()
	}
	d.SetLink(v.lower.Ifindex(), net)
}

// onHome runs f on the slave's own executor (called on the lower's):
// now when they are the same, posted otherwise.
func (v *Dev) onHome(f func()) {
	t := v.home.Load()
	if t == v.lower.Table() {
		f()
		return
	}
	t.Net().Exec().Post(f)
}

// setCarrier gives the slave, up or down, the lower's carrier bit
// (netif_stacked_transfer_operstate) through linkwatch, which announces
// it in the run after the one that announced the lower.
func (v *Dev) setCarrier(on bool) { v.onHome(func() { v.dev.SetCarrierLinkwatch(on) }) }

// Xmit queues the frames for the lower's executor (any namespace).
func (v *Dev) Xmit(d *netdev.Device, bt *skb.Batch) {
	if n := v.txq.Put(bt); n > 0 {
		d.Stats.TxDropped += uint64(n)
	}
}

// receive queues b (owned) on the slave's NAPI.
func (v *Dev) receive(b *skb.Buf) {
	v.rxOne.Add(b)
	if n := v.napi.Enqueue(v.rxOne); n > 0 {
		v.lower.Stats.RxDropped += uint64(n) // the lower's executor counts
	}
}
