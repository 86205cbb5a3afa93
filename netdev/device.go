package netdev

import (
	"fmt"
	"syscall"

	"github.com/usnet/usnet/skb"
)

// Driver is a device kind's implementation (Linux's net_device_ops plus
// rtnl_link_ops). Methods run on the owning namespace's executor.
type Driver interface {
	// Kind is the link kind rtnetlink reports in IFLA_INFO_KIND ("veth",
	// "dummy"); empty for kinds Linux reports without one (loopback).
	Kind() string
	// Open brings the device up (ndo_open).
	Open(d *Device) error
	// Stop takes it down (ndo_stop).
	Stop(d *Device)
	// Xmit sends every Buf of bt; it takes ownership of them (ndo_start_xmit,
	// batched). It must leave bt empty.
	Xmit(d *Device, bt *skb.Batch)
	// Uninit releases the device's resources when it is unregistered.
	Uninit(d *Device)
}

// MTUChanger is implemented by drivers that must approve an MTU change.
type MTUChanger interface {
	ChangeMTU(d *Device, mtu int) error
}

// NetnsMover is implemented by drivers that hold executor-bound state (a
// NAPI) and must re-home it when the device moves to another namespace.
type NetnsMover interface{ MovedNetns(d *Device) }

// NetnsLeaver is told, on the old namespace's executor, that d is leaving
// for dst: a driver that acts on d from another device's executor (a
// vlan or macvlan on its lower's events) must post to dst's from then on,
// as nothing may touch d on the old executor once it is gone.
type NetnsLeaver interface {
	LeavingNetns(d *Device, dst *Table)
}

// Features are a device's offload abilities (NETIF_F_*), what lets large
// segments cross in-process links unsplit.
type Features struct {
	// RxCsumTrusted: frames received are checksum-verified already (veth
	// between in-process stacks, loopback), so L4 need not verify.
	RxCsumTrusted bool
	// TxCsum: the device accepts CsumPartial buffers (it, or its peer,
	// completes or does not need the checksum).
	TxCsum bool
	// GSOMaxSize is the largest segment the device accepts (0: the MTU).
	GSOMaxSize int
	// GSOMaxSegs bounds the number of MTU-sized segments in one.
	GSOMaxSegs int
	// GRO: the device coalesces the TCP segments of received batches
	// into super-packets (NETIF_F_GRO; its driver sets NAPI.GRO). Host
	// backends have it; in-process links carry GSO super-packets unsplit
	// and need none.
	GRO bool
}

// Config is what a driver asks of the core when it creates a device.
type Config struct {
	Name       string // may hold one %d template
	MTU        int
	MinMTU     int
	MaxMTU     int
	Addr       [6]byte
	Broadcast  [6]byte
	Type       uint16 // ARPHRD_* link type
	Flags      Flags  // initial non-admin flags (BROADCAST, MULTICAST, LOOPBACK, NOARP)
	TxQueueLen int
	// NumTxQueues and NumRxQueues are the queue counts the device reports
	// (IFLA_NUM_TX/RX_QUEUES); 0 means 1. usnet's devices are not
	// multiqueue: the counts are what Linux would have allocated (veth:
	// one per CPU), kept for rtnetlink and fixed at creation.
	NumTxQueues, NumRxQueues int
	Features                 Features
	// ManagesCarrier: the driver reports carrier (veth, host backends).
	// When false, the device is UNKNOWN while up, as loopback and dummy.
	ManagesCarrier bool
	// CarrierOn: a carrier-reporting device starts with its carrier on,
	// as alloc_netdev leaves it (bridge, macvlan, vlan, ipvlan: their
	// drivers change it later); otherwise it starts off, as drivers that
	// call netif_carrier_off before registering (veth, bond, tun). A
	// device registered with carrier stays UNKNOWN until its first
	// linkwatch run (linkwatch_init_dev runs the policy only without).
	CarrierOn bool
}

// Link types (ARPHRD_*).
const (
	ARPHRDEther    uint16 = 1
	ARPHRDLoopback uint16 = 772
	ARPHRDNone     uint16 = 0xfffe
)

// Device is a network device in a namespace.
type Device struct {
	table   *Table
	ifindex int
	name    string
	alias   string
	drv     Driver
	typ     uint16
	group   uint32

	mtu, minMTU, maxMTU int
	addr, broadcast     [6]byte
	flags               Flags
	oper                OperState // dev->operstate: kept while down, reported DOWN then
	carrier             bool
	managesCarrier      bool
	lwPending           bool // queued for a linkwatch run (Table.lw)
	activated           bool // opened once: its default qdisc is attached
	carrierChanges      uint32
	txQueueLen          int
	numTxQ, numRxQ      int
	linkMode            uint8
	features            Features
	promisc             int // promiscuity counter (bridge, capture)

	master *Device
	// Link is the ifindex of the lower or peer device (IFLA_LINK), and
	// LinkNet the namespace it lives in when that differs (nil: same).
	link    int
	linkNet any

	qdisc Qdisc
	// rxHandler, if set, sees every received frame first (bridge, bond,
	// macvlan ports; Linux's rx_handler).
	rxHandler RxHandler

	// Stats are updated on the owning executor only.
	Stats Stats64

	xmitBatch *skb.Batch
	watchdog  watchdog
}

// Ifindex returns the interface index.
func (d *Device) Ifindex() int { return d.ifindex }

// Name returns the interface name.
func (d *Device) Name() string { return d.name }

// Alias returns the IFLA_IFALIAS string.
func (d *Device) Alias() string { return d.alias }

// Driver returns the device's driver.
func (d *Device) Driver() Driver { return d.drv }

// Kind returns the driver's link kind.
func (d *Device) Kind() string { return d.drv.Kind() }

// Table returns the device table of the namespace the device is in.
func (d *Device) Table() *Table { return d.table }

// Type returns the ARPHRD link type.
func (d *Device) Type() uint16 { return d.typ }

// MTU returns the MTU; MinMTU and MaxMTU its bounds.
func (d *Device) MTU() int    { return d.mtu }
func (d *Device) MinMTU() int { return d.minMTU }
func (d *Device) MaxMTU() int { return d.maxMTU }

// Addr returns the hardware address; Broadcast the broadcast address.
func (d *Device) Addr() [6]byte      { return d.addr }
func (d *Device) Broadcast() [6]byte { return d.broadcast }

// Flags returns the interface flags, RUNNING and LOWER_UP included.
func (d *Device) Flags() Flags { return d.flags }

// IsUp reports the administrative state.
func (d *Device) IsUp() bool { return d.flags&FlagUp != 0 }

// IsRunning reports whether the device is up with carrier
// (netif_running && netif_carrier_ok).
func (d *Device) IsRunning() bool { return d.flags&FlagRunning != 0 }

// OperState returns the RFC 2863 operational state as Linux reports it:
// DOWN while the device is administratively down, else the state the
// last linkwatch run (or userspace) left, which a down device keeps.
func (d *Device) OperState() OperState {
	if !d.IsUp() {
		return OperDown
	}
	return d.oper
}

// OperUp is netif_oper_up: the device is up and its operational state
// UP or UNKNOWN, what a bridge requires of a port before it enables it
// (br_port_carrier_check) — so a port whose carrier just came back counts
// only once linkwatch has run for it.
func (d *Device) OperUp() bool {
	o := d.OperState()
	return o == OperUp || o == OperUnknown
}

// Carrier reports the carrier; CarrierChanges counts its transitions.
func (d *Device) Carrier() bool          { return d.carrier }
func (d *Device) CarrierChanges() uint32 { return d.carrierChanges }

// NumTxQueues returns the number of transmit queues (IFLA_NUM_TX_QUEUES).
func (d *Device) NumTxQueues() int { return d.numTxQ }

// NumRxQueues returns the number of receive queues (IFLA_NUM_RX_QUEUES).
func (d *Device) NumRxQueues() int { return d.numRxQ }

// SetNumQueues sets the queue counts while the device is being created
// (rtnl_create_link with IFLA_NUM_TX_QUEUES/IFLA_NUM_RX_QUEUES). EINVAL
// outside 1..MaxQueues, as Linux answers.
func (d *Device) SetNumQueues(tx, rx int) error {
	if tx < 1 || tx > MaxQueues || rx < 1 || rx > MaxQueues {
		return fmt.Errorf("netdev: %d/%d queues: %w", tx, rx, syscall.EINVAL)
	}
	d.numTxQ, d.numRxQ = tx, rx
	return nil
}

// MaxQueues is the largest queue count Linux accepts at creation.
const MaxQueues = 4096

// TxQueueLen returns txqueuelen.
func (d *Device) TxQueueLen() int { return d.txQueueLen }

// Group returns the device group; LinkMode the IFLA_LINKMODE.
func (d *Device) Group() uint32   { return d.group }
func (d *Device) LinkMode() uint8 { return d.linkMode }

// Features returns the offload abilities.
func (d *Device) Features() Features { return d.features }

// Master returns the master device (bridge, bond), or nil.
func (d *Device) Master() *Device { return d.master }

// Link returns IFLA_LINK: the lower or peer ifindex (0 when none) and the
// peer's namespace when it is another one.
func (d *Device) Link() (int, any) { return d.link, d.linkNet }

// SetLink records the lower or peer device for IFLA_LINK.
func (d *Device) SetLink(ifindex int, net any) { d.link, d.linkNet = ifindex, net }

// Promiscuity returns the promiscuity counter.
func (d *Device) Promiscuity() int { return d.promisc }

// Activated reports whether the device has been opened since it was
// registered or moved: dev_activate attaches the default qdisc (noqueue
// for usnet's devices) at the first open, and it stays attached, and
// reported in IFLA_QDISC, while the device is down, until dev_shutdown
// at unregistration or a move to another namespace.
func (d *Device) Activated() bool { return d.activated }

// Qdisc returns the device's root queueing discipline (nil: noqueue).
func (d *Device) Qdisc() Qdisc { return d.qdisc }

// String returns the name.
func (d *Device) String() string { return d.name }

// Up sets the device administratively up (dev_open): the driver's Open,
// then flags and operational state, then the notifiers. A device whose
// driver raised the carrier in Open for a later linkwatch run
// (SetCarrierLinkwatch) is announced with LOWER_UP and the state it had
// before, as __dev_notify_flags announces a veth whose peer is up; the
// run brings RUNNING and the new state. Otherwise a device that reports
// carrier gets its state recomputed, which is what linkwatch last made
// of the same carrier, unless linkwatch never ran for it since it was
// registered with carrier (UNKNOWN is kept: a bridge without ports); one
// that never reports carrier keeps its state (UNKNOWN, or what userspace
// set, also before it went down).
func (d *Device) Up() error {
	if d.IsUp() {
		return nil
	}
	if err := d.drv.Open(d); err != nil {
		return err
	}
	d.flags |= FlagUp
	d.activated = true
	d.refreshFlags()
	if d.managesCarrier && !d.lwPending && !(d.carrier && d.oper == OperUnknown) {
		d.rfc2863()
	}
	d.table.notify(EventUp, d)
	return nil
}

// Down sets the device administratively down (dev_close).
func (d *Device) Down() {
	if !d.IsUp() {
		return
	}
	d.table.notify(EventGoingDown, d)
	d.drv.Stop(d)
	d.flags &^= FlagUp
	d.refreshFlags() // the operational state is kept (reported DOWN)
	if d.qdisc != nil {
		d.qdisc.Reset()
	}
	d.table.notify(EventDown, d)
}

// SetCarrier updates the carrier, the flags and the operational state
// and notifies at once, a linkwatch run without the wait. No driver uses
// it any more: Linux's drivers change carrier with netif_carrier_on/off,
// whose state and notification linkwatch delivers later, and usnet's do
// the same with SetCarrierLinkwatch. It stays for tests that want the
// final state at once.
func (d *Device) SetCarrier(on bool) {
	if d.carrier == on {
		return
	}
	d.carrier = on
	d.carrierChanges++
	if d.refreshOper() {
		d.table.notify(EventChange, d)
	}
}

// Link modes (IFLA_LINKMODE, IF_LINK_MODE_*).
const (
	LinkModeDefault uint8 = 0
	LinkModeDormant uint8 = 1 // userspace moves the device from DORMANT to UP
	LinkModeTesting uint8 = 2
)

// SetLinkMode sets IFLA_LINKMODE; it reports whether it changed (the
// caller then announces the device, as do_setlink does). The operational
// state is not recomputed until the next carrier or up/down change, as
// on Linux.
func (d *Device) SetLinkMode(m uint8) bool {
	if m == d.linkMode {
		return false
	}
	d.linkMode = m
	return true
}

// SetOperState is set_operstate, IFLA_OPERSTATE from userspace: UP is
// taken from DORMANT, TESTING or UNKNOWN (unless the device itself is
// dormant), DORMANT and TESTING from UP or UNKNOWN; anything else is
// ignored. A change raises EventChange while the device is up.
func (d *Device) SetOperState(t OperState) {
	o := d.oper
	operUp := o == OperUp || o == OperUnknown
	switch t {
	case OperUp:
		if (o == OperDormant || o == OperTesting || o == OperUnknown) && d.flags&FlagDormant == 0 {
			o = OperUp
		}
	case OperTesting:
		if operUp {
			o = OperTesting
		}
	case OperDormant:
		if operUp {
			o = OperDormant
		}
	}
	if o != d.oper {
		d.oper = o
		d.StateChange()
	}
}

// SetMTU changes the MTU within [MinMTU, MaxMTU] (EINVAL otherwise).
func (d *Device) SetMTU(mtu int) error {
	if mtu == d.mtu {
		return nil
	}
	if mtu < d.minMTU {
		return &ExtError{Errno: syscall.EINVAL, Msg: "mtu less than device minimum"}
	}
	if mtu > d.maxMTU {
		return &ExtError{Errno: syscall.EINVAL, Msg: "mtu greater than device maximum"}
	}
	if c, ok := d.drv.(MTUChanger); ok {
		if err := c.ChangeMTU(d, mtu); err != nil {
			return err
		}
	}
	d.mtu = mtu
	d.table.notify(EventChangeMTU, d)
	return nil
}

// SetAddr changes the hardware address. Linux refuses a multicast address
// (EADDRNOTAVAIL).
func (d *Device) SetAddr(a [6]byte) error {
	if a[0]&1 != 0 {
		return fmt.Errorf("multicast hardware address: %w", syscall.EADDRNOTAVAIL)
	}
	if a == d.addr {
		return nil
	}
	d.addr = a
	d.table.notify(EventChangeAddr, d)
	return nil
}

// HWAddrSet changes the address without announcing it (eth_hw_addr_set):
// a driver that changes its own address in the middle of other work (a
// bridge taking a port's MAC) announces it later with NotifyChangeAddr,
// where Linux calls the NETDEV_CHANGEADDR notifiers.
func (d *Device) HWAddrSet(a [6]byte) { d.addr = a }

// NotifyChangeAddr raises EventChangeAddr (call_netdevice_notifiers with
// NETDEV_CHANGEADDR) for an address set with HWAddrSet.
func (d *Device) NotifyChangeAddr() { d.table.notify(EventChangeAddr, d) }

// FeaturesChange raises EventFeatChange (netdev_features_change): the
// device's offloads were recomputed and changed; rtnetlink announces it.
func (d *Device) FeaturesChange() { d.table.notify(EventFeatChange, d) }

// SetFlags changes the user-settable flags (UP is handled by Up/Down).
func (d *Device) SetFlags(f Flags, mask Flags) error {
	mask &= flagsUserSettable
	if mask&FlagUp != 0 {
		var err error
		if f&FlagUp != 0 {
			err = d.Up()
		} else {
			d.Down()
		}
		if err != nil {
			return err
		}
		mask &^= FlagUp
	}
	nf := d.flags&^mask | f&mask
	if nf != d.flags {
		d.flags = nf
		d.refreshOper()
		d.table.notify(EventChange, d)
	}
	return nil
}

// StateChange is netdev_state_change: a setting protocols and listeners
// care about changed outside the device core (an IFLA_AF_SPEC setting,
// for one), so EventChange is raised, which rtnl announces with
// RTM_NEWLINK. As in Linux, nothing is raised while the device is down.
func (d *Device) StateChange() {
	if d.IsUp() {
		d.table.notify(EventChange, d)
	}
}

// SetTxQueueLen sets txqueuelen.
func (d *Device) SetTxQueueLen(n int) error {
	if n < 0 {
		return syscall.EINVAL
	}
	if n != d.txQueueLen {
		d.txQueueLen = n
		d.table.notify(EventChange, d)
	}
	return nil
}

// SetAlias sets IFLA_IFALIAS (at most 255 bytes, as IFALIASZ - 1).
func (d *Device) SetAlias(s string) error {
	if len(s) > 255 {
		return syscall.EINVAL
	}
	if s != d.alias {
		d.alias = s
		d.table.notify(EventChange, d)
	}
	return nil
}

// SetGroup sets the device group.
func (d *Device) SetGroup(g uint32) {
	if g != d.group {
		d.group = g
		d.table.notify(EventChange, d)
	}
}

// SetPromisc adjusts the promiscuity counter (dev_set_promiscuity); the
// PROMISC flag is shown while it is positive.
func (d *Device) SetPromisc(inc int) {
	d.promisc = max(0, d.promisc+inc)
	d.table.notify(EventRxFlags, d)
}

// SetMaster enslaves the device to m (nil: release).
func (d *Device) SetMaster(m *Device) {
	if m == d.master {
		return
	}
	d.master = m
	d.table.notify(EventChangeUpper, d)
}

// SetRxHandler installs the frame hook used by bridge, bond, macvlan
// (netdev_rx_handler_register); EBUSY if one is installed.
func (d *Device) SetRxHandler(h RxHandler) error {
	if h != nil && d.rxHandler != nil {
		return syscall.EBUSY
	}
	d.rxHandler = h
	return nil
}

// SetQdisc replaces the root queueing discipline (nil: noqueue); the old
// one's packets are dropped.
func (d *Device) SetQdisc(q Qdisc) {
	if d.qdisc != nil {
		d.qdisc.Reset()
	}
	d.qdisc = q
}
