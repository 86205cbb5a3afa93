package bond

import (
	"encoding/binary"

	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
)

// Xmit sends each frame by the slave the mode picks (bond_start_xmit):
// frames are gathered per slave and each slave gets one batch.
func (b *Bond) Xmit(d *netdev.Device, bt *skb.Batch) {
	for _, f := range bt.Bufs() {
		switch b.p.Mode {
		case ModeBroadcast:
			b.xmitBroadcast(d, f)
			continue
		}
		s := b.pick(f)
		if s == nil {
			d.Stats.TxDropped++
			f.Free()
			continue
		}
		s.txb.Add(f)
	}
	bt.Reset()
	for _, s := range b.slaves {
		if s.txb.Len() > 0 {
			s.dev.Xmit(s.txb)
		}
	}
}

// pick chooses the slave for one frame, nil when none can send.
func (b *Bond) pick(f *skb.Buf) *Slave {
	switch b.p.Mode {
	case ModeActiveBackup:
		if b.active != nil && b.active.canTx() {
			return b.active
		}
		return nil
	case ModeBalanceRR:
		n := uint32(len(b.usable))
		if n == 0 {
			return nil
		}
		return b.usable[b.rrSlaveID()%n]
	default: // balance-xor, 802.3ad (and tlb/alb, which usnet hashes as xor)
		n := uint32(len(b.usable))
		if n == 0 {
			return nil
		}
		if b.p.Mode == Mode8023AD && isLACPDU(f.Bytes()) {
			return nil
		}
		return b.usable[Hash(b.p.XmitHashPolicy, f.Bytes())%n]
	}
}

// rrSlaveID is bond_rr_gen_slave_id: a counter, divided by
// packets_per_slave, or random when packets_per_slave is 0.
func (b *Bond) rrSlaveID() uint32 {
	switch b.p.PacketsPerSlave {
	case 0:
		return b.dev.Table().Net().Exec().Rand().Uint32()
	case 1:
		b.rrCounter++
		return b.rrCounter
	default:
		b.rrCounter++
		return b.rrCounter / b.p.PacketsPerSlave
	}
}

// xmitBroadcast sends f on every usable slave (bond_xmit_broadcast).
func (b *Bond) xmitBroadcast(d *netdev.Device, f *skb.Buf) {
	n := len(b.usable)
	if n == 0 {
		d.Stats.TxDropped++
		f.Free()
		return
	}
	for i, s := range b.usable {
		if i == n-1 {
			s.txb.Add(f)
			break
		}
		s.txb.Add(f.Clone())
	}
}

// Hash is bond_xmit_hash for a frame starting at its Ethernet header,
// for the policies layer2, layer2+3 and layer3+4 (the encap policies are
// computed as their plain counterparts, vlan+srcmac as layer2).
func Hash(policy HashPolicy, frame []byte) uint32 {
	if len(frame) < 14 {
		return 0
	}
	if policy == HashLayer2 || policy == HashVLANSrcMAC {
		return ethHash(frame)
	}
	l34 := policy == HashLayer34 || policy == HashEncap34
	proto := binary.BigEndian.Uint16(frame[12:14])
	if proto != 0x0800 {
		return ethHash(frame)
	}
	ip := frame[14:]
	if len(ip) < 20 || ip[0]>>4 != 4 {
		return ethHash(frame)
	}
	ihl := int(ip[0]&0xf) * 4
	if ihl < 20 || len(ip) < ihl {
		return ethHash(frame)
	}
	// flow_get_u32_src/dst: the addresses as stored, read in host (little
	// endian) order, as the kernel's memory loads on x86 read them.
	src := binary.LittleEndian.Uint32(ip[12:16])
	dst := binary.LittleEndian.Uint32(ip[16:20])
	var h uint32
	if !l34 {
		h = ethHash(frame)
	} else {
		fragment := binary.BigEndian.Uint16(ip[6:8])&0x3fff != 0
		l4 := ip[ihl:]
		if !fragment {
			switch ip[9] {
			case 1: // ICMP: type, code and, for echo and timestamp, the id
				// (skb_flow_get_icmp_tci keeps it in host order, 0 as 1).
				if len(l4) >= 8 && icmpHasID(l4[0]) {
					id := uint32(binary.BigEndian.Uint16(l4[4:6]))
					if id == 0 {
						id = 1
					}
					h = uint32(l4[0]) | uint32(l4[1])<<8 | id<<16
				}
			case 6, 17, 33, 132, 136: // TCP, UDP, DCCP, SCTP, UDP-Lite
				if len(l4) >= 4 {
					h = binary.LittleEndian.Uint32(l4[0:4])
				}
			case 50: // ESP: the SPI
				if len(l4) >= 4 {
					h = binary.LittleEndian.Uint32(l4[0:4])
				}
			case 51: // AH: the SPI, 4 bytes in
				if len(l4) >= 8 {
					h = binary.LittleEndian.Uint32(l4[4:8])
				}
			}
		}
	}
	h ^= dst ^ src
	h ^= h >> 16
	h ^= h >> 8
	if l34 {
		// The lowest bit goes: ports are often even (bond_ip_hash).
		return h >> 1
	}
	return h
}

// ethHash is bond_eth_hash: last bytes of both MACs and the EtherType.
func ethHash(f []byte) uint32 {
	return uint32(f[5]) ^ uint32(f[11]) ^ uint32(binary.BigEndian.Uint16(f[12:14]))
}

// icmpHasID is icmp_has_id: the ICMP types whose header carries an id.
func icmpHasID(typ uint8) bool {
	switch typ {
	case 0, 8, 13, 14: // echo reply, echo, timestamp, timestamp reply
		return true
	}
	return false
}
