package bridge

import (
	"encoding/binary"
	"time"

	"github.com/usnet/usnet/skb"
)

// BPDU encoding (802.1D clause 9): after an 802.3 header with a length
// field and the LLC header 42 42 03 come the protocol identifier (0), the
// version (0) and the type.
const (
	bpduTypeConfig = 0x00
	bpduTypeTCN    = 0x80
	bpduConfigLen  = 35
	bpduTCNLen     = 4
	flagTC         = 0x01
	flagTCA        = 0x80
	// messageAgeIncr is what a bridge adds to the message age it relays
	// (Linux: a jiffy or so; 1/256 s is the BPDU's unit).
	messageAgeIncr = time.Second / 256
)

// bpdu is a decoded configuration BPDU.
type bpdu struct {
	tc, tca                                 bool
	root, bridge                            ID
	cost                                    uint32
	port                                    uint16
	messageAge, maxAge, helloTime, fwdDelay time.Duration
}

func toUnits(d time.Duration) uint16 {
	v := (d*256 + time.Second - 1) / time.Second
	return uint16(min(v, 0xffff))
}

func fromUnits(v uint16) time.Duration { return time.Duration(v) * time.Second / 256 }

func getID(b []byte) ID { return ID(binary.BigEndian.Uint64(b)) }

// sendBPDU frames payload (LLC included) for p and transmits it.
func (br *Bridge) sendBPDU(p *Port, payload []byte) {
	b := br.dev.Table().Pool().Get(skb.DefaultHeadroom, 14+len(payload))
	h := b.Put(14 + len(payload))
	copy(h[0:6], br.groupAddr[:])
	a := p.dev.Addr()
	copy(h[6:12], a[:])
	binary.BigEndian.PutUint16(h[12:14], uint16(len(payload)))
	copy(h[14:], payload)
	p.BPDUsOut++
	br.tx.Add(b)
	p.dev.Xmit(br.tx)
}

// transmitConfig sends a config BPDU on p, or defers it while the hold
// timer runs (br_transmit_config).
func (br *Bridge) transmitConfig(p *Port) {
	if p.holdTmr.Pending() {
		p.configPending = true
		return
	}
	var age time.Duration
	if !br.isRoot() && br.rootPort != nil {
		rp := br.rootPort
		age = rp.msgAge + (br.exec.Now() - rp.msgAgeAt) + messageAgeIncr
	}
	if age >= br.maxAge {
		return
	}
	var buf [3 + bpduConfigLen]byte
	buf[0], buf[1], buf[2] = 0x42, 0x42, 0x03
	c := buf[3:]
	c[3] = bpduTypeConfig
	if br.topologyChange {
		c[4] |= flagTC
	}
	if p.tcAck {
		c[4] |= flagTCA
	}
	root, self := br.designatedRoot.Bytes(), br.bridgeID.Bytes()
	copy(c[5:13], root[:])
	binary.BigEndian.PutUint32(c[13:17], br.rootPathCost)
	copy(c[17:25], self[:])
	binary.BigEndian.PutUint16(c[25:27], p.ID())
	binary.BigEndian.PutUint16(c[27:29], toUnits(age))
	binary.BigEndian.PutUint16(c[29:31], toUnits(br.maxAge))
	binary.BigEndian.PutUint16(c[31:33], toUnits(br.helloTime))
	binary.BigEndian.PutUint16(c[33:35], toUnits(br.forwardDelay))
	br.Stats.BPDUsOut++
	br.sendBPDU(p, buf[:])
	p.tcAck, p.configPending = false, false
	p.holdTmr.Reset(holdTime)
}

// transmitTCN tells the root, through the root port, that the topology
// changed (br_transmit_tcn).
func (br *Bridge) transmitTCN() {
	p := br.rootPort
	if p == nil {
		return
	}
	buf := [3 + bpduTCNLen]byte{0x42, 0x42, 0x03, 0, 0, 0, bpduTypeTCN}
	br.Stats.TCNsOut++
	br.sendBPDU(p, buf[:])
}

// rcvBPDU takes a frame sent to the STP group address on p (br_stp_rcv).
func (br *Bridge) rcvBPDU(p *Port, b *skb.Buf) {
	defer b.Free()
	data := b.Bytes()
	if len(data) < 14+3+bpduTCNLen || binary.BigEndian.Uint16(data[12:14]) >= 0x600 ||
		data[14] != 0x42 || data[15] != 0x42 || data[16] != 0x03 {
		br.Stats.BadBPDUs++
		return
	}
	if n := int(binary.BigEndian.Uint16(data[12:14])); n < len(data)-14 {
		data = data[:14+n] // Ethernet padding
	}
	c := data[17:]
	if c[0] != 0 || c[1] != 0 {
		br.Stats.BadBPDUs++
		return
	}
	if p.state == StateDisabled {
		return
	}
	if p.flags&FlagBPDUGuard != 0 {
		// BPDU guard: a BPDU where none may come disables the port.
		br.disablePort(p)
		return
	}
	p.BPDUsIn++
	switch c[3] {
	case bpduTypeConfig:
		if len(c) < bpduConfigLen {
			br.Stats.BadBPDUs++
			return
		}
		u := bpdu{
			tc: c[4]&flagTC != 0, tca: c[4]&flagTCA != 0,
			root: getID(c[5:13]), cost: binary.BigEndian.Uint32(c[13:17]),
			bridge: getID(c[17:25]), port: binary.BigEndian.Uint16(c[25:27]),
			messageAge: fromUnits(binary.BigEndian.Uint16(c[27:29])),
			maxAge:     fromUnits(binary.BigEndian.Uint16(c[29:31])),
			helloTime:  fromUnits(binary.BigEndian.Uint16(c[31:33])),
			fwdDelay:   fromUnits(binary.BigEndian.Uint16(c[33:35])),
		}
		if u.messageAge >= u.maxAge {
			br.Stats.BadBPDUs++
			return
		}
		br.Stats.BPDUsIn++
		br.receivedConfig(p, &u)
	case bpduTypeTCN:
		br.Stats.TCNsIn++
		br.receivedTCN(p)
	default:
		br.Stats.BadBPDUs++
	}
}

// supersedes is 802.1D 8.6.2.2: the BPDU carries better information than
// p holds.
func (br *Bridge) supersedes(p *Port, u *bpdu) bool {
	if u.root != p.designatedRoot {
		return u.root < p.designatedRoot
	}
	if u.cost != p.designatedCost {
		return u.cost < p.designatedCost
	}
	if u.bridge != p.designatedBridge {
		return u.bridge < p.designatedBridge
	}
	if u.bridge != br.bridgeID {
		return true
	}
	return u.port <= p.designatedPort
}

// receivedConfig is 802.1D 8.7.1 (br_received_config_bpdu).
func (br *Bridge) receivedConfig(p *Port, u *bpdu) {
	wasRoot := br.isRoot()
	if !br.supersedes(p, u) {
		if br.isDesignated(p) {
			br.transmitConfig(p)
		}
		return
	}
	p.designatedRoot, p.designatedCost = u.root, u.cost
	p.designatedBridge, p.designatedPort = u.bridge, u.port
	now := br.exec.Now()
	p.msgAge, p.msgAgeAt = u.messageAge, now
	p.msgAgeTimer.Reset(u.maxAge - u.messageAge)
	br.configurationUpdate()
	br.portStateSelection()
	if !br.isRoot() && wasRoot {
		br.helloTimer.Stop()
		if br.topologyChangeDetected {
			br.tcTimer.Stop()
			br.transmitTCN()
			br.tcnTimer.Reset(br.bridgeHelloTime)
		}
	}
	if p == br.rootPort {
		br.maxAge, br.helloTime, br.forwardDelay = u.maxAge, u.helloTime, u.fwdDelay
		br.setTopologyChange(u.tc)
		br.configBPDUGeneration()
		if u.tca {
			br.topologyChangeDetected = false
			br.tcnTimer.Stop()
		}
	}
}

// receivedTCN is 802.1D 8.7.2: a designated port relays the change towards
// the root and acknowledges it.
func (br *Bridge) receivedTCN(p *Port) {
	if !br.isDesignated(p) {
		return
	}
	br.topologyChangeDetection()
	p.tcAck = true
	br.transmitConfig(p)
}
