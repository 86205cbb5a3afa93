package rtmsg

import (
	"encoding/binary"

	"github.com/usnet/usnet/netlink"
	"golang.org/x/sys/unix"
)

// MacvlanInfo is a macvlan's IFLA_INFO_DATA (IFLA_MACVLAN_*). The Has*
// fields tell which attributes were present.
type MacvlanInfo struct {
	Mode        uint32    // IFLA_MACVLAN_MODE
	Flags       uint16    // IFLA_MACVLAN_FLAGS
	MACAddrMode uint32    // IFLA_MACVLAN_MACADDR_MODE (requests)
	MACAddr     [6]byte   // IFLA_MACVLAN_MACADDR (requests: add/del)
	MACAddrs    [][6]byte // IFLA_MACVLAN_MACADDR_DATA
	Count       uint32    // IFLA_MACVLAN_MACADDR_COUNT
	BCQueueLen  uint32    // IFLA_MACVLAN_BC_QUEUE_LEN
	BCQueueUsed uint32    // IFLA_MACVLAN_BC_QUEUE_LEN_USED
	BCCutoff    int32     // IFLA_MACVLAN_BC_CUTOFF

	HasMode, HasFlags, HasMACAddrMode, HasMACAddr, HasMACAddrs, HasCount bool
	HasBCQueueLen, HasBCQueueUsed, HasBCCutoff                           bool
}

// maxMacvlanAddrs bounds IFLA_MACVLAN_MACADDR_DATA.
const maxMacvlanAddrs = 4096

// DecodeMacvlan reads IFLA_INFO_DATA of a macvlan or macvtap.
func DecodeMacvlan(data []byte) (MacvlanInfo, error) {
	var m MacvlanInfo
	d := netlink.NewAttributeDecoder(data)
	u32 := func(name uint16) (uint32, error) {
		b := d.Bytes()
		if len(b) < 4 {
			return 0, &SizeError{Type: name, Got: len(b), Want: 4, Min: true}
		}
		return binary.NativeEndian.Uint32(b), nil
	}
	var err error
	for d.Next() {
		b := d.Bytes()
		switch t := d.Type(); t {
		case unix.IFLA_MACVLAN_MODE:
			m.Mode, err = u32(t)
			m.HasMode = true
		case unix.IFLA_MACVLAN_FLAGS:
			if len(b) < 2 {
				return m, &SizeError{Type: t, Got: len(b), Want: 2, Min: true}
			}
			m.Flags, m.HasFlags = binary.NativeEndian.Uint16(b), true
		case unix.IFLA_MACVLAN_MACADDR_MODE:
			m.MACAddrMode, err = u32(t)
			m.HasMACAddrMode = true
		case unix.IFLA_MACVLAN_MACADDR:
			if len(b) < 6 {
				return m, &SizeError{Type: t, Got: len(b), Want: 6, Min: true}
			}
			m.MACAddr, m.HasMACAddr = [6]byte(b[:6]), true
		case unix.IFLA_MACVLAN_MACADDR_DATA:
			m.HasMACAddrs = true
			n := netlink.NewAttributeDecoder(b)
			for n.Next() {
				if n.Type() == unix.IFLA_MACVLAN_MACADDR && len(n.Bytes()) >= 6 && len(m.MACAddrs) < maxMacvlanAddrs {
					m.MACAddrs = append(m.MACAddrs, [6]byte(n.Bytes()[:6]))
				}
			}
			if n.Err() != nil {
				return m, n.Err()
			}
		case unix.IFLA_MACVLAN_MACADDR_COUNT:
			m.Count, err = u32(t)
			m.HasCount = true
		case unix.IFLA_MACVLAN_BC_QUEUE_LEN:
			m.BCQueueLen, err = u32(t)
			m.HasBCQueueLen = true
		case unix.IFLA_MACVLAN_BC_QUEUE_LEN_USED:
			m.BCQueueUsed, err = u32(t)
			m.HasBCQueueUsed = true
		case unix.IFLA_MACVLAN_BC_CUTOFF:
			var v uint32
			v, err = u32(t)
			m.BCCutoff, m.HasBCCutoff = int32(v), true
		}
		if err != nil {
			return m, err
		}
	}
	return m, d.Err()
}

// Encode appends the attributes that are present in the order
// macvlan_fill_info puts them: mode, flags, count, addresses, broadcast
// queue lengths, cutoff; a request's MACADDR_MODE and MACADDR follow.
func (m *MacvlanInfo) Encode(e *netlink.AttributeEncoder) {
	if m.HasMode {
		e.Uint32(unix.IFLA_MACVLAN_MODE, m.Mode)
	}
	if m.HasFlags {
		e.Uint16(unix.IFLA_MACVLAN_FLAGS, m.Flags)
	}
	if m.HasCount {
		e.Uint32(unix.IFLA_MACVLAN_MACADDR_COUNT, m.Count)
	}
	if m.HasMACAddrMode {
		e.Uint32(unix.IFLA_MACVLAN_MACADDR_MODE, m.MACAddrMode)
	}
	if m.HasMACAddr {
		e.PutBytes(unix.IFLA_MACVLAN_MACADDR, m.MACAddr[:])
	}
	if m.HasMACAddrs {
		n := e.BeginNest(unix.IFLA_MACVLAN_MACADDR_DATA)
		for _, a := range m.MACAddrs {
			e.PutBytes(unix.IFLA_MACVLAN_MACADDR, a[:])
		}
		e.EndNest(n)
	}
	if m.HasBCQueueLen {
		e.Uint32(unix.IFLA_MACVLAN_BC_QUEUE_LEN, m.BCQueueLen)
	}
	if m.HasBCQueueUsed {
		e.Uint32(unix.IFLA_MACVLAN_BC_QUEUE_LEN_USED, m.BCQueueUsed)
	}
	if m.HasBCCutoff {
		e.Int32(unix.IFLA_MACVLAN_BC_CUTOFF, m.BCCutoff)
	}
}
