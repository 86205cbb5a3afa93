package header

import (
	"encoding/binary"
	"net/netip"
)

// ARPLen is the length of an ARP packet for Ethernet/IPv4.
const ARPLen = 28

// ARP field values (include/uapi/linux/if_arp.h).
const (
	ARPHardwareEther = 1 // ARPHRD_ETHER
	ARPRequest       = 1 // ARPOP_REQUEST
	ARPReply         = 2 // ARPOP_REPLY
)

// ARP is a view of an ARP packet for Ethernet hardware and IPv4 protocol
// addresses (RFC 826).
type ARP []byte

var (
	errARPShort = newErr("arp: packet shorter than 28 bytes", ErrTruncated)
	errARPHType = newErr("arp: hardware type is not Ethernet", ErrBadField)
	errARPPType = newErr("arp: protocol type is not IPv4", ErrBadField)
	errARPHLen  = newErr("arp: hardware address length is not 6", ErrBadLength)
	errARPPLen  = newErr("arp: protocol address length is not 4", ErrBadLength)
	errARPOp    = newErr("arp: opcode is neither request nor reply", ErrBadField)
	errARPAddr  = newErr("arp: address is not IPv4", ErrBadField)
)

// ParseARP validates b as Linux's arp_rcv and arp_process do for an
// Ethernet device: hardware type 1, protocol 0x0800, address lengths 6
// and 4, opcode request or reply. Trailing bytes (frame padding) are
// allowed and not part of the view.
func ParseARP(b []byte) (ARP, error) {
	if len(b) < ARPLen {
		return nil, errARPShort
	}
	a := ARP(b[:ARPLen])
	switch {
	case a.HardwareType() != ARPHardwareEther:
		return nil, errARPHType
	case a.ProtocolType() != EtherTypeIPv4:
		return nil, errARPPType
	case a[4] != 6:
		return nil, errARPHLen
	case a[5] != 4:
		return nil, errARPPLen
	case a.Op() != ARPRequest && a.Op() != ARPReply:
		return nil, errARPOp
	}
	return a, nil
}

// HardwareType returns ar_hrd.
func (a ARP) HardwareType() uint16 { return binary.BigEndian.Uint16(a[0:2]) }

// ProtocolType returns ar_pro.
func (a ARP) ProtocolType() EtherType { return EtherType(binary.BigEndian.Uint16(a[2:4])) }

// Op returns ar_op.
func (a ARP) Op() uint16 { return binary.BigEndian.Uint16(a[6:8]) }

// SenderMAC returns the sender hardware address.
func (a ARP) SenderMAC() MAC { return MAC(a[8:14]) }

// SenderIP returns the sender protocol address.
func (a ARP) SenderIP() netip.Addr { return netip.AddrFrom4([4]byte(a[14:18])) }

// TargetMAC returns the target hardware address.
func (a ARP) TargetMAC() MAC { return MAC(a[18:24]) }

// TargetIP returns the target protocol address.
func (a ARP) TargetIP() netip.Addr { return netip.AddrFrom4([4]byte(a[24:28])) }

// SetOp sets ar_op.
func (a ARP) SetOp(op uint16) { binary.BigEndian.PutUint16(a[6:8], op) }

// SetSenderMAC sets the sender hardware address.
func (a ARP) SetSenderMAC(m MAC) { copy(a[8:14], m[:]) }

// SetTargetMAC sets the target hardware address.
func (a ARP) SetTargetMAC(m MAC) { copy(a[18:24], m[:]) }

// SetSenderIP sets the sender protocol address; it fails unless ip is
// IPv4 (or IPv4-mapped).
func (a ARP) SetSenderIP(ip netip.Addr) error { return putAddr4(a[14:18], ip, errARPAddr) }

// SetTargetIP sets the target protocol address; it fails unless ip is
// IPv4 (or IPv4-mapped).
func (a ARP) SetTargetIP(ip netip.Addr) error { return putAddr4(a[24:28], ip, errARPAddr) }

func putAddr4(b []byte, ip netip.Addr, bad error) error {
	ip = ip.Unmap()
	if !ip.Is4() {
		return bad
	}
	v := ip.As4()
	copy(b, v[:])
	return nil
}

// ARPFields are the variable fields of an Ethernet/IPv4 ARP packet.
type ARPFields struct {
	Op                   uint16
	SenderMAC, TargetMAC MAC
	SenderIP, TargetIP   netip.Addr
}

// Fields returns the packet's variable fields.
func (a ARP) Fields() ARPFields {
	return ARPFields{Op: a.Op(), SenderMAC: a.SenderMAC(), TargetMAC: a.TargetMAC(),
		SenderIP: a.SenderIP(), TargetIP: a.TargetIP()}
}

// BuildARP writes an Ethernet/IPv4 ARP packet into b[:28] and returns the
// view. The opcode must be request or reply and both addresses IPv4.
func BuildARP(b []byte, f *ARPFields) (ARP, error) {
	if len(b) < ARPLen {
		return nil, errARPShort
	}
	if f.Op != ARPRequest && f.Op != ARPReply {
		return nil, errARPOp
	}
	a := ARP(b[:ARPLen])
	if err := a.SetSenderIP(f.SenderIP); err != nil {
		return nil, err
	}
	if err := a.SetTargetIP(f.TargetIP); err != nil {
		return nil, err
	}
	binary.BigEndian.PutUint16(a[0:2], ARPHardwareEther)
	binary.BigEndian.PutUint16(a[2:4], uint16(EtherTypeIPv4))
	a[4], a[5] = 6, 4
	a.SetOp(f.Op)
	a.SetSenderMAC(f.SenderMAC)
	a.SetTargetMAC(f.TargetMAC)
	return a, nil
}
