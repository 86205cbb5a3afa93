package bridge

import (
	"fmt"
	"syscall"
	"time"
)

// ID is an 802.1D bridge identifier: the priority in the top 16 bits and
// the MAC address below, so that comparing IDs compares bridges.
type ID uint64

// MakeID builds a bridge identifier.
func MakeID(prio uint16, mac [6]byte) ID {
	id := ID(prio) << 48
	for i, b := range mac {
		id |= ID(b) << (8 * (5 - i))
	}
	return id
}

// Priority returns the priority part.
func (id ID) Priority() uint16 { return uint16(id >> 48) }

// Addr returns the MAC address part.
func (id ID) Addr() [6]byte {
	var a [6]byte
	for i := range a {
		a[i] = byte(id >> (8 * (5 - i)))
	}
	return a
}

// Bytes returns the 8-byte wire form (struct ifla_bridge_id, BPDU fields).
func (id ID) Bytes() [8]byte {
	var b [8]byte
	for i := range b {
		b[i] = byte(id >> (8 * (7 - i)))
	}
	return b
}

// String formats the ID as Linux prints it: "8000.aa:bb:cc:dd:ee:ff".
func (id ID) String() string {
	a := id.Addr()
	return fmt.Sprintf("%04x.%02x:%02x:%02x:%02x:%02x:%02x", id.Priority(), a[0], a[1], a[2], a[3], a[4], a[5])
}

// STP reports whether spanning tree runs (stp_state 1).
func (br *Bridge) STP() bool { return br.stp }

// SetSTP turns 802.1D spanning tree on or off (br_stp_set_enabled). Off,
// every live port forwards at once; on, they go through listening and
// learning.
func (br *Bridge) SetSTP(on bool) {
	if on == br.stp {
		return
	}
	br.stp = on
	if !br.running {
		return
	}
	if on {
		for _, p := range br.ports {
			if p.state != StateDisabled {
				br.initPort(p)
				p.state = StateBlocking
			}
		}
		br.designatedRoot, br.rootPathCost, br.rootPort = br.bridgeID, 0, nil
		br.becomeRootTimers()
		br.configurationUpdate()
		br.portStateSelection()
		br.configBPDUGeneration()
		br.helloTimer.Reset(br.helloTime)
		return
	}
	br.helloTimer.Stop()
	br.tcnTimer.Stop()
	br.tcTimer.Stop()
	br.topologyChange, br.topologyChangeDetected = false, false
	for _, p := range br.ports {
		p.msgAgeTimer.Stop()
		p.fwdDelayTimer.Stop()
		p.holdTmr.Stop()
		if p.state != StateDisabled {
			br.initPort(p)
		}
	}
	br.designatedRoot, br.rootPathCost, br.rootPort = br.bridgeID, 0, nil
	br.portStateSelection()
}

// Priority returns the bridge priority.
func (br *Bridge) Priority() uint16 { return br.priority }

// SetPriority sets the bridge priority (br_stp_set_bridge_priority).
func (br *Bridge) SetPriority(prio uint16) {
	br.priority = prio
	br.changeBridgeID(MakeID(prio, br.dev.Addr()))
}

// Timer settings (the bridge_* values this bridge announces when root).
func (br *Bridge) ForwardDelay() time.Duration { return br.bridgeForwardDelay }
func (br *Bridge) HelloTime() time.Duration    { return br.bridgeHelloTime }
func (br *Bridge) MaxAge() time.Duration       { return br.bridgeMaxAge }

// SetForwardDelay sets forward_delay: 2..30 s with STP on, as Linux.
func (br *Bridge) SetForwardDelay(d time.Duration) error {
	if br.stp && (d < 2*time.Second || d > 30*time.Second) {
		return syscall.ERANGE
	}
	br.bridgeForwardDelay = d
	if br.isRoot() {
		br.forwardDelay = d
	}
	return nil
}

// SetHelloTime sets hello_time: 1..10 s.
func (br *Bridge) SetHelloTime(d time.Duration) error {
	if d < time.Second || d > 10*time.Second {
		return syscall.ERANGE
	}
	br.bridgeHelloTime = d
	if br.isRoot() {
		br.helloTime = d
	}
	return nil
}

// SetMaxAge sets max_age: 6..40 s.
func (br *Bridge) SetMaxAge(d time.Duration) error {
	if d < 6*time.Second || d > 40*time.Second {
		return syscall.ERANGE
	}
	br.bridgeMaxAge = d
	if br.isRoot() {
		br.maxAge = d
	}
	return nil
}

// Status of the spanning tree, as IFLA_BR_* reports it.
func (br *Bridge) BridgeID() ID                 { return br.bridgeID }
func (br *Bridge) RootID() ID                   { return br.designatedRoot }
func (br *Bridge) RootPathCost() uint32         { return br.rootPathCost }
func (br *Bridge) TopologyChange() bool         { return br.topologyChange }
func (br *Bridge) TopologyChangeDetected() bool { return br.topologyChangeDetected }
func (br *Bridge) HelloTimer() time.Duration    { return br.remaining(br.helloTimer) }
func (br *Bridge) TCNTimer() time.Duration      { return br.remaining(br.tcnTimer) }
func (br *Bridge) TopologyChangeTimer() time.Duration {
	return br.remaining(br.tcTimer)
}
func (br *Bridge) GCTimer() time.Duration { return br.remaining(br.gcTimer) }

// RootPort returns the port number of the root port (0: this bridge is
// the root).
func (br *Bridge) RootPort() uint16 {
	if br.rootPort == nil {
		return 0
	}
	return br.rootPort.no
}

func (br *Bridge) isRoot() bool { return br.designatedRoot == br.bridgeID }

// isDesignated reports whether p is the designated port of its LAN.
func (br *Bridge) isDesignated(p *Port) bool {
	return p.designatedBridge == br.bridgeID && p.designatedPort == p.ID()
}

// initPort resets a port's 802.1D variables (br_init_port): it claims to
// be designated for its LAN.
func (br *Bridge) initPort(p *Port) {
	br.becomeDesignated(p)
	p.tcAck, p.configPending = false, false
	p.msgAgeTimer.Stop()
	p.fwdDelayTimer.Stop()
	p.holdTmr.Stop()
}

func (br *Bridge) becomeDesignated(p *Port) {
	p.designatedRoot = br.designatedRoot
	p.designatedCost = br.rootPathCost
	p.designatedBridge = br.bridgeID
	p.designatedPort = p.ID()
}

// setState changes a port's state; leaving forwarding flushes nothing by
// itself (802.1D relies on the topology change to age entries out).
func (br *Bridge) setState(p *Port, s uint8) {
	if p.state == s {
		return
	}
	p.state = s
}

// updateCarrier gives the bridge carrier while any port forwards
// (br_port_state_selection's liveports), whether the bridge is up or not,
// through linkwatch. It runs where Linux sets the carrier: at the end of
// a state selection (so a selection that leaves it as it was, even if a
// port passed through another state, queues nothing) and when a port's
// forward delay ends in forwarding.
func (br *Bridge) updateCarrier() {
	live := false
	for _, p := range br.ports {
		if p.state == StateForwarding {
			live = true
			break
		}
	}
	br.dev.SetCarrierLinkwatch(live)
}

// enablePort starts a port that has come up (br_stp_enable_port).
func (br *Bridge) enablePort(p *Port) {
	br.initPort(p)
	p.state = StateBlocking
}

// disablePort stops a port (br_stp_disable_port): it gives up its role,
// its learned entries go, and the tree is recomputed.
func (br *Bridge) disablePort(p *Port) {
	wasRoot := br.isRoot()
	br.becomeDesignated(p)
	br.setState(p, StateDisabled)
	p.tcAck, p.configPending = false, false
	p.msgAgeTimer.Stop()
	p.fwdDelayTimer.Stop()
	p.holdTmr.Stop()
	br.fdb.flush(br, p, false)
	br.configurationUpdate()
	br.portStateSelection()
	if br.stp && br.isRoot() && !wasRoot {
		br.becomeRootBridge()
	}
}

// changeBridgeID installs a new bridge identifier: a new MAC replaces the
// old one wherever the ports recorded it (br_stp_change_bridge_id); a new
// priority reaches only the live ports this bridge is designated for
// (br_stp_set_bridge_priority). The election then runs again, as in
// Linux, whether STP is on or not.
func (br *Bridge) changeBridgeID(id ID) {
	old := br.bridgeID
	if id == old {
		return
	}
	wasRoot := br.isRoot()
	if id.Addr() != old.Addr() {
		oa, na := old.Addr(), id.Addr()
		for _, p := range br.ports {
			if p.designatedBridge.Addr() == oa {
				p.designatedBridge = MakeID(p.designatedBridge.Priority(), na)
			}
			if p.designatedRoot.Addr() == oa {
				p.designatedRoot = MakeID(p.designatedRoot.Priority(), na)
			}
		}
		if br.designatedRoot.Addr() == oa {
			br.designatedRoot = MakeID(br.designatedRoot.Priority(), na)
		}
	}
	if id.Priority() != old.Priority() {
		for _, p := range br.ports {
			if p.state != StateDisabled && br.isDesignated(p) {
				p.designatedBridge = MakeID(id.Priority(), p.designatedBridge.Addr())
			}
		}
	}
	br.bridgeID = id
	br.configurationUpdate()
	br.portStateSelection()
	if br.stp && br.isRoot() && !wasRoot {
		br.becomeRootBridge()
	}
}

// portIDChanged follows a port priority change (br_stp_set_port_priority).
func (br *Bridge) portIDChanged(p *Port) {
	if br.isDesignated(p) {
		p.designatedPort = p.ID()
	}
	br.stpRecompute()
}

// stpRecompute re-runs the election after a cost or priority change.
func (br *Bridge) stpRecompute() {
	if !br.stp || !br.running {
		return
	}
	br.configurationUpdate()
	br.portStateSelection()
}

// becomeRootTimers adopts this bridge's own timer values.
func (br *Bridge) becomeRootTimers() {
	br.maxAge = br.bridgeMaxAge
	br.helloTime = br.bridgeHelloTime
	br.forwardDelay = br.bridgeForwardDelay
}

// becomeRootBridge is what a bridge does on finding itself root
// (br_become_root_bridge).
func (br *Bridge) becomeRootBridge() {
	br.becomeRootTimers()
	br.topologyChangeDetection()
	br.tcnTimer.Stop()
	if br.running {
		br.configBPDUGeneration()
		br.helloTimer.Reset(br.helloTime)
	}
}

// betterRootPort reports whether p offers a better path to the root than
// the current best cur (802.1D 8.6.8.3).
func (br *Bridge) betterRootPort(p, cur *Port) bool {
	if p.designatedRoot != cur.designatedRoot {
		return p.designatedRoot < cur.designatedRoot
	}
	pc, cc := p.designatedCost+p.pathCost, cur.designatedCost+cur.pathCost
	if pc != cc {
		return pc < cc
	}
	if p.designatedBridge != cur.designatedBridge {
		return p.designatedBridge < cur.designatedBridge
	}
	if p.designatedPort != cur.designatedPort {
		return p.designatedPort < cur.designatedPort
	}
	return p.ID() < cur.ID()
}

// rootSelection picks the root port and derives the root and the path
// cost (br_root_selection).
func (br *Bridge) rootSelection() {
	var best *Port
	for _, p := range br.ports {
		if p.state == StateDisabled || br.isDesignated(p) || p.flags&FlagRootBlock != 0 {
			continue
		}
		if p.designatedRoot >= br.bridgeID {
			continue
		}
		if best == nil || br.betterRootPort(p, best) {
			best = p
		}
	}
	br.rootPort = best
	if best == nil {
		br.designatedRoot = br.bridgeID
		br.rootPathCost = 0
		return
	}
	br.designatedRoot = best.designatedRoot
	br.rootPathCost = best.designatedCost + best.pathCost
}

// shouldBecomeDesignated is 802.1D 8.6.10.3: this bridge offers the LAN
// of p a better path than the recorded designated bridge.
func (br *Bridge) shouldBecomeDesignated(p *Port) bool {
	if br.isDesignated(p) || p.designatedRoot != br.designatedRoot {
		return true
	}
	if br.rootPathCost != p.designatedCost {
		return br.rootPathCost < p.designatedCost
	}
	if br.bridgeID != p.designatedBridge {
		return br.bridgeID < p.designatedBridge
	}
	return p.ID() < p.designatedPort
}

func (br *Bridge) designatedPortSelection() {
	for _, p := range br.ports {
		if p.state != StateDisabled && br.shouldBecomeDesignated(p) {
			br.becomeDesignated(p)
		}
	}
}

func (br *Bridge) configurationUpdate() {
	br.rootSelection()
	br.designatedPortSelection()
}

// portStateSelection gives every live port its state (br_port_state_selection).
func (br *Bridge) portStateSelection() {
	for _, p := range br.ports {
		if p.state == StateDisabled {
			continue
		}
		if !br.stp {
			br.setState(p, StateForwarding)
			continue
		}
		switch {
		case p == br.rootPort:
			p.configPending, p.tcAck = false, false
			br.makeForwarding(p)
		case br.isDesignated(p):
			p.msgAgeTimer.Stop()
			br.makeForwarding(p)
		default:
			p.configPending, p.tcAck = false, false
			br.makeBlocking(p)
		}
	}
	br.updateCarrier()
}

func (br *Bridge) makeForwarding(p *Port) {
	if p.state != StateBlocking {
		return
	}
	br.setState(p, StateListening)
	p.fwdDelayTimer.Reset(br.forwardDelay)
}

func (br *Bridge) makeBlocking(p *Port) {
	if p.state == StateDisabled || p.state == StateBlocking {
		return
	}
	if p.state == StateForwarding || p.state == StateLearning {
		br.topologyChangeDetection()
	}
	br.setState(p, StateBlocking)
	p.fwdDelayTimer.Stop()
}

// topologyChangeDetection starts the topology change procedure
// (br_topology_change_detection): the root announces it in its config
// BPDUs, other bridges tell the root with TCNs.
func (br *Bridge) topologyChangeDetection() {
	if !br.stp || !br.running {
		return
	}
	if br.isRoot() {
		br.setTopologyChange(true)
		br.tcTimer.Reset(br.bridgeMaxAge + br.bridgeForwardDelay)
	} else if !br.topologyChangeDetected {
		br.transmitTCN()
		br.tcnTimer.Reset(br.bridgeHelloTime)
	}
	br.topologyChangeDetected = true
}

func (br *Bridge) setTopologyChange(on bool) {
	if on && !br.topologyChange {
		br.tcCount++
		br.tcLast = br.exec.Now()
	}
	if on != br.topologyChange {
		br.topologyChange = on
		br.gcTimer.Reset(br.gcInterval())
	}
}

// configBPDUGeneration sends a config BPDU on every designated port.
func (br *Bridge) configBPDUGeneration() {
	for _, p := range br.ports {
		if p.state != StateDisabled && br.isDesignated(p) {
			br.transmitConfig(p)
		}
	}
}

// Timers.

func (br *Bridge) helloExpired() {
	if !br.stp || !br.running {
		return
	}
	br.configBPDUGeneration()
	br.helloTimer.Reset(br.helloTime)
}

func (br *Bridge) tcnExpired() {
	if !br.stp || !br.running {
		return
	}
	br.transmitTCN()
	br.tcnTimer.Reset(br.bridgeHelloTime)
}

func (br *Bridge) tcExpired() {
	br.topologyChangeDetected = false
	br.setTopologyChange(false)
}

func (br *Bridge) holdExpired(p *Port) {
	if p.configPending {
		br.transmitConfig(p)
	}
}

// messageAgeExpired: the information p held from the designated bridge of
// its LAN is too old; p claims the LAN (br_message_age_timer_expired).
func (br *Bridge) messageAgeExpired(p *Port) {
	if !br.stp || p.state == StateDisabled {
		return
	}
	wasRoot := br.isRoot()
	br.becomeDesignated(p)
	br.configurationUpdate()
	br.portStateSelection()
	if br.isRoot() && !wasRoot {
		br.becomeRootBridge()
	}
}

func (br *Bridge) forwardDelayExpired(p *Port) {
	switch p.state {
	case StateListening:
		br.setState(p, StateLearning)
		p.fwdDelayTimer.Reset(br.forwardDelay)
	case StateLearning:
		br.setState(p, StateForwarding)
		br.updateCarrier() // netif_carrier_on in br_forward_delay_timer_expired
		for _, q := range br.ports {
			if q.state != StateDisabled && br.isDesignated(q) {
				br.topologyChangeDetection()
				break
			}
		}
	}
}
