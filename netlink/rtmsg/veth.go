package rtmsg

import (
	"github.com/usnet/usnet/netlink"
)

// VethInfoPeer is VETH_INFO_PEER (include/uapi/linux/veth.h), the one
// attribute of a veth's IFLA_INFO_DATA.
const VethInfoPeer = 1

// DecodeVethPeer reads the peer description from a veth IFLA_INFO_DATA
// payload: VETH_INFO_PEER holds a struct ifinfomsg followed by the peer's
// own IFLA_* attributes (name, address, mtu, netns...). found is false
// when the data has no peer, which the kernel accepts (it then picks a
// name).
func DecodeVethPeer(data []byte) (peer Link, found bool, err error) {
	d := netlink.NewAttributeDecoder(data)
	for d.Next() {
		if d.Type() != VethInfoPeer {
			continue
		}
		if err := peer.UnmarshalBinary(d.Bytes()); err != nil {
			return Link{}, false, err
		}
		return peer, true, nil
	}
	return Link{}, false, d.Err()
}

// EncodeVethPeer builds a veth IFLA_INFO_DATA payload holding peer.
func EncodeVethPeer(peer *Link) ([]byte, error) {
	e := netlink.NewAttributeEncoder(nil)
	n := e.BeginNest(VethInfoPeer)
	peer.Encode(e)
	e.EndNest(n)
	return e.Bytes(), e.Err()
}
