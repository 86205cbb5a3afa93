package rtmsg

import (
	"encoding/binary"
	"unsafe"

	"github.com/usnet/usnet/netlink"
	"golang.org/x/sys/unix"
)

// LinkStats64 is struct rtnl_link_stats64 (IFLA_STATS64), 25 counters of
// 8 bytes as Linux 5.19 and later send it (200 bytes).
type LinkStats64 struct {
	RxPackets, TxPackets, RxBytes, TxBytes, RxErrors, TxErrors  uint64
	RxDropped, TxDropped, Multicast, Collisions                 uint64
	RxLengthErrors, RxOverErrors, RxCRCErrors, RxFrameErrors    uint64
	RxFIFOErrors, RxMissedErrors                                uint64
	TxAbortedErrors, TxCarrierErrors, TxFIFOErrors              uint64
	TxHeartbeatErrors, TxWindowErrors                           uint64
	RxCompressed, TxCompressed, RxNoHandler, RxOtherhostDropped uint64
}

// LinkStats is struct rtnl_link_stats (IFLA_STATS), the 32-bit counters:
// 24 counters of 4 bytes (96 bytes).
type LinkStats struct {
	RxPackets, TxPackets, RxBytes, TxBytes, RxErrors, TxErrors uint32
	RxDropped, TxDropped, Multicast, Collisions                uint32
	RxLengthErrors, RxOverErrors, RxCRCErrors, RxFrameErrors   uint32
	RxFIFOErrors, RxMissedErrors                               uint32
	TxAbortedErrors, TxCarrierErrors, TxFIFOErrors             uint32
	TxHeartbeatErrors, TxWindowErrors                          uint32
	RxCompressed, TxCompressed, RxNoHandler                    uint32
}

const (
	stats64Len = int(unsafe.Sizeof(LinkStats64{})) // 200
	statsLen   = int(unsafe.Sizeof(LinkStats{}))   // 96
	// Older kernels send fewer counters: before rx_nohandler (4.6) the
	// structs were 23 counters long. Shorter is ERANGE.
	stats64Min = 23 * 8
	statsMin   = 23 * 4
)

// fields64 views the struct as its counters, in wire order.
func (s *LinkStats64) fields() *[25]uint64 { return (*[25]uint64)(unsafe.Pointer(s)) }
func (s *LinkStats) fields() *[24]uint32   { return (*[24]uint32)(unsafe.Pointer(s)) }

// decode accepts the historical sizes and longer future ones (extra
// counters are ignored), as a client built against older headers does.
func (s *LinkStats64) decode(d *netlink.AttributeDecoder) error {
	b := d.Bytes()
	if len(b) < stats64Min || len(b)%8 != 0 {
		return &SizeError{Type: d.Type(), Got: len(b), Want: stats64Min, Min: true}
	}
	f := s.fields()
	for i := 0; i < len(f) && 8*i < len(b); i++ {
		f[i] = binary.NativeEndian.Uint64(b[8*i:])
	}
	return nil
}

func (s *LinkStats64) encode(e *netlink.AttributeEncoder) {
	var b [stats64Len]byte
	for i, v := range s.fields() {
		binary.NativeEndian.PutUint64(b[8*i:], v)
	}
	e.PutBytes(unix.IFLA_STATS64, b[:])
}

func (s *LinkStats) decode(d *netlink.AttributeDecoder) error {
	b := d.Bytes()
	if len(b) < statsMin || len(b)%4 != 0 {
		return &SizeError{Type: d.Type(), Got: len(b), Want: statsMin, Min: true}
	}
	f := s.fields()
	for i := 0; i < len(f) && 4*i < len(b); i++ {
		f[i] = binary.NativeEndian.Uint32(b[4*i:])
	}
	return nil
}

func (s *LinkStats) encode(e *netlink.AttributeEncoder) {
	var b [statsLen]byte
	for i, v := range s.fields() {
		binary.NativeEndian.PutUint32(b[4*i:], v)
	}
	e.PutBytes(iflaStats, b[:])
}
