package bridge

import (
	"syscall"
	"time"

	"github.com/usnet/usnet/executor"
	"github.com/usnet/usnet/netdev"
)

// Port states (BR_STATE_*), numbered as the kernel reports them.
const (
	StateDisabled   uint8 = 0
	StateListening  uint8 = 1
	StateLearning   uint8 = 2
	StateForwarding uint8 = 3
	StateBlocking   uint8 = 4
)

// StateName returns the name `bridge link` prints for a port state.
func StateName(s uint8) string {
	switch s {
	case StateDisabled:
		return "disabled"
	case StateListening:
		return "listening"
	case StateLearning:
		return "learning"
	case StateForwarding:
		return "forwarding"
	case StateBlocking:
		return "blocking"
	}
	return "unknown"
}

// PortFlags are a port's switches (BR_* port flags).
type PortFlags uint32

const (
	FlagHairpin        PortFlags = 1 << iota // reflect frames to the port they came from
	FlagBPDUGuard                            // disable the port when a BPDU arrives
	FlagRootBlock                            // never become root port
	FlagFastLeave                            // multicast fast leave (reported only)
	FlagLearning                             // learn source addresses
	FlagFlood                                // flood unknown unicast
	FlagMcastFlood                           // flood multicast
	FlagBcastFlood                           // flood broadcast
	FlagProxyARP                             // reported only
	FlagIsolated                             // isolated ports talk only to non-isolated ones
	FlagNeighSuppress                        // reported only
	FlagMcastToUnicast                       // reported only
)

// defaultPortFlags are those of a new port (new_nbp).
const defaultPortFlags = FlagLearning | FlagFlood | FlagMcastFlood | FlagBcastFlood

// Port is one bridge port (struct net_bridge_port).
type Port struct {
	br       *Bridge
	dev      *netdev.Device
	no       uint16
	priority uint8
	pathCost uint32
	costSet  bool
	flags    PortFlags
	state    uint8
	vlans    vlanSet

	// 802.1D port variables.
	designatedRoot   ID
	designatedBridge ID
	designatedCost   uint32
	designatedPort   uint16
	tcAck            bool
	configPending    bool
	// msgAge is the message age of the information held, as of
	// msgAgeAt; the message age timer fires when it reaches max age.
	msgAge                              time.Duration
	msgAgeAt                            time.Duration
	msgAgeTimer, fwdDelayTimer, holdTmr *executor.Timer

	// Counters per port.
	BPDUsIn, BPDUsOut uint64
}

// Device returns the port's device.
func (p *Port) Device() *netdev.Device { return p.dev }

// Bridge returns the bridge the port belongs to.
func (p *Port) Bridge() *Bridge { return p.br }

// No returns the port number; ID the 802.1D port identifier.
func (p *Port) No() uint16 { return p.no }
func (p *Port) ID() uint16 { return uint16(p.priority)<<10 | p.no }

// State returns the port state.
func (p *Port) State() uint8 { return p.state }

// Priority returns the port priority (0..63); PathCost the path cost.
func (p *Port) Priority() uint8      { return p.priority }
func (p *Port) PathCost() uint32     { return p.pathCost }
func (p *Port) Flags() PortFlags     { return p.flags }
func (p *Port) Has(f PortFlags) bool { return p.flags&f != 0 }

// DesignatedRoot, DesignatedBridge, DesignatedCost and DesignatedPort are
// the 802.1D port variables (IFLA_BRPORT_ROOT_ID …).
func (p *Port) DesignatedRoot() ID      { return p.designatedRoot }
func (p *Port) DesignatedBridge() ID    { return p.designatedBridge }
func (p *Port) DesignatedCost() uint32  { return p.designatedCost }
func (p *Port) DesignatedPort() uint16  { return p.designatedPort }
func (p *Port) TopologyChangeAck() bool { return p.tcAck }
func (p *Port) ConfigPending() bool     { return p.configPending }

// Timers report the remaining time of the port's STP timers (0: idle).
func (p *Port) MessageAgeTimer() time.Duration   { return p.br.remaining(p.msgAgeTimer) }
func (p *Port) ForwardDelayTimer() time.Duration { return p.br.remaining(p.fwdDelayTimer) }
func (p *Port) HoldTimer() time.Duration         { return p.br.remaining(p.holdTmr) }

func (br *Bridge) remaining(t *executor.Timer) time.Duration {
	if t == nil || !t.Pending() {
		return 0
	}
	return max(0, t.When()-br.exec.Now())
}

// SetFlags changes the flags in mask to those of f.
func (p *Port) SetFlags(f, mask PortFlags) {
	p.flags = p.flags&^mask | f&mask
}

// SetPriority sets the port priority (0..63, ERANGE beyond).
func (p *Port) SetPriority(prio uint8) error {
	if prio >= 1<<6 {
		return syscall.ERANGE
	}
	p.priority = prio
	p.br.portIDChanged(p)
	return nil
}

// SetPathCost sets the path cost (1..65535, ERANGE beyond, as Linux).
func (p *Port) SetPathCost(c uint32) error {
	if c == 0 || c > 65535 {
		return syscall.ERANGE
	}
	p.pathCost, p.costSet = c, true
	p.br.stpRecompute()
	return nil
}

// SetState forces a port state (IFLA_BRPORT_STATE); Linux allows it only
// with STP off, and only for states other than what STP owns.
func (p *Port) SetState(s uint8) error {
	if s > StateBlocking {
		return syscall.EINVAL
	}
	if p.br.stp {
		return syscall.EBUSY
	}
	if !p.dev.IsUp() || (!p.dev.IsRunning() && s != StateDisabled) {
		return syscall.ENETDOWN
	}
	p.br.setState(p, s)
	p.br.updateCarrier() // br_set_port_state ends in a state selection
	return nil
}

// defaultCost is br_port_cost from the link speed: veth reports 10 Gb/s
// (cost 2); devices with no speed get 100, as Linux's fallback.
func defaultCost(d *netdev.Device) uint32 {
	if d.Kind() == "veth" {
		return 2
	}
	return 100
}

// AddPort enslaves d (br_add_if): EBUSY if it is already enslaved or has
// an rx handler, ELOOP for the bridge itself or another bridge's ports
// loop, EINVAL for non-Ethernet devices.
func (br *Bridge) AddPort(d *netdev.Device) error {
	if d == br.dev || Of(d) != nil {
		return syscall.ELOOP
	}
	if d.Type() != netdev.ARPHRDEther || d.Flags()&netdev.FlagLoopback != 0 {
		return syscall.EINVAL
	}
	if d.Master() != nil {
		return syscall.EBUSY
	}
	if d.Table() != br.dev.Table() {
		return syscall.EINVAL
	}
	no := br.allocPortNo()
	if no == 0 {
		return syscall.EXFULL
	}
	ex := br.exec
	p := &Port{br: br, dev: d, no: no, priority: DefaultPortPriority, flags: defaultPortFlags,
		pathCost: defaultCost(d)}
	if err := d.SetRxHandler(p.handle); err != nil {
		br.freePortNo(no)
		return err
	}
	p.msgAgeTimer = ex.NewTimer(func() { br.messageAgeExpired(p) })
	p.fwdDelayTimer = ex.NewTimer(func() { br.forwardDelayExpired(p) })
	p.holdTmr = ex.NewTimer(func() { br.holdExpired(p) })
	br.ports = append(br.ports, p)
	br.initPort(p)
	p.state = StateDisabled
	p.vlans.add(br.defaultPVID, true, true)
	br.fdb.insertLocal(br, p, d.Addr(), 0)
	br.fdb.insertLocal(br, p, d.Addr(), br.defaultPVID)
	d.SetMaster(br.dev)
	// br_manage_promisc, after the upper link: the port's RTM_NEWLINK for
	// its promiscuity names the bridge.
	d.SetPromisc(1)
	br.featuresRecompute()
	changed := br.recalcBridgeID()
	if br.running && d.OperUp() {
		br.enablePort(p)
		br.portStateSelection()
	}
	if changed {
		br.announceAddr()
	}
	br.mtuAutoAdjust()
	return nil
}

// DelPort releases d (br_del_if); ENODEV if it is not a port.
func (br *Bridge) DelPort(d *netdev.Device) error {
	p := br.Port(d)
	if p == nil {
		return syscall.ENODEV
	}
	br.removePort(p)
	return nil
}

// removePort releases a port (br_del_if): del_nbp, then the bridge's
// MTU, ID and address, and features follow the ports left.
func (br *Bridge) removePort(p *Port) {
	br.delNbp(p)
	br.mtuAutoAdjust()
	if br.recalcBridgeID() {
		br.announceAddr()
	}
	br.featuresRecompute()
}

// delNbp is del_nbp: what releasing a port does to the port, and to the
// bridge's port states and carrier. Deleting the bridge does only this
// for each port (br_dev_delete).
func (br *Bridge) delNbp(p *Port) {
	p.dev.SetPromisc(-1) // nbp_delete_promisc, first: still a port
	if p.state != StateDisabled {
		br.disablePort(p)
	}
	p.msgAgeTimer.Stop()
	p.fwdDelayTimer.Stop()
	p.holdTmr.Stop()
	br.fdb.flush(br, p, true)
	for i, q := range br.ports {
		if q == p {
			br.ports = append(br.ports[:i], br.ports[i+1:]...)
			break
		}
	}
	br.freePortNo(p.no)
	br.updateCarrier() // del_nbp's br_stp_disable_port selects states
	p.dev.SetRxHandler(nil)
	if p.dev.Master() == br.dev {
		p.dev.SetMaster(nil)
	}
}

// featuresRecompute stands for br_features_recompute and
// netdev_update_features: the bridge's offloads are its ports' in common,
// and the full set without ports, so they change (NETDEV_FEAT_CHANGE, an
// RTM_NEWLINK) when the first port comes and when the last one goes.
// usnet does not intersect the ports' features: a further port with
// fewer offloads than the others changes nothing here.
func (br *Bridge) featuresRecompute() {
	if len(br.ports) <= 1 {
		br.dev.FeaturesChange()
	}
}

func (br *Bridge) allocPortNo() uint16 {
	for i := 1; i < MaxPorts; i++ {
		if br.used[i/64]&(1<<(i%64)) == 0 {
			br.used[i/64] |= 1 << (i % 64)
			return uint16(i)
		}
	}
	return 0
}

func (br *Bridge) freePortNo(n uint16) { br.used[n/64] &^= 1 << (n % 64) }

// portAddrChanged moves the port's local FDB entries and re-derives the
// bridge ID (br_fdb_changeaddr, br_stp_recalculate_bridge_id).
func (br *Bridge) portAddrChanged(p *Port) {
	br.fdb.changeLocalPort(br, p, p.dev.Addr())
	if br.recalcBridgeID() {
		br.announceAddr()
	}
}

// recalcBridgeID gives the bridge the lowest port MAC unless its address
// was set by the user (br_stp_recalculate_bridge_id); it reports whether
// the address changed, for the caller to announce.
func (br *Bridge) recalcBridgeID() bool {
	changed := false
	addr := br.dev.Addr()
	if !br.addrSet {
		// The lowest port MAC; with no port left, all zeroes, as Linux
		// leaves a bridge whose last port went.
		var low [6]byte
		for i, p := range br.ports {
			if a := p.dev.Addr(); i == 0 || macLess(a, low) {
				low = a
			}
		}
		addr = low
		changed = br.setAddr(addr)
	}
	br.changeBridgeID(MakeID(br.priority, addr))
	return changed
}

func macLess(a, b [6]byte) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// Flush deletes the port's learned entries (IFLA_BRPORT_FLUSH).
func (p *Port) Flush() { p.br.fdb.flush(p.br, p, false) }
