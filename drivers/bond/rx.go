package bond

import (
	"encoding/binary"

	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
)

// slowProtocolsMAC is 01:80:c2:00:00:02, the destination of LACPDUs.
var slowProtocolsMAC = [6]byte{0x01, 0x80, 0xc2, 0x00, 0x00, 0x02}

const etherTypeSlow = 0x8809

// isLACPDU reports whether frame is a slow-protocols frame (LACP or
// marker).
func isLACPDU(f []byte) bool {
	return len(f) >= 15 && binary.BigEndian.Uint16(f[12:14]) == etherTypeSlow
}

// handleFrame is the slaves' rx handler (bond_handle_frame): LACPDUs go
// to the 802.3ad machines; frames on an inactive slave are dropped as the
// kernel's exact-match delivery drops them; the rest are received by the
// bond, one frame at a time.
func (b *Bond) handleFrame(sd *netdev.Device, f *skb.Buf) netdev.RxResult {
	s := b.slaveOf(sd)
	if s == nil {
		return netdev.RxPass
	}
	data := f.Bytes()
	if isLACPDU(data) {
		if b.p.Mode == Mode8023AD {
			b.ad.rxLACPDU(s, data)
		}
		f.Free()
		return netdev.RxConsumed
	}
	if b.inactiveDrop(s, data) {
		sd.Stats.RxNoHandler++
		f.Free()
		return netdev.RxConsumed
	}
	b.rxb.Add(f)
	b.dev.Receive(b.rxb)
	return netdev.RxConsumed
}

// inactiveDrop is bond_should_deliver_exact_match: an inactive slave
// delivers nothing to the bond, except broadcast and multicast when
// all_slaves_active is set.
func (b *Bond) inactiveDrop(s *Slave, data []byte) bool {
	if s.state == StateActive {
		return false
	}
	if b.p.Mode != ModeActiveBackup && b.p.Mode != Mode8023AD {
		return false
	}
	if b.p.AllSlavesActive != 0 && len(data) > 0 && data[0]&1 != 0 {
		return false
	}
	return true
}
