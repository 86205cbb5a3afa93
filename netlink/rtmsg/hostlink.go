package rtmsg

import (
	"github.com/usnet/usnet/netlink"
)

// usnet's own link kinds for host backends, created with RTM_NEWLINK like
// any kind (the kernel has no equivalent: its TAP devices are made with
// ioctls). IFLA_INFO_DATA carries:
//
//	kind "tap":      1 host interface name (string), 2 host netns path (string)
//	kind "afpacket": 1 host interface name (string), 2 host netns path (string),
//	                 3 mode (u32: 0 shared, 1 exclusive)
const (
	HostLinkIfname = 1
	HostLinkNetns  = 2
	HostLinkMode   = 3
)

// HostLink is the IFLA_INFO_DATA of the tap and afpacket kinds.
type HostLink struct {
	Ifname, Netns string
	Exclusive     bool
}

// EncodeHostLink encodes h as IFLA_INFO_DATA.
func EncodeHostLink(h HostLink) []byte {
	e := netlink.NewAttributeEncoder(nil)
	if h.Ifname != "" {
		e.String(HostLinkIfname, h.Ifname)
	}
	if h.Netns != "" {
		e.String(HostLinkNetns, h.Netns)
	}
	mode := uint32(0)
	if h.Exclusive {
		mode = 1
	}
	e.Uint32(HostLinkMode, mode)
	return e.Bytes()
}

// DecodeHostLink decodes IFLA_INFO_DATA of the tap and afpacket kinds.
func DecodeHostLink(b []byte) (HostLink, error) {
	var h HostLink
	d := netlink.NewAttributeDecoder(b)
	for d.Next() {
		switch d.Type() {
		case HostLinkIfname:
			h.Ifname = d.String()
		case HostLinkNetns:
			h.Netns = d.String()
		case HostLinkMode:
			v, err := d.Uint32()
			if err != nil {
				return h, err
			}
			h.Exclusive = v == 1
		}
	}
	return h, d.Err()
}
