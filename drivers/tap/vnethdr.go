package tap

import (
	"encoding/binary"

	"github.com/usnet/usnet/framedio"
	"github.com/usnet/usnet/skb"
)

// vnetHdrLen is sizeof(struct virtio_net_hdr); TUNSETVNETHDRSZ sets it.
const vnetHdrLen = 10

// virtio_net_hdr gso_type values (include/uapi/linux/virtio_net.h).
const (
	vnetGSONone  = 0
	vnetGSOTCPv4 = 1
	vnetGSOUDP   = 3 // UFO: never negotiated
	vnetGSOTCPv6 = 4
	vnetGSOUDPL4 = 5
	vnetGSOECN   = 0x80
)

// parseVnetHdr decodes a virtio_net_hdr (little endian: the TAP is not
// switched to big endian). A GSO type usnet has no counterpart for yields
// ok false: the frame cannot be handled as one segment.
func parseVnetHdr(h []byte) (m framedio.Meta, ok bool) {
	m.Flags = h[0] & (framedio.MetaNeedsCsum | framedio.MetaDataValid)
	m.HdrLen = binary.LittleEndian.Uint16(h[2:])
	m.GSOSize = binary.LittleEndian.Uint16(h[4:])
	m.CsumStart = binary.LittleEndian.Uint16(h[6:])
	m.CsumOffset = binary.LittleEndian.Uint16(h[8:])
	switch h[1] &^ vnetGSOECN {
	case vnetGSONone:
		m.GSOSize = 0
	case vnetGSOTCPv4:
		m.GSOType = skb.GSOTCPv4
	case vnetGSOTCPv6:
		m.GSOType = skb.GSOTCPv6
	case vnetGSOUDPL4:
		m.GSOType = skb.GSOUDP
	default:
		return m, false
	}
	return m, true
}

// putVnetHdr encodes m into h (all zero for a plain frame).
func putVnetHdr(h []byte, m *framedio.Meta) {
	clear(h[:vnetHdrLen])
	if m == nil {
		return
	}
	h[0] = m.Flags & framedio.MetaNeedsCsum
	switch m.GSOType {
	case skb.GSOTCPv4:
		h[1] = vnetGSOTCPv4
	case skb.GSOTCPv6:
		h[1] = vnetGSOTCPv6
	case skb.GSOUDP:
		h[1] = vnetGSOUDPL4
	}
	if h[1] != vnetGSONone {
		binary.LittleEndian.PutUint16(h[2:], m.HdrLen)
		binary.LittleEndian.PutUint16(h[4:], m.GSOSize)
	}
	if h[0] != 0 {
		binary.LittleEndian.PutUint16(h[6:], m.CsumStart)
		binary.LittleEndian.PutUint16(h[8:], m.CsumOffset)
	}
}
