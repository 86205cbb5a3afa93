package bridge

import (
	"fmt"
	"syscall"
	"time"

	"github.com/usnet/usnet/executor"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
)

// Defaults of a new bridge, as br_dev_setup and br_stp sets them.
const (
	DefaultAgeingTime   = 300 * time.Second
	DefaultForwardDelay = 15 * time.Second
	DefaultHelloTime    = 2 * time.Second
	DefaultMaxAge       = 20 * time.Second
	DefaultPriority     = 0x8000
	DefaultPortPriority = 32
	// holdTime spaces config BPDUs on one port (BR_HOLD_TIME).
	holdTime = time.Second
	// MaxPorts is BR_MAX_PORTS: port numbers are 10 bits.
	MaxPorts = 1 << 10
	// DefaultMaxLearned bounds learned FDB entries. Linux's fdb_max_learned
	// defaults to 0 (unlimited); a user-space stack needs a bound, and
	// drops beyond it are counted in Counters.LearnDrops.
	DefaultMaxLearned = 1 << 16
)

// Protocol constants.
var (
	// GroupAddr is the STP group address, 01:80:c2:00:00:00.
	GroupAddr = [6]byte{0x01, 0x80, 0xc2, 0x00, 0x00, 0x00}
)

// Counters are the bridge's own event counters (what Linux spreads over
// device statistics and tracepoints).
type Counters struct {
	Forwarded    uint64 // frames sent to one known port
	Flooded      uint64 // frames flooded (unknown unicast, broadcast, multicast)
	Delivered    uint64 // frames delivered to the bridge's own stack
	LearnDrops   uint64 // learned entries refused: the FDB is full
	StateDrops   uint64 // frames dropped by port state
	VlanDrops    uint64 // frames dropped by VLAN ingress or egress filtering
	LocalDrops   uint64 // link-local frames (01:80:c2:00:00:0X) not forwarded
	InvalidDrops uint64 // runts, invalid source addresses
	BPDUsIn      uint64
	BPDUsOut     uint64
	TCNsIn       uint64
	TCNsOut      uint64
	BadBPDUs     uint64
}

// Bridge is the driver state of one bridge device.
type Bridge struct {
	dev *netdev.Device
	// running is netif_running: set when Open starts, so the ports the
	// open enables see a running bridge, and cleared when Stop ends.
	running bool
	exec    executor.Executor
	ports   []*Port // in the order they were added
	used    [MaxPorts / 64]uint64

	fdb        fdb
	ageingTime time.Duration
	gcTimer    *executor.Timer

	stp            bool
	priority       uint16
	bridgeID       ID
	designatedRoot ID
	rootPathCost   uint32
	rootPort       *Port
	// Current timer values (learned from the root) and the configured
	// ones this bridge uses when it is the root.
	maxAge, helloTime, forwardDelay                   time.Duration
	bridgeMaxAge, bridgeHelloTime, bridgeForwardDelay time.Duration
	topologyChange, topologyChangeDetected            bool
	helloTimer, tcnTimer, tcTimer                     *executor.Timer
	tcCount                                           uint64
	tcLast                                            time.Duration

	vlanFiltering bool
	vlanProto     uint16
	defaultPVID   uint16
	vlans         vlanSet // the bridge device's own VLANs ("self")

	groupAddr    [6]byte
	groupFwdMask uint16

	selfAddr             [6]byte
	addrSet, settingAddr bool
	mtuSet, settingMTU   bool
	dead                 bool

	up, tx    *skb.Batch
	notifiers map[any]func(e FDBEntry, deleted bool)

	// Stats are the bridge's counters, read on its executor.
	Stats Counters
}

// New registers a bridge device, as `ip link add NAME type bridge`: a
// random MAC until the first port gives it the lowest port MAC, STP off,
// no carrier until a port forwards.
func New(t *netdev.Table, name string) (*Bridge, error) {
	ex := t.Net().Exec()
	br := &Bridge{
		exec:               ex,
		ageingTime:         DefaultAgeingTime,
		priority:           DefaultPriority,
		maxAge:             DefaultMaxAge,
		helloTime:          DefaultHelloTime,
		forwardDelay:       DefaultForwardDelay,
		bridgeMaxAge:       DefaultMaxAge,
		bridgeHelloTime:    DefaultHelloTime,
		bridgeForwardDelay: DefaultForwardDelay,
		vlanProto:          0x8100,
		defaultPVID:        1,
		groupAddr:          GroupAddr,
		up:                 skb.NewBatch(1),
		tx:                 skb.NewBatch(1),
	}
	br.fdb.init(DefaultMaxLearned)
	d, err := t.Register(netdev.Config{
		Name: name, MTU: 1500, MinMTU: 68, MaxMTU: 65535,
		Addr: netdev.RandomMAC(ex.Rand()), Broadcast: netdev.BroadcastMAC,
		Type: netdev.ARPHRDEther, Flags: netdev.FlagBroadcast | netdev.FlagMulticast,
		TxQueueLen: 1000, ManagesCarrier: true, CarrierOn: true,
		Features: netdev.Features{TxCsum: true, RxCsumTrusted: true, GSOMaxSize: 65536, GSOMaxSegs: 65535},
	}, br, 0)
	if err != nil {
		return nil, err
	}
	br.dev = d
	br.bridgeID = MakeID(br.priority, d.Addr())
	br.designatedRoot = br.bridgeID
	br.gcTimer = ex.NewTimer(br.gc)
	br.helloTimer = ex.NewTimer(br.helloExpired)
	br.tcnTimer = ex.NewTimer(br.tcnExpired)
	br.tcTimer = ex.NewTimer(br.tcExpired)
	br.vlans.add(br.defaultPVID, true, true)
	br.selfAddr = d.Addr()
	br.fdb.insertLocal(br, nil, d.Addr(), 0)
	br.fdb.insertLocal(br, nil, d.Addr(), br.defaultPVID)
	t.Subscribe(br.event)
	return br, nil
}

// Of returns the bridge whose device is d, or nil.
func Of(d *netdev.Device) *Bridge {
	if d == nil {
		return nil
	}
	br, _ := d.Driver().(*Bridge)
	return br
}

// Device returns the bridge device.
func (br *Bridge) Device() *netdev.Device { return br.dev }

// Ports returns the ports in the order they were added.
func (br *Bridge) Ports() []*Port { return br.ports }

// Port returns the port whose device is d, or nil.
func (br *Bridge) Port(d *netdev.Device) *Port {
	for _, p := range br.ports {
		if p.dev == d {
			return p
		}
	}
	return nil
}

// PortOf returns the bridge port of device d, or nil when d is no port.
func PortOf(d *netdev.Device) *Port {
	br := Of(d.Master())
	if br == nil {
		return nil
	}
	return br.Port(d)
}

// SubscribeFDB installs, under key, a function told about every FDB entry
// added, changed (deleted false) or removed: the source of RTM_NEWNEIGH
// and RTM_DELNEIGH with AF_BRIDGE. A second call with the same key
// replaces the first; f nil removes it.
func (br *Bridge) SubscribeFDB(key any, f func(e FDBEntry, deleted bool)) {
	if f == nil {
		delete(br.notifiers, key)
		return
	}
	if br.notifiers == nil {
		br.notifiers = map[any]func(FDBEntry, bool){}
	}
	br.notifiers[key] = f
}

// Kind is "bridge".
func (*Bridge) Kind() string { return "bridge" }

// Open starts the bridge (br_dev_open → br_stp_enable_bridge): the
// carrier its ports give it is raised inside the request, so the
// request's RTM_NEWLINK shows LOWER_UP and linkwatch the new state.
func (br *Bridge) Open(d *netdev.Device) error {
	br.running = true
	br.start()
	return nil
}

// start enables the ports that are up with an operational state of UP or
// UNKNOWN and starts STP (br_stp_enable_bridge). The ports' states, and
// with them the bridge's carrier, are selected only when a port was
// enabled (br_stp_enable_port does it): a bridge without live ports
// keeps the carrier it had — on, for one that never had a port.
func (br *Bridge) start() {
	enabled := 0
	for _, p := range br.ports {
		if p.dev.OperUp() {
			br.enablePort(p)
			enabled++
		}
	}
	if br.stp {
		br.designatedRoot, br.rootPathCost, br.rootPort = br.bridgeID, 0, nil
		br.becomeRootTimers()
		br.configurationUpdate()
	}
	if enabled > 0 {
		br.portStateSelection()
	}
	if br.stp {
		br.configBPDUGeneration()
		br.helloTimer.Reset(br.helloTime)
	}
	br.gcTimer.Reset(br.gcInterval())
}

// Stop disables every port and stops the timers (br_stp_disable_bridge);
// the last live port's going takes the carrier (br_port_state_selection),
// a bridge without live ports keeps its own.
func (br *Bridge) Stop(d *netdev.Device) {
	for _, p := range br.ports {
		if p.state != StateDisabled {
			br.disablePort(p)
		}
	}
	br.topologyChange, br.topologyChangeDetected = false, false
	br.helloTimer.Stop()
	br.tcnTimer.Stop()
	br.tcTimer.Stop()
	br.gcTimer.Stop()
	br.running = false
}

// Uninit releases every port (br_dev_delete).
func (br *Bridge) Uninit(d *netdev.Device) {
	for len(br.ports) > 0 {
		br.delNbp(br.ports[len(br.ports)-1])
	}
	br.dead = true
	br.gcTimer.Stop()
	br.helloTimer.Stop()
	br.tcnTimer.Stop()
	br.tcTimer.Stop()
	br.fdb.flush(br, nil, true)
}

// ChangeMTU records that the user chose the MTU, which ends the automatic
// adjustment to the smallest port MTU (BROPT_MTU_SET_BY_USER).
func (br *Bridge) ChangeMTU(d *netdev.Device, mtu int) error {
	if !br.settingMTU {
		br.mtuSet = true
	}
	return nil
}

// event follows the devices the bridge depends on: its own address, its
// ports' state, carrier, address, MTU and removal.
func (br *Bridge) event(ev netdev.Event, d *netdev.Device) {
	if br.dead {
		return
	}
	if d == br.dev {
		if ev == netdev.EventChangeAddr {
			br.fdb.changeLocal(br, nil, br.selfAddr, d.Addr()) // nothing if recalcBridgeID moved it
			br.selfAddr = d.Addr()
			if !br.settingAddr {
				br.addrSet = true
				br.recalcBridgeID()
			}
		}
		return
	}
	p := br.Port(d)
	if p == nil {
		return
	}
	switch ev {
	case netdev.EventUp, netdev.EventDown, netdev.EventChange:
		br.carrierCheck(p)
	case netdev.EventChangeAddr:
		br.portAddrChanged(p)
	case netdev.EventChangeMTU:
		br.mtuAutoAdjust()
	case netdev.EventUnregister:
		br.removePort(p)
	}
}

// carrierCheck enables or disables a port as its device comes and goes
// (br_port_carrier_check): by its operational state, not its carrier, so
// a port is enabled by the linkwatch run that announces it UP (its
// NETDEV_CHANGE), after the request that raised its carrier.
func (br *Bridge) carrierCheck(p *Port) {
	live := br.running && p.dev.OperUp()
	switch {
	case live && p.state == StateDisabled:
		br.enablePort(p)
		br.portStateSelection()
	case !live && p.state != StateDisabled:
		br.disablePort(p)
	}
}

// mtuAutoAdjust sets the bridge MTU to the smallest port MTU unless the
// user chose one (br_mtu_auto_adjust).
func (br *Bridge) mtuAutoAdjust() {
	if br.mtuSet || len(br.ports) == 0 {
		return
	}
	m := 65535
	for _, p := range br.ports {
		m = min(m, p.dev.MTU())
	}
	br.settingMTU = true
	_ = br.dev.SetMTU(m)
	br.settingMTU = false
}

// setAddr changes the bridge MAC on the bridge's own initiative without
// announcing it (br_stp_change_bridge_id's eth_hw_addr_set); it reports
// whether it changed. The caller announces it with announceAddr where
// Linux calls the NETDEV_CHANGEADDR notifiers: after the port states are
// selected, so the RTM_NEWLINK shows the carrier they gave.
func (br *Bridge) setAddr(a [6]byte) bool {
	if a == br.dev.Addr() {
		return false
	}
	br.dev.HWAddrSet(a)
	br.fdb.changeLocal(br, nil, br.selfAddr, a)
	br.selfAddr = a
	return true
}

// announceAddr raises NETDEV_CHANGEADDR for an address setAddr changed;
// the bridge's own handler then knows the user did not set it.
func (br *Bridge) announceAddr() {
	br.settingAddr = true
	br.dev.NotifyChangeAddr()
	br.settingAddr = false
}

// AgeingTime returns the FDB ageing time.
func (br *Bridge) AgeingTime() time.Duration { return br.ageingTime }

// SetAgeingTime sets ageing_time (0 disables ageing: entries stay).
func (br *Bridge) SetAgeingTime(d time.Duration) error {
	if d < 0 {
		return syscall.EINVAL
	}
	br.ageingTime = d
	if br.running {
		br.gcTimer.Reset(br.gcInterval())
	}
	return nil
}

// SetMaxLearned bounds the learned entries (fdb_max_learned; 0 restores
// the default bound).
func (br *Bridge) SetMaxLearned(n int) {
	if n <= 0 {
		n = DefaultMaxLearned
	}
	br.fdb.max = n
}

// MaxLearned returns the bound on learned entries.
func (br *Bridge) MaxLearned() int { return br.fdb.max }

// Learned returns the number of learned (dynamic) entries.
func (br *Bridge) Learned() int { return br.fdb.learned }

// GroupFwdMask returns group_fwd_mask; SetGroupFwdMask sets it. Bits 0, 1
// and 2 (STP, pause, 802.1X) cannot be forwarded, as in Linux.
func (br *Bridge) GroupFwdMask() uint16 { return br.groupFwdMask }
func (br *Bridge) SetGroupFwdMask(m uint16) error {
	if m&0x7 != 0 {
		return syscall.EINVAL
	}
	br.groupFwdMask = m
	return nil
}

// GroupAddr returns the STP group address.
func (br *Bridge) GroupAddr() [6]byte { return br.groupAddr }

// SetGroupAddr sets the STP group address; it must be 01:80:c2:00:00:0X.
func (br *Bridge) SetGroupAddr(a [6]byte) error {
	if a[0] != 0x01 || a[1] != 0x80 || a[2] != 0xc2 || a[3] != 0 || a[4] != 0 || a[5]&0xf0 != 0 {
		return syscall.EINVAL
	}
	if a[5] == 1 || a[5] == 2 || a[5] == 3 {
		return syscall.EINVAL
	}
	br.groupAddr = a
	return nil
}

func (br *Bridge) String() string { return fmt.Sprintf("bridge %s", br.dev.Name()) }
