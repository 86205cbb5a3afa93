package bond

import (
	"encoding/binary"
	"time"

	"github.com/usnet/usnet/executor"
	"github.com/usnet/usnet/skb"
)

// 802.3ad: LACP (IEEE 802.1AX-2008, clause 5) as drivers/net/bonding/
// bond_3ad.c runs it: every port has a receive, periodic, mux and
// transmit machine, stepped on a 100 ms tick; the selection logic puts
// ports with the same key and partner into one aggregator and one
// aggregator of the bond is active.

// LACP port state bits (LACP_STATE_*).
const (
	StateLACPActivity  uint8 = 0x01
	StateLACPTimeout   uint8 = 0x02 // short timeout
	StateAggregation   uint8 = 0x04
	StateSynchronized  uint8 = 0x08
	StateCollecting    uint8 = 0x10
	StateDistributing  uint8 = 0x20
	StateDefaulted     uint8 = 0x40
	StateExpiredBitMap uint8 = 0x80
)

// Timers, in ticks of adTick (the kernel's AD_*_TIME with
// ad_ticks_per_sec 10).
const (
	adTick            = 100 * time.Millisecond
	adFastPeriodic    = 10  // 1 s
	adSlowPeriodic    = 300 // 30 s
	adShortTimeout    = 30  // 3 s
	adLongTimeout     = 900 // 90 s
	adAggregateWait   = 20  // 2 s
	adTxInterval      = 3   // at most 3 LACPDUs a second
	adLACPDULen       = 110 // payload after the Ethernet header
	adLinkSpeed10000  = 7   // AD_LINK_SPEED_10000MBPS: what veth reports
	adSelectionTicks  = 1   // bond_3ad_initiate_agg_selection(bond, 1) at open
	adDefaultPortPrio = 0xff
)

// Receive machine states (AD_RX_*).
const (
	rxInitialize = iota
	rxPortDisabled
	rxLACPDisabled
	rxExpired
	rxDefaulted
	rxCurrent
)

// Periodic machine states.
const (
	perNone = iota
	perFast
	perSlow
	perTx
)

// Mux machine states.
const (
	muxDetached = iota
	muxWaiting
	muxAttached
	muxCollDist
)

// Selection (AD_PORT_SELECTED / STANDBY).
const (
	unselected = iota
	selected
	standby
)

// lacpInfo is one side of a LACPDU (struct port_params).
type lacpInfo struct {
	sysPrio  uint16
	system   [6]byte
	key      uint16
	portPrio uint16
	port     uint16
	state    uint8
}

// sameAs compares the fields that identify a port (the kernel's
// update_selected comparison, state's aggregation bit included).
func (a *lacpInfo) sameAs(b *lacpInfo) bool {
	return a.port == b.port && a.portPrio == b.portPrio && a.system == b.system &&
		a.sysPrio == b.sysPrio && a.key == b.key && a.state&StateAggregation == b.state&StateAggregation
}

// aggregator is struct aggregator: one per slave, ports join the first
// whose key and partner match.
type aggregator struct {
	id             uint16
	actorKey       uint16
	partnerKey     uint16
	partnerSystem  [6]byte
	partnerSysPrio uint16
	individual     bool
	ports          []*Slave
	active         bool
}

func (g *aggregator) hasPartner() bool { return g.partnerSystem != [6]byte{} }

// activePorts is __agg_active_ports: ports whose link is up.
func (g *aggregator) activePorts() int {
	n := 0
	for _, s := range g.ports {
		if s.port.enabled {
			n++
		}
	}
	return n
}

// adPort is a slave's LACP state (struct port).
type adPort struct {
	own      aggregator // the aggregator this slave brings
	agg      *aggregator
	actor    lacpInfo // actor oper
	partner  lacpInfo // partner oper
	enabled  bool     // link up (port->is_enabled)
	begin    bool
	selected int
	ntt      bool

	rx, periodic, mux           int
	currentWhile, periodicTimer int
	waitWhile, txTimer          int
	lacpduRx, lacpduTx, illegal uint64
}

// adBond is the bond's LACP state.
type adBond struct {
	b         *Bond
	tick      *executor.Timer
	aggSelect int // agg_select_timer, ticks
	nextAggID uint16
	txb       *skb.Batch
}

func (a *adBond) init(b *Bond) {
	a.b = b
	a.tick = b.dev.Table().Net().Exec().NewTimer(a.stateMachine)
	a.txb = skb.NewBatch(1)
}

func (a *adBond) start() {
	if a.b.p.Mode != Mode8023AD {
		return
	}
	a.aggSelect = adSelectionTicks
	a.tick.Reset(adTick)
}

func (a *adBond) stop() { a.tick.Stop() }

func (a *adBond) rateChanged() {
	for _, s := range a.b.slaves {
		a.setActorState(s)
	}
}

// actorSystem is ad_actor_system, or the bond's MAC when unset.
func (a *adBond) actorSystem() [6]byte {
	if a.b.p.ADActorSystem != ([6]byte{}) {
		return a.b.p.ADActorSystem
	}
	return a.b.dev.Addr()
}

// setActorState refreshes the administrative parts of the actor
// (activity, timeout, system) from the bond's options.
func (a *adBond) setActorState(s *Slave) {
	p := &s.port
	p.actor.sysPrio = a.b.p.ADActorSysPrio
	p.actor.system = a.actorSystem()
	p.actor.state &^= StateLACPActivity | StateLACPTimeout
	if a.b.p.LACPActive != 0 {
		p.actor.state |= StateLACPActivity
	}
	if a.b.p.LACPFast != 0 {
		p.actor.state |= StateLACPTimeout
	}
}

// bindSlave is bond_3ad_bind_slave: the port gets the next port number
// and an aggregator of its own.
func (a *adBond) bindSlave(s *Slave) {
	if len(a.b.slaves) == 1 {
		a.nextAggID = 0 // bond_3ad_initialize at the first slave
	}
	a.nextAggID++
	p := &s.port
	*p = adPort{begin: true}
	p.own.id = a.nextAggID
	// actor_admin_port_key: user key, speed, full duplex.
	p.actor = lacpInfo{key: a.b.p.ADUserPortKey<<6 | adLinkSpeed10000<<1 | 1, portPrio: adDefaultPortPrio, port: a.nextAggID, state: StateAggregation}
	a.setActorState(s)
	p.enabled = s.link == LinkUp
	a.recordDefault(s)
}

// unbindSlave is bond_3ad_unbind_slave: the port leaves its aggregator;
// another is selected if it was the active one.
func (a *adBond) unbindSlave(s *Slave) {
	if a.b.p.Mode != Mode8023AD {
		return
	}
	p := &s.port
	wasActive := p.agg != nil && p.agg.active
	a.detach(s)
	// Ports that had joined this slave's aggregator move elsewhere.
	for _, o := range p.own.ports {
		if o != s {
			o.port.agg = nil
			o.port.selected = unselected
		}
	}
	p.own.ports = nil
	p.own.active = false
	if wasActive {
		a.selectAggregator()
	}
}

func (a *adBond) detach(s *Slave) {
	p := &s.port
	if p.agg == nil {
		return
	}
	g := p.agg
	for i, o := range g.ports {
		if o == s {
			g.ports = append(g.ports[:i], g.ports[i+1:]...)
			break
		}
	}
	p.agg = nil
	if len(g.ports) == 0 {
		g.active = false
	}
}

// linkChanged is bond_3ad_handle_link_change.
func (a *adBond) linkChanged(s *Slave) {
	if a.b.p.Mode != Mode8023AD {
		return
	}
	up := s.link == LinkUp
	if up == s.port.enabled {
		return
	}
	s.port.enabled = up
	if !up {
		a.disablePort(s)
	}
	a.selectAggregator()
}

// activeAgg returns the active aggregator (nil when none).
func (a *adBond) activeAgg() *aggregator {
	for _, s := range a.b.slaves {
		if s.port.own.active && len(s.port.own.ports) > 0 {
			return &s.port.own
		}
	}
	return nil
}

// carrier is bond_3ad_set_carrier's test: the active aggregator has at
// least min_links ports with link up.
func (a *adBond) carrier() bool {
	g := a.activeAgg()
	if g == nil {
		return false
	}
	n := g.activePorts()
	return n > 0 && uint32(n) >= a.b.p.MinLinks
}

// recordDefault is __record_default: the partner is unknown.
func (a *adBond) recordDefault(s *Slave) {
	p := &s.port
	p.partner = lacpInfo{state: StateLACPActivity}
	p.actor.state |= StateDefaulted
}

// stateMachine is bond_3ad_state_machine_handler, every 100 ms.
func (a *adBond) stateMachine() {
	b := a.b
	if b.dead || !b.dev.IsUp() || b.p.Mode != Mode8023AD {
		return
	}
	if a.aggSelect > 0 {
		a.aggSelect--
		if a.aggSelect == 0 {
			a.selectAggregator()
		}
	}
	for _, s := range b.slaves {
		a.rxMachine(s, nil)
		a.periodicMachine(s)
		a.portSelection(s)
		a.muxMachine(s)
		a.txMachine(s)
		s.port.begin = false
	}
	b.updateUsable()
	b.setCarrier()
	a.tick.Reset(adTick)
}

// rxLACPDU is bond_3ad_lacpdu_recv: validate and run the receive
// machine with the PDU.
func (a *adBond) rxLACPDU(s *Slave, f []byte) {
	pdu := f[14:]
	if len(pdu) < adLACPDULen-50 || pdu[0] != 1 {
		// Marker PDUs (subtype 2) and others are not handled.
		s.port.illegal++
		a.b.Stats.LACPDUIllegalRx++
		return
	}
	if pdu[2] != 1 || pdu[3] != 20 || pdu[22] != 2 || pdu[23] != 20 {
		s.port.illegal++
		a.b.Stats.LACPDUIllegalRx++
		return
	}
	s.port.lacpduRx++
	a.b.Stats.LACPDURx++
	if !a.b.dev.IsUp() {
		return
	}
	a.rxMachine(s, pdu)
}

func readInfo(p []byte) lacpInfo {
	return lacpInfo{
		sysPrio: binary.BigEndian.Uint16(p[0:2]), system: [6]byte(p[2:8]),
		key: binary.BigEndian.Uint16(p[8:10]), portPrio: binary.BigEndian.Uint16(p[10:12]),
		port: binary.BigEndian.Uint16(p[12:14]), state: p[14],
	}
}

// rxMachine is ad_rx_machine; pdu is nil on a tick.
func (a *adBond) rxMachine(s *Slave, pdu []byte) {
	p := &s.port
	last := p.rx
	switch {
	case p.begin:
		p.rx = rxInitialize
	case !p.enabled:
		p.rx = rxPortDisabled
	case pdu != nil && (p.rx == rxExpired || p.rx == rxDefaulted || p.rx == rxCurrent):
		p.rx = rxCurrent
	case p.currentWhile > 0:
		p.currentWhile--
		if p.currentWhile == 0 {
			switch p.rx {
			case rxCurrent:
				p.rx = rxExpired
			case rxExpired:
				p.rx = rxDefaulted
			}
		}
	default:
		switch p.rx {
		case rxInitialize:
			p.rx = rxPortDisabled
		case rxPortDisabled:
			p.rx = rxExpired
		}
	}
	if p.rx == last && pdu == nil {
		return
	}
	switch p.rx {
	case rxInitialize:
		a.recordDefault(s)
		p.actor.state &^= StateExpiredBitMap
		p.selected = unselected
		p.rx = rxPortDisabled
		fallthrough
	case rxPortDisabled:
		p.partner.state &^= StateSynchronized
	case rxExpired:
		// The partner is given a short timeout to answer.
		p.partner.state &^= StateSynchronized
		p.partner.state |= StateLACPTimeout
		p.currentWhile = adShortTimeout
		p.actor.state |= StateExpiredBitMap
	case rxDefaulted:
		a.updateDefaultSelected(s)
		a.recordDefault(s)
		p.actor.state &^= StateExpiredBitMap
	case rxCurrent:
		actor, partner := readInfo(pdu[4:]), readInfo(pdu[24:])
		// update_selected: another partner means another aggregator.
		if !actor.sameAs(&p.partner) {
			p.selected = unselected
		}
		// update_ntt: the partner's view of us is out of date.
		if partner.port != p.actor.port || partner.portPrio != p.actor.portPrio || partner.system != p.actor.system ||
			partner.sysPrio != p.actor.sysPrio || partner.key != p.actor.key ||
			partner.state&(StateLACPActivity|StateLACPTimeout|StateSynchronized|StateAggregation) !=
				p.actor.state&(StateLACPActivity|StateLACPTimeout|StateSynchronized|StateAggregation) {
			p.ntt = true
		}
		// record_pdu.
		p.partner = actor
		p.actor.state &^= StateDefaulted
		matched := partner.port == p.actor.port && partner.portPrio == p.actor.portPrio &&
			partner.system == p.actor.system && partner.sysPrio == p.actor.sysPrio &&
			partner.key == p.actor.key && partner.state&StateAggregation == p.actor.state&StateAggregation
		if (matched && actor.state&StateSynchronized != 0) || (actor.state&StateAggregation == 0 && actor.state&StateSynchronized != 0) {
			p.partner.state |= StateSynchronized
		} else {
			p.partner.state &^= StateSynchronized
		}
		if p.actor.state&StateLACPTimeout != 0 {
			p.currentWhile = adShortTimeout
		} else {
			p.currentWhile = adLongTimeout
		}
		p.actor.state &^= StateExpiredBitMap
	}
}

// updateDefaultSelected: a defaulted partner that differs from the
// recorded one unselects the port.
func (a *adBond) updateDefaultSelected(s *Slave) {
	def := lacpInfo{state: StateLACPActivity}
	if !def.sameAs(&s.port.partner) {
		s.port.selected = unselected
	}
}

// periodicMachine is ad_periodic_machine.
func (a *adBond) periodicMachine(s *Slave) {
	p := &s.port
	last := p.periodic
	partnerShort := p.partner.state&StateLACPTimeout != 0
	switch {
	case p.begin || !p.enabled ||
		(p.actor.state&StateLACPActivity == 0 && p.partner.state&StateLACPActivity == 0) || a.b.p.LACPActive == 0:
		p.periodic = perNone
	case p.periodicTimer > 0:
		p.periodicTimer--
		if p.periodicTimer == 0 {
			p.periodic = perTx
		} else if p.periodic == perFast && !partnerShort {
			p.periodic = perSlow
		} else if p.periodic == perSlow && partnerShort {
			p.periodicTimer = 0
			p.periodic = perTx
		}
	default:
		switch p.periodic {
		case perNone:
			p.periodic = perFast
		case perTx:
			if partnerShort {
				p.periodic = perFast
			} else {
				p.periodic = perSlow
			}
		}
	}
	if p.periodic == last {
		return
	}
	switch p.periodic {
	case perNone:
		p.periodicTimer = 0
	case perFast:
		p.periodicTimer = adFastPeriodic - 1
	case perSlow:
		p.periodicTimer = adSlowPeriodic - 1
	case perTx:
		p.ntt = true
	}
}

// portSelection is ad_port_selection_logic: an unselected port leaves
// its aggregator and joins one whose parameters match, or a free one.
func (a *adBond) portSelection(s *Slave) {
	p := &s.port
	if p.selected == selected {
		return
	}
	a.detach(s)
	individual := p.partner.state&StateAggregation == 0 || p.actor.state&StateAggregation == 0
	var to *aggregator
	if !individual {
		for _, o := range a.b.slaves {
			g := &o.port.own
			if len(g.ports) > 0 && !g.individual && g.actorKey == p.actor.key &&
				g.partnerSystem == p.partner.system && g.partnerSysPrio == p.partner.sysPrio &&
				g.partnerKey == p.partner.key {
				to = g
				break
			}
		}
	}
	if to == nil {
		for _, o := range a.b.slaves {
			if g := &o.port.own; len(g.ports) == 0 {
				to = g
				break
			}
		}
		if to == nil {
			return // no free aggregator: stay unselected
		}
		to.actorKey, to.partnerKey = p.actor.key, p.partner.key
		to.partnerSystem, to.partnerSysPrio = p.partner.system, p.partner.sysPrio
		to.individual = individual
	}
	to.ports = append(to.ports, s)
	p.agg = to
	p.selected = selected
	a.selectAggregator()
}

// selectAggregator is ad_agg_selection_logic with ad_select stable,
// bandwidth or count (all links being alike, these agree): prefer an
// aggregator with a partner, then more ports with link up, then the
// lowest id; with stable, the active one stays while it has ports up
// and does not lose a partner.
func (a *adBond) selectAggregator() {
	if a.aggSelect > 0 {
		return
	}
	cur := a.activeAgg()
	var best *aggregator
	for _, s := range a.b.slaves {
		g := &s.port.own
		if len(g.ports) == 0 {
			continue
		}
		if best == nil || better(g, best) {
			best = g
		}
	}
	if a.b.p.ADSelect == 0 && cur != nil && cur.activePorts() > 0 && (cur.hasPartner() || best == nil || !best.hasPartner()) {
		best = cur
	}
	if best != cur {
		if cur != nil {
			cur.active = false
			for _, s := range cur.ports {
				a.disablePort(s)
			}
		}
		if best != nil {
			best.active = true
		}
	}
	// An aggregator of individual ports without a partner still carries
	// traffic: its ports are enabled.
	if best != nil && !best.hasPartner() {
		for _, s := range best.ports {
			if s.port.enabled {
				a.enablePort(s)
			}
		}
	}
	a.b.updateUsable()
	a.b.setCarrier()
}

func better(g, o *aggregator) bool {
	if g.hasPartner() != o.hasPartner() {
		return g.hasPartner()
	}
	if n, m := g.activePorts(), o.activePorts(); n != m {
		return n > m
	}
	return g.id < o.id
}

// muxMachine is ad_mux_machine with coupled control: collecting and
// distributing go together.
func (a *adBond) muxMachine(s *Slave) {
	p := &s.port
	last := p.mux
	if p.begin {
		p.mux = muxDetached
	} else {
		switch p.mux {
		case muxDetached:
			if p.selected == selected || p.selected == standby {
				p.mux = muxWaiting
			}
		case muxWaiting:
			if p.selected == unselected {
				p.mux = muxDetached
				break
			}
			if p.waitWhile > 0 {
				p.waitWhile--
			}
			if p.waitWhile == 0 && p.selected == selected && a.ready(p.agg) {
				p.mux = muxAttached
			}
		case muxAttached:
			if p.selected == selected && p.partner.state&StateSynchronized != 0 && a.aggSelect == 0 {
				p.mux = muxCollDist
			} else if p.selected != selected {
				p.mux = muxDetached
			}
		case muxCollDist:
			if p.selected != selected || p.partner.state&StateSynchronized == 0 {
				p.mux = muxAttached
			} else if p.agg != nil && p.agg.active && p.enabled && s.state != StateActive {
				a.enablePort(s)
			} else if p.agg != nil && !p.agg.active && s.state == StateActive {
				a.disablePort(s)
			}
		}
	}
	if p.mux == last {
		return
	}
	switch p.mux {
	case muxDetached:
		a.detach(s)
		p.actor.state &^= StateSynchronized | StateCollecting | StateDistributing
		a.disablePort(s)
		p.ntt = true
	case muxWaiting:
		p.waitWhile = adAggregateWait
	case muxAttached:
		p.actor.state |= StateSynchronized
		p.actor.state &^= StateCollecting | StateDistributing
		a.disablePort(s)
		p.ntt = true
	case muxCollDist:
		p.actor.state |= StateCollecting | StateDistributing
		if p.agg != nil && p.agg.active && p.enabled {
			a.enablePort(s)
		}
		p.ntt = true
	}
}

// ready is the Ready variable: every port of the aggregator that waits
// has waited out wait_while.
func (a *adBond) ready(g *aggregator) bool {
	if g == nil {
		return false
	}
	for _, o := range g.ports {
		if o.port.mux == muxWaiting && o.port.waitWhile > 0 {
			return false
		}
	}
	return true
}

func (a *adBond) enablePort(s *Slave) {
	if s.state != StateActive {
		s.state = StateActive
		a.b.updateUsable()
	}
}

func (a *adBond) disablePort(s *Slave) {
	if s.state != StateBackup {
		s.state = StateBackup
		a.b.updateUsable()
	}
}

// txMachine is ad_tx_machine: at most one LACPDU every 300 ms, when
// something needs telling.
func (a *adBond) txMachine(s *Slave) {
	p := &s.port
	if p.txTimer > 0 {
		p.txTimer--
		if p.txTimer > 0 {
			return
		}
	}
	if p.ntt && p.enabled {
		if a.sendLACPDU(s) {
			p.ntt = false
		}
	}
	p.txTimer = adTxInterval
}

func putInfo(b []byte, typ uint8, in *lacpInfo) {
	b[0], b[1] = typ, 20
	binary.BigEndian.PutUint16(b[2:4], in.sysPrio)
	copy(b[4:10], in.system[:])
	binary.BigEndian.PutUint16(b[10:12], in.key)
	binary.BigEndian.PutUint16(b[12:14], in.portPrio)
	binary.BigEndian.PutUint16(b[14:16], in.port)
	b[16] = in.state
	b[17], b[18], b[19] = 0, 0, 0
}

// sendLACPDU builds and sends one LACPDU on s (ad_lacpdu_send): from the
// slave's permanent address to the slow-protocols group.
func (a *adBond) sendLACPDU(s *Slave) bool {
	pool := a.b.dev.Table().Pool()
	buf := pool.Get(skb.DefaultHeadroom, 14+adLACPDULen)
	if buf == nil {
		return false
	}
	f := buf.Put(14 + adLACPDULen)
	clear(f)
	copy(f[0:6], slowProtocolsMAC[:])
	copy(f[6:12], s.permAddr[:])
	binary.BigEndian.PutUint16(f[12:14], etherTypeSlow)
	pdu := f[14:]
	pdu[0], pdu[1] = 1, 1 // subtype LACP, version 1
	p := &s.port
	putInfo(pdu[2:22], 1, &p.actor)
	putInfo(pdu[22:42], 2, &p.partner)
	pdu[42], pdu[43] = 3, 16 // collector information, max delay 0
	// pdu[58:60] is the terminator (type 0, length 0), the rest reserved.
	buf.Protocol = etherTypeSlow
	a.txb.Add(buf)
	s.dev.Xmit(a.txb)
	p.lacpduTx++
	a.b.Stats.LACPDUTx++
	return true
}

// ADInfo is the active aggregator as IFLA_BOND_AD_INFO reports it.
type ADInfo struct {
	Aggregator, NumPorts, ActorKey, PartnerKey uint16
	PartnerMAC                                 [6]byte
}

// ADInfo returns the active aggregator's information
// (bond_3ad_get_active_agg_info); false when there is none.
func (b *Bond) ADInfo() (ADInfo, bool) {
	if b.p.Mode != Mode8023AD {
		return ADInfo{}, false
	}
	g := b.ad.activeAgg()
	if g == nil {
		return ADInfo{}, false
	}
	return ADInfo{Aggregator: g.id, NumPorts: uint16(g.activePorts()), ActorKey: g.actorKey, PartnerKey: g.partnerKey, PartnerMAC: g.partnerSystem}, true
}

// ADState returns the slave's aggregator id and actor and partner oper
// port states; false when the port has no aggregator.
func (s *Slave) ADState() (agg uint16, actor, partner uint8, ok bool) {
	p := &s.port
	if p.agg == nil {
		return 0, 0, 0, false
	}
	return p.agg.id, p.actor.state, p.partner.state, true
}

// LACPDUs returns the LACPDUs received and sent on the slave.
func (s *Slave) LACPDUs() (rx, tx uint64) { return s.port.lacpduRx, s.port.lacpduTx }

// PartnerSystem returns the partner's system id and key as LACP learned
// them.
func (s *Slave) PartnerSystem() ([6]byte, uint16) { return s.port.partner.system, s.port.partner.key }
