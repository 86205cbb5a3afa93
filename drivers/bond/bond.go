package bond

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/usnet/usnet/executor"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
)

// Bond is the driver state of one bonding device (struct bonding).
type Bond struct {
	dev *netdev.Device
	p   Params

	slaves []*Slave // in enslave order
	active *Slave   // curr_active_slave (active-backup)
	// usable are the slaves that may transmit now (bond->usable_slaves):
	// link up and active; in 802.3ad, the ports of the active aggregator
	// that distribute.
	usable    []*Slave
	rrCounter uint32

	mii *executor.Timer
	// sendPeerNotif counts down the peer notifications still due
	// (bond->send_peer_notif).
	sendPeerNotif uint32
	// notifyPeers is the NETDEV_NOTIFY_PEERS hook: the namespace's ARP
	// sends gratuitous ARPs for the bond's addresses.
	notifyPeers func(*netdev.Device)

	// randomAddr: the MAC is still the random one of creation, so the
	// first slave's replaces it (NET_ADDR_RANDOM).
	randomAddr bool
	// primaryIdx is the ifindex named by `primary` (0: none); it counts
	// only while that device is a slave.
	primaryIdx int
	dead       bool
	rxb        *skb.Batch

	ad adBond

	// Stats are bonding's own counters (executor only).
	Stats Stats
}

// Stats count bonding events.
type Stats struct {
	Failovers         uint64 // active slave changes in active-backup
	PeerNotifications uint64 // NETDEV_NOTIFY_PEERS raised
	LACPDURx          uint64
	LACPDUTx          uint64
	LACPDUIllegalRx   uint64
}

// Slave is one enslaved device (struct slave).
type Slave struct {
	bond  *Bond
	dev   *netdev.Device
	link  uint8
	state uint8
	delay uint32
	// linkFailureCount counts transitions to down.
	linkFailureCount uint32
	permAddr         [6]byte
	origMTU          int
	queueID          uint16
	prio             int32
	txb              *skb.Batch
	port             adPort
}

// Dev returns the slave device.
func (s *Slave) Dev() *netdev.Device { return s.dev }

// Link returns the MII status (LinkUp, LinkFail, LinkDown, LinkBack).
func (s *Slave) Link() uint8 { return s.link }

// State returns StateActive or StateBackup (bond_slave_state).
func (s *Slave) State() uint8 { return s.state }

// LinkFailureCount returns the number of times the link went down.
func (s *Slave) LinkFailureCount() uint32 { return s.linkFailureCount }

// PermAddr returns the MAC the device had when it was enslaved.
func (s *Slave) PermAddr() [6]byte { return s.permAddr }

// QueueID returns the slave's queue_id; Prio its prio.
func (s *Slave) QueueID() uint16 { return s.queueID }
func (s *Slave) Prio() int32     { return s.prio }

// SetQueueID sets queue_id (IFLA_BOND_SLAVE_QUEUE_ID).
func (s *Slave) SetQueueID(id uint16) { s.queueID = id }

// SetPrio sets the slave priority (IFLA_BOND_SLAVE_PRIO).
func (s *Slave) SetPrio(p int32) { s.prio = p }

// DefaultTxQueues is the bonding module's tx_queues default
// (BOND_DEFAULT_TX_QUEUES): the queue count a new bond reports.
const DefaultTxQueues = 16

// New creates a bond named name (a %d template is allowed) with the given
// options, as `ip link add NAME type bond ...`: a random MAC until the
// first slave lends its own, no carrier until a slave's link is up.
func New(t *netdev.Table, name string, p Params) (*netdev.Device, error) {
	b := &Bond{p: p, randomAddr: true, rxb: skb.NewBatch(1), notifyPeers: (*netdev.Device).NotifyPeers}
	if !p.Mode.usesARP() && b.p.Miimon == 0 {
		b.p.Miimon = DefaultMiimon
	}
	d, err := t.Register(netdev.Config{
		Name: name, MTU: 1500, MinMTU: 68, MaxMTU: 65535,
		Addr: netdev.RandomMAC(t.Net().Exec().Rand()), Broadcast: netdev.BroadcastMAC,
		Type:  netdev.ARPHRDEther,
		Flags: netdev.FlagBroadcast | netdev.FlagMulticast | netdev.FlagMaster,
		// The kernel's bond keeps ether_setup's txqueuelen but has no
		// qdisc (IFF_NO_QUEUE): noqueue, qlen 1000.
		TxQueueLen: 1000, ManagesCarrier: true,
		// bond_get_num_tx_queues: the tx_queues module parameter
		// (default 16), for receive queues as well.
		NumTxQueues: DefaultTxQueues, NumRxQueues: DefaultTxQueues,
		Features: netdev.Features{RxCsumTrusted: true, TxCsum: true, GSOMaxSize: 65536, GSOMaxSegs: 65535},
	}, b, 0)
	if err != nil {
		return nil, err
	}
	b.dev = d
	b.mii = t.Net().Exec().NewTimer(b.miimonTick)
	b.ad.init(b)
	// A slave that disappears (its veth peer deleted, its namespace
	// gone) leaves the bond, as bond_slave_netdev_event does on
	// NETDEV_UNREGISTER. netdev has no unsubscribe, so a dead bond's
	// notifier stays and ignores everything.
	t.Subscribe(func(ev netdev.Event, sd *netdev.Device) {
		if b.dead {
			return
		}
		switch {
		case ev == netdev.EventUnregister && b.slaveOf(sd) != nil:
			b.Release(sd)
		case ev == netdev.EventChangeAddr && sd == b.dev:
			b.addrChanged()
		}
	})
	return d, nil
}

// addrChanged is bond_set_mac_address: a MAC set on the bond is no
// longer random and goes to every slave.
func (b *Bond) addrChanged() {
	b.randomAddr = false
	if b.p.FailOverMAC != 0 && b.p.Mode == ModeActiveBackup {
		return
	}
	for _, s := range b.slaves {
		s.dev.SetAddr(b.dev.Addr())
	}
}

// Primary returns the primary slave (nil when none is set or the device
// named is not a slave).
func (b *Bond) Primary() *netdev.Device {
	if s := b.primary(); s != nil {
		return s.dev
	}
	return nil
}

func (b *Bond) primary() *Slave {
	if b.primaryIdx == 0 {
		return nil
	}
	for _, s := range b.slaves {
		if s.dev.Ifindex() == b.primaryIdx {
			return s
		}
	}
	return nil
}

// FromDevice returns the bond behind d, or nil when d is not a bond.
func FromDevice(d *netdev.Device) *Bond {
	if d == nil {
		return nil
	}
	b, _ := d.Driver().(*Bond)
	return b
}

// Device returns the bond device.
func (b *Bond) Device() *netdev.Device { return b.dev }

// Params returns the current options.
func (b *Bond) Params() Params { return b.p }

// Slaves returns the slaves in enslave order. The slice is the bond's:
// do not keep or change it.
func (b *Bond) Slaves() []*Slave { return b.slaves }

// SlaveOf returns the bond's slave record of d, or nil.
func (b *Bond) SlaveOf(d *netdev.Device) *Slave { return b.slaveOf(d) }

func (b *Bond) slaveOf(d *netdev.Device) *Slave {
	for _, s := range b.slaves {
		if s.dev == d {
			return s
		}
	}
	return nil
}

// ActiveSlave returns the active slave of active-backup (nil otherwise or
// when there is none).
func (b *Bond) ActiveSlave() *netdev.Device {
	if b.active == nil {
		return nil
	}
	return b.active.dev
}

// SetNotifyPeers replaces the NETDEV_NOTIFY_PEERS hook, called on the
// executor after a failover num_grat_arp times. By default it raises
// netdev.EventNotifyPeers, on which the namespace's ARP sends gratuitous
// ARPs for the bond's addresses (inetdev_send_gratuitous_arp).
func (b *Bond) SetNotifyPeers(f func(*netdev.Device)) { b.notifyPeers = f }

// Kind implements netdev.Driver.
func (*Bond) Kind() string { return "bond" }

// Open starts link monitoring (bond_open).
func (b *Bond) Open(d *netdev.Device) error {
	for _, s := range b.slaves {
		if b.p.Mode == ModeActiveBackup && s != b.active {
			s.state = StateBackup
		}
	}
	b.startMonitors()
	b.setCarrier()
	return nil
}

func (b *Bond) startMonitors() {
	if b.p.Miimon > 0 {
		b.mii.Reset(b.p.miiInterval())
	}
	b.ad.start()
}

// Stop stops the monitors (bond_close).
func (b *Bond) Stop(d *netdev.Device) {
	b.mii.Stop()
	b.ad.stop()
	b.sendPeerNotif = 0
}

// Uninit releases every slave (bond_uninit).
func (b *Bond) Uninit(d *netdev.Device) {
	for len(b.slaves) > 0 {
		b.Release(b.slaves[len(b.slaves)-1].dev)
	}
	b.mii.Stop()
	b.ad.stop()
	b.dead = true
}

// ChangeMTU sets every slave's MTU first (bond_change_mtu); a slave that
// refuses makes the change fail.
func (b *Bond) ChangeMTU(d *netdev.Device, mtu int) error {
	for i, s := range b.slaves {
		if err := s.dev.SetMTU(mtu); err != nil {
			for _, r := range b.slaves[:i] {
				r.dev.SetMTU(d.MTU())
			}
			return err
		}
	}
	return nil
}

// Enslave adds sd to the bond (bond_enslave, `ip link set SD master
// BOND`). Linux refuses a device that is up (EPERM), the bond itself, a
// device with a master already (EBUSY) and non-Ethernet devices.
func (b *Bond) Enslave(sd *netdev.Device) error {
	switch {
	case sd == b.dev:
		return &netdev.ExtError{Errno: syscall.EPERM, Msg: "Cannot enslave bond to itself."}
	case sd.Master() != nil:
		return &netdev.ExtError{Errno: syscall.EBUSY, Msg: "Device is already enslaved"}
	case sd.Type() != netdev.ARPHRDEther:
		return &netdev.ExtError{Errno: syscall.EINVAL, Msg: "Device type is not Ethernet"}
	case sd.Flags()&netdev.FlagLoopback != 0:
		return &netdev.ExtError{Errno: syscall.EPERM, Msg: "Cannot enslave loopback device"}
	case sd.IsUp():
		return &netdev.ExtError{Errno: syscall.EPERM, Msg: "Device can not be enslaved while up"}
	case len(b.slaves) >= MaxSlaves:
		return &netdev.ExtError{Errno: syscall.ENOSPC, Msg: "Too many slaves"}
	}
	s := &Slave{bond: b, dev: sd, permAddr: sd.Addr(), origMTU: sd.MTU(), txb: skb.NewBatch(64)}
	if err := sd.SetMTU(b.dev.MTU()); err != nil {
		return err
	}
	if len(b.slaves) == 0 && b.randomAddr {
		if err := b.dev.SetAddr(sd.Addr()); err != nil {
			sd.SetMTU(s.origMTU)
			return err
		}
		b.randomAddr = false
	}
	if b.p.FailOverMAC == 0 || b.p.Mode != ModeActiveBackup {
		if err := sd.SetAddr(b.dev.Addr()); err != nil {
			sd.SetMTU(s.origMTU)
			return err
		}
	}
	if err := sd.SetRxHandler(b.handleFrame); err != nil {
		sd.SetAddr(s.permAddr)
		sd.SetMTU(s.origMTU)
		return &netdev.ExtError{Errno: syscall.EBUSY, Msg: "Device is in use"}
	}
	b.slaves = append(b.slaves, s)
	sd.SetMaster(b.dev)
	sd.SetSlaveFlag(true)
	if err := sd.Up(); err != nil {
		b.Release(sd)
		return err
	}
	// Initial link state (bond_enslave): with miimon, the carrier now,
	// updelay applying; without it, up (nothing would ever change it).
	up := b.slaveLinkOK(s)
	switch {
	case b.p.Miimon == 0:
		s.link = LinkUp
	case up && b.p.UpDelay > 0:
		s.link, s.delay = LinkBack, b.p.UpDelay
	case up:
		s.link = LinkUp
	default:
		s.link = LinkDown
	}
	switch b.p.Mode {
	case ModeActiveBackup:
		s.state = StateBackup
		b.selectActive()
	case Mode8023AD:
		s.state = StateBackup
		b.ad.bindSlave(s)
	default:
		s.state = StateActive
	}
	b.updateUsable()
	b.setCarrier()
	return nil
}

// Release removes sd from the bond (__bond_release_one): its MTU and MAC
// are restored, it is closed, and a new active slave is chosen if it was
// the active one. ENOTCONN when sd is not a slave of this bond.
func (b *Bond) Release(sd *netdev.Device) error {
	idx := -1
	for i, s := range b.slaves {
		if s.dev == sd {
			idx = i
		}
	}
	if idx < 0 {
		return &netdev.ExtError{Errno: syscall.EINVAL, Msg: "Device is not our slave"}
	}
	s := b.slaves[idx]
	b.ad.unbindSlave(s)
	b.slaves = append(b.slaves[:idx], b.slaves[idx+1:]...)
	if b.active == s {
		b.active = nil
		b.selectActive()
	}
	b.updateUsable()
	b.setCarrier()
	sd.SetRxHandler(nil)
	sd.SetSlaveFlag(false)
	sd.SetMaster(nil)
	sd.Down()
	sd.SetMTU(s.origMTU)
	if b.p.FailOverMAC == 0 || b.p.Mode != ModeActiveBackup {
		sd.SetAddr(s.permAddr)
	}
	s.txb.Free()
	if len(b.slaves) == 0 && !b.dead {
		// The last slave gone, the bond takes a random address again.
		b.dev.SetAddr(netdev.RandomMAC(b.dev.Table().Net().Exec().Rand()))
		b.randomAddr = true
	}
	return nil
}

// slaveLinkOK is bond_check_dev_link: the slave runs and has carrier.
func (b *Bond) slaveLinkOK(s *Slave) bool { return s.dev.IsRunning() }

// canTx is bond_slave_can_tx.
func (s *Slave) canTx() bool {
	return s.dev.IsUp() && s.link == LinkUp && s.state == StateActive
}

// updateUsable rebuilds the transmit array (bond_update_slave_arr).
func (b *Bond) updateUsable() {
	b.usable = b.usable[:0]
	agg := b.ad.activeAgg()
	for _, s := range b.slaves {
		if b.p.Mode == Mode8023AD && (agg == nil || s.port.agg != agg) {
			continue
		}
		if !s.canTx() {
			continue
		}
		b.usable = append(b.usable, s)
	}
}

// setCarrier is bond_set_carrier: on when a slave's link is up (in
// 802.3ad, when the active aggregator has min_links ports).
func (b *Bond) setCarrier() {
	if b.dead {
		return
	}
	on := false
	if b.p.Mode == Mode8023AD {
		on = b.ad.carrier()
	} else {
		for _, s := range b.slaves {
			if s.link == LinkUp {
				on = true
				break
			}
		}
	}
	// netif_carrier_on/off: the state and the RTM_NEWLINK come from
	// linkwatch (urgent for a bond, a LAG master, so the next run).
	b.dev.SetCarrierLinkwatch(on)
}

// errNoSlaves and friends are option errors as bond_opt_check_deps
// returns them, with the extended ACK message rtnetlink reports.
var (
	errHasSlaves = &netdev.ExtError{Errno: syscall.ENOTEMPTY, Msg: "unable to set option because the bond device has slaves"}
	errIsUp      = &netdev.ExtError{Errno: syscall.EBUSY, Msg: "unable to set option because the bond is up"}
	errMode      = &netdev.ExtError{Errno: syscall.EACCES, Msg: "option not supported in mode"}
	errInval     = &netdev.ExtError{Errno: syscall.EINVAL, Msg: "invalid option value"}
)

// IsOptionError reports whether err is one of the option errors.
func IsOptionError(err error) bool {
	var e *netdev.ExtError
	return errors.As(err, &e)
}

func (b *Bond) String() string { return fmt.Sprintf("bond %s mode %s", b.dev.Name(), b.p.Mode) }
