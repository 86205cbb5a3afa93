// Package vlan is the 802.1Q / 802.1ad VLAN device (net/8021q): a device
// on top of an Ethernet-like lower device that tags what it transmits with
// its VLAN id and receives the frames the lower device gets with that tag.
// Stacking one vlan on another gives QinQ (an 802.1ad outer tag over an
// 802.1Q inner one).
//
// The lower device's receive hook (one per lower device, shared by all its
// vlans) demultiplexes tagged frames by protocol and VID, strips the tag
// and queues the frame on the vlan device's NAPI, so the vlan device
// receives in its own round, as Linux's "another_round" in
// __netif_receive_skb_core does. The tag is always carried in the frame
// (there is no hardware-offloaded tag in an skb.Buf). A vlan may be moved
// to another namespace than its lower device's; its transmit then crosses
// to the lower's executor through a bounded queue.
//
// Differences from Linux: frames are always delivered untagged
// (reorder_hdr is kept and reported but changes nothing); GVRP and MVRP
// are flags only, no protocol runs; a frame with an unknown VID stays
// tagged on the lower device and is counted rx_nohandler there (Linux
// untags it and drops it as PACKET_OTHERHOST); the ENETDOWN check of open
// is made only next to the lower device; and since Linux's vlan receive
// is not an rx_handler but usnet's is, a lower device cannot carry vlans
// and a macvlan, ipvlan, bridge or bond hook at once (EBUSY).
package vlan

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"syscall"

	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
	"golang.org/x/sys/unix"
)

// VLAN device flags (VLAN_FLAG_* of include/uapi/linux/if_vlan.h).
const (
	FlagReorderHdr    uint32 = 0x1
	FlagGVRP          uint32 = 0x2
	FlagLooseBinding  uint32 = 0x4
	FlagMVRP          uint32 = 0x8
	FlagBridgeBinding uint32 = 0x10
	flagsAll                 = FlagReorderHdr | FlagGVRP | FlagLooseBinding | FlagMVRP | FlagBridgeBinding
)

// VIDMax is the largest VLAN id a device may use (4095 is reserved).
const VIDMax = 4094

// hlen is the size of one 802.1Q tag (VLAN_HLEN).
const hlen = 4

// Config describes a vlan device to create, as `ip link add link LOWER
// name NAME type vlan id ID ...`.
type Config struct {
	Name  string // may hold a %d template
	Lower *netdev.Device
	ID    uint16
	// Protocol is the tag's EtherType: unix.ETH_P_8021Q (also when 0) or
	// unix.ETH_P_8021AD.
	Protocol uint16
	// Flags under FlagsMask change the default flags (REORDER_HDR), as
	// IFLA_VLAN_FLAGS does.
	Flags, FlagsMask uint32
	// MTU, 0 for the lower device's.
	MTU int
	// Addr, zero for the lower device's (then followed when it changes).
	Addr            [6]byte
	Ingress, Egress []QoSMapping
}

// Dev is the driver state of one vlan device. A vlan may be moved into
// another namespace than its lower device's (Linux allows it): transmit
// then crosses to the lower's executor through a bounded queue, and what
// the lower's receive hook reads is atomic.
type Dev struct {
	dev      *netdev.Device
	lower    *netdev.Device
	grp      *group
	id       uint16
	proto    uint16
	flags    atomic.Uint32
	inherit  bool // the MAC is the lower's and follows it (vlan's executor)
	qos      qosMaps
	napi     *netdev.NAPI
	rxOne    *skb.Batch // lower's executor
	tx       *skb.Batch // vlan's executor
	txq      netdev.XmitQueue
	home     atomic.Pointer[netdev.Table]
	unlinked bool
}

// Of returns the vlan state of d, if d is a vlan device.
func Of(d *netdev.Device) (*Dev, bool) {
	v, ok := d.Driver().(*Dev)
	return v, ok
}

// New creates and registers a vlan device in the lower device's table
// (vlan_newlink). Call on that namespace's executor.
func New(c Config) (*netdev.Device, error) {
	lower := c.Lower
	if lower == nil {
		return nil, &netdev.ExtError{Errno: syscall.EINVAL, Msg: "vlan: lower device required"}
	}
	if c.Protocol == 0 {
		c.Protocol = unix.ETH_P_8021Q
	}
	if c.Protocol != unix.ETH_P_8021Q && c.Protocol != unix.ETH_P_8021AD {
		return nil, &netdev.ExtError{Errno: syscall.EPROTONOSUPPORT, Msg: "Invalid VLAN protocol"}
	}
	if c.ID > VIDMax {
		return nil, &netdev.ExtError{Errno: syscall.ERANGE, Msg: "Invalid VLAN id"}
	}
	if lower.Type() != netdev.ARPHRDEther {
		return nil, fmt.Errorf("vlan: VLANs not supported on %s: %w", lower.Name(), syscall.EOPNOTSUPP)
	}
	if c.Flags&c.FlagsMask&^flagsAll != 0 {
		return nil, &netdev.ExtError{Errno: syscall.EINVAL, Msg: "Invalid VLAN flags"}
	}
	t := lower.Table()
	g := groupOf(lower, false)
	if g != nil && g.find(c.Protocol, c.ID) != nil {
		return nil, fmt.Errorf("vlan: %s already has VLAN %d: %w", lower.Name(), c.ID, syscall.EEXIST)
	}
	mtu := c.MTU
	if mtu == 0 {
		mtu = lower.MTU()
	} else if mtu > lower.MTU() {
		return nil, &netdev.ExtError{Errno: syscall.EINVAL, Msg: "vlan: mtu greater than the lower device's"}
	}
	v := &Dev{lower: lower, id: c.ID, proto: c.Protocol, rxOne: skb.NewBatch(1), tx: skb.NewBatch(64)}
	v.flags.Store(FlagReorderHdr&^c.FlagsMask | c.Flags&c.FlagsMask)
	for _, m := range c.Ingress {
		v.qos.setIngress(m.From, m.To)
	}
	for _, m := range c.Egress {
		if err := v.qos.setEgress(m.From, m.To); err != nil {
			return nil, err
		}
	}
	addr := c.Addr
	if addr == ([6]byte{}) {
		addr, v.inherit = lower.Addr(), true
	}
	// vlan_dev_init: the lower's flags without the administrative and
	// bonding ones, its offloads, no queue.
	flags := lower.Flags() &^ (netdev.FlagUp | netdev.FlagPromisc | netdev.FlagAllMulti |
		netdev.FlagMaster | netdev.FlagSlave | netdev.FlagRunning | netdev.FlagLowerUp | netdev.FlagDormant)
	d, err := t.Register(netdev.Config{
		Name: c.Name, MTU: mtu, MinMTU: 68, MaxMTU: 0xffff,
		Addr: addr, Broadcast: lower.Broadcast(), Type: netdev.ARPHRDEther,
		Flags: flags, Features: lower.Features(), ManagesCarrier: true,
		// vlan_dev_init copies the lower's carrier (off under bridge
		// binding, where the bridge's VLAN state owns it).
		CarrierOn: lower.Carrier() && v.flags.Load()&FlagBridgeBinding == 0,
	}, v, 0)
	if err != nil {
		return nil, err
	}
	v.dev = d
	v.home.Store(t)
	v.napi = netdev.NewNAPI(d)
	v.txq.Init(t.Net().Exec(), lower.Xmit)
	d.SetLink(lower.Ifindex(), nil)
	if g == nil {
		if g = groupOf(lower, true); g == nil {
			t.Unregister(d)
			return nil, fmt.Errorf("vlan: %s has another receive handler: %w", lower.Name(), syscall.EBUSY)
		}
	}
	v.grp = g
	g.add(v)
	// register_vlan_dev: the lower's carrier, then a linkwatch run
	// whatever it is, so the state is computed before the first open.
	v.transferOperstate()
	d.FireLinkwatch()
	return d, nil
}

// Device returns the vlan's device; Lower the device it sits on.
func (v *Dev) Device() *netdev.Device { return v.dev }
func (v *Dev) Lower() *netdev.Device  { return v.lower }

// ID returns the VLAN id; Protocol the tag's EtherType; Flags VLAN_FLAG_*.
func (v *Dev) ID() uint16       { return v.id }
func (v *Dev) Protocol() uint16 { return v.proto }
func (v *Dev) Flags() uint32    { return v.flags.Load() }

// ChangeFlags sets the flags under mask (vlan_dev_change_flags).
func (v *Dev) ChangeFlags(flags, mask uint32) error {
	if flags&mask&^flagsAll != 0 {
		return &netdev.ExtError{Errno: syscall.EINVAL, Msg: "Invalid VLAN flags"}
	}
	old := v.flags.Load()
	nf := old&^mask | flags&mask
	v.flags.Store(nf)
	if (old^nf)&FlagBridgeBinding != 0 {
		v.onLower(v.transferOperstate)
	}
	return nil
}

// SetIngress maps the tag priority from (0-7) to the packet priority to
// (vlan_dev_set_ingress_priority); to 0 removes the mapping.
func (v *Dev) SetIngress(from, to uint32) { v.qos.setIngress(from, to) }

// SetEgress maps packet priority from to the tag priority to (0-7)
// (vlan_dev_set_egress_priority); to 0 removes the mapping.
func (v *Dev) SetEgress(from, to uint32) error { return v.qos.setEgress(from, to) }

// Ingress and Egress return the mappings in the order Linux dumps them.
func (v *Dev) Ingress() []QoSMapping { return v.qos.ingressList() }
func (v *Dev) Egress() []QoSMapping  { return v.qos.egressList() }

// Kind is "vlan".
func (*Dev) Kind() string { return "vlan" }

// Open refuses while the lower device is down, unless loose binding is on,
// and takes the lower device's carrier (vlan_dev_open). Away from the
// lower's namespace the check cannot be made at once and the carrier
// follows a moment later.
func (v *Dev) Open(d *netdev.Device) error {
	f := v.flags.Load()
	if !v.local() {
		v.onLower(func() {
			on := v.lower.Carrier() && f&FlagBridgeBinding == 0
			if on {
				v.onHome(func() {
					if v.dev.IsUp() {
						v.dev.SetCarrierLinkwatch(true)
					}
				})
			}
		})
		return nil
	}
	if !v.lower.IsUp() && f&FlagLooseBinding == 0 {
		return &netdev.ExtError{Errno: syscall.ENETDOWN, Msg: "vlan: lower device is down"}
	}
	if v.inherit && d.Addr() != v.lower.Addr() {
		d.SetAddr(v.lower.Addr())
	}
	if v.lower.Carrier() && f&FlagBridgeBinding == 0 {
		d.SetCarrierLinkwatch(true)
	}
	return nil
}

// local reports whether the vlan is in its lower device's namespace.
func (v *Dev) local() bool { return v.home.Load() == v.lower.Table() }

// onLower runs f on the lower device's executor (now, or posted).
func (v *Dev) onLower(f func()) {
	if v.local() {
		f()
		return
	}
	v.lower.Table().Net().Exec().Post(f)
}

// onHome runs f on the vlan's own executor (now, or posted).
func (v *Dev) onHome(f func()) {
	if v.local() {
		f()
		return
	}
	v.home.Load().Net().Exec().Post(f)
}

// Stop drops the carrier unless bridge binding owns it (vlan_dev_stop);
// linkwatch then records the state the vlan keeps while down.
func (v *Dev) Stop(d *netdev.Device) {
	if v.flags.Load()&FlagBridgeBinding == 0 {
		d.SetCarrierLinkwatch(false)
	}
}

// ChangeMTU refuses an MTU above the lower device's (vlan_dev_change_mtu).
func (v *Dev) ChangeMTU(_ *netdev.Device, mtu int) error {
	if v.local() && mtu > v.lower.MTU() {
		return &netdev.ExtError{Errno: syscall.ERANGE, Msg: "vlan: mtu greater than the lower device's"}
	}
	return nil
}

// Uninit detaches the vlan from its lower device.
func (v *Dev) Uninit(*netdev.Device) {
	v.napi.Purge()
	v.onLower(func() {
		if v.grp != nil && !v.unlinked {
			v.unlinked = true
			v.grp.remove(v)
		}
		v.txq.Purge()
	})
}

// Xmit inserts the tag, with the priority bits from the egress map, and
// hands the frames to the lower device (vlan_dev_hard_start_xmit).
func (v *Dev) Xmit(d *netdev.Device, bt *skb.Batch) {
	for _, b := range bt.Bufs() {
		if b.Len() < 14 || !b.Expand(hlen, 0) {
			d.Stats.TxDropped++
			b.Free()
			continue
		}
		tci := v.id | v.qos.egress(b.Priority)
		h := b.Push(hlen)[:14+hlen]
		copy(h[0:12], h[hlen:12+hlen])
		binary.BigEndian.PutUint16(h[12:14], v.proto)
		binary.BigEndian.PutUint16(h[14:16], tci)
		v.tx.Add(b)
	}
	bt.Reset()
	if v.local() {
		v.lower.Xmit(v.tx)
	} else if n := v.txq.Put(v.tx); n > 0 {
		d.Stats.TxDropped += uint64(n)
	}
}

// LeavingNetns points the device's home at its new namespace before it
// gets there, so that the lower device's events post to that executor
// rather than act on the old one (netdev.NetnsLeaver).
func (v *Dev) LeavingNetns(_ *netdev.Device, dst *netdev.Table) { v.home.Store(dst) }

// MovedNetns re-homes the receive poll and records where the vlan now is
// (IFLA_LINK then names the lower device in another namespace).
func (v *Dev) MovedNetns(d *netdev.Device) {
	v.napi.Rebind()
	v.home.Store(d.Table())
	var net any
	if d.Table() != v.lower.Table() {
		net = v.lower.Table().Net()
	}
	d.SetLink(v.lower.Ifindex(), net)
}

// transferOperstate copies the lower device's carrier bit to the vlan,
// up or down (vlan_stacked_transfer_operstate: netif_stacked_transfer_
// operstate unless bridge binding owns the carrier), through linkwatch:
// on the lower's NETDEV_CHANGE the kernel queues the vlan while linkwatch
// handles the lower, so the vlan is announced by the next run. Lower's
// executor.
func (v *Dev) transferOperstate() {
	if v.flags.Load()&FlagBridgeBinding != 0 {
		return
	}
	on := v.lower.Carrier()
	v.onHome(func() { v.dev.SetCarrierLinkwatch(on) })
}
