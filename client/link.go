package client

import (
	"net"
	"syscall"

	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

// Link is a network device as RTM_NEWLINK describes it.
type Link struct {
	Index        int
	Name         string
	Kind         string // IFLA_INFO_KIND: "veth", "dummy"...; "" for lo
	MTU          int
	Flags        uint32 // IFF_*
	OperState    OperState
	HardwareAddr net.HardwareAddr
	Master       int // ifindex of the master device, 0 if none
	ParentIndex  int // IFLA_LINK: a veth's peer, a vlan's lower device
	TxQLen       int
	Alias        string
	Stats        *rtmsg.LinkStats64

	// Raw is the decoded message, for attributes not lifted above.
	Raw *rtmsg.Link
}

// Up reports whether the device is administratively up (IFF_UP).
func (l *Link) Up() bool { return l.Flags&unix.IFF_UP != 0 }

// OperState is RFC 2863's operational state (IF_OPER_*).
type OperState uint8

var operNames = [...]string{"UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP"}

// String spells the state as `ip link` does.
func (s OperState) String() string {
	if int(s) < len(operNames) {
		return operNames[s]
	}
	return "UNKNOWN"
}

func linkFrom(m *rtmsg.Link) Link {
	l := Link{
		Index:       int(m.Index),
		Name:        m.Name,
		MTU:         int(m.MTU),
		Flags:       m.Flags,
		OperState:   OperState(m.OperState),
		Master:      int(m.Master),
		ParentIndex: int(m.Link),
		TxQLen:      int(m.TxQLen),
		Alias:       m.Alias,
		Stats:       m.Stats64,
		Raw:         m,
	}
	if len(m.Address) > 0 {
		l.HardwareAddr = net.HardwareAddr(m.Address)
	}
	if m.Info != nil {
		l.Kind = m.Info.Kind
	}
	return l
}

func decodeLinkMsg(data []byte) (Link, error) {
	m := new(rtmsg.Link)
	if err := m.UnmarshalBinary(data); err != nil {
		return Link{}, err
	}
	return linkFrom(m), nil
}

// LinkSpec describes a device to create (`ip link add`).
type LinkSpec struct {
	Name         string
	Kind         string // "dummy", "veth", ...
	MTU          int    // 0: the kind's default
	HardwareAddr net.HardwareAddr
	TxQLen       int
	Up           bool // create it administratively up

	// Peer names a veth's other end ("" lets the server choose), in
	// PeerNamespace ("" = the same namespace).
	Peer          string
	PeerNamespace string
}

// Links lists the devices (`ip link show`), in ifindex order.
func (n *Namespace) Links() ([]Link, error) {
	var out []Link
	hdr := rtmsg.Link{}
	p, _ := hdr.MarshalBinary()
	err := n.request(func(c *conn) error {
		return c.dump(unix.RTM_GETLINK, p, func(h netlink.Header, data []byte) error {
			if h.Type != unix.RTM_NEWLINK {
				return nil
			}
			l, err := decodeLinkMsg(data)
			if err != nil {
				return err
			}
			out = append(out, l)
			return nil
		})
	})
	return out, wrap("link show", err)
}

// Link returns the device called name (ENODEV when there is none).
func (n *Namespace) Link(name string) (Link, error) {
	m := rtmsg.Link{Name: name}
	m.Attrs.Set(unix.IFLA_IFNAME)
	p, err := m.MarshalBinary()
	if err != nil {
		return Link{}, wrap("link show", err)
	}
	var out Link
	found := false
	err = n.request(func(c *conn) error {
		return c.do(unix.RTM_GETLINK, 0, p, func(h netlink.Header, data []byte) error {
			if h.Type != unix.RTM_NEWLINK {
				return nil
			}
			l, err := decodeLinkMsg(data)
			out, found = l, err == nil
			return err
		})
	})
	if err == nil && !found {
		err = syscall.ENODEV
	}
	return out, wrap("link show", err)
}

// AddLink creates a device (RTM_NEWLINK with NLM_F_CREATE|NLM_F_EXCL):
// EEXIST when the name is taken.
func (n *Namespace) AddLink(s LinkSpec) error {
	m := rtmsg.Link{Name: s.Name, MTU: uint32(s.MTU), Address: s.HardwareAddr, TxQLen: uint32(s.TxQLen)}
	if s.Name != "" {
		m.Attrs.Set(unix.IFLA_IFNAME)
	}
	if s.Up {
		m.Flags, m.Change = unix.IFF_UP, unix.IFF_UP
	}
	m.Info = &rtmsg.LinkInfo{Kind: s.Kind}
	if s.Kind == "veth" && (s.Peer != "" || s.PeerNamespace != "") {
		peer := rtmsg.Link{Name: s.Peer}
		if s.Peer != "" {
			peer.Attrs.Set(unix.IFLA_IFNAME)
		}
		if s.PeerNamespace != "" {
			id, err := n.c.nsID(s.PeerNamespace)
			if err != nil {
				return wrap("link add", err)
			}
			peer.NetNSPid = id
			peer.Attrs.Set(unix.IFLA_NET_NS_PID)
		}
		data, err := rtmsg.EncodeVethPeer(&peer)
		if err != nil {
			return wrap("link add", err)
		}
		m.Info.Data = data
	}
	return n.linkReq("link add", unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, &m)
}

// SetLinkUp sets the device administratively up (`ip link set NAME up`).
func (n *Namespace) SetLinkUp(name string) error { return n.setFlags("link set up", name, unix.IFF_UP) }

// SetLinkDown sets the device down (`ip link set NAME down`).
func (n *Namespace) SetLinkDown(name string) error { return n.setFlags("link set down", name, 0) }

func (n *Namespace) setFlags(op, name string, flags uint32) error {
	m := rtmsg.Link{Name: name, Flags: flags, Change: unix.IFF_UP}
	m.Attrs.Set(unix.IFLA_IFNAME)
	return n.linkReq(op, unix.RTM_NEWLINK, 0, &m)
}

// SetMTU changes the device's MTU (`ip link set NAME mtu N`).
func (n *Namespace) SetMTU(name string, mtu int) error {
	m := rtmsg.Link{Name: name, MTU: uint32(mtu)}
	m.Attrs.Set(unix.IFLA_IFNAME)
	m.Attrs.Set(unix.IFLA_MTU)
	return n.linkReq("link set mtu", unix.RTM_NEWLINK, 0, &m)
}

// SetLinkNamespace moves the device into namespace ns (`ip link set NAME
// netns NS`).
func (n *Namespace) SetLinkNamespace(name, ns string) error {
	id, err := n.c.nsID(ns)
	if err != nil {
		return wrap("link set netns", err)
	}
	m := rtmsg.Link{Name: name, NetNSPid: id}
	m.Attrs.Set(unix.IFLA_IFNAME)
	m.Attrs.Set(unix.IFLA_NET_NS_PID)
	return n.linkReq("link set netns", unix.RTM_NEWLINK, 0, &m)
}

// DelLink deletes the device (a veth takes its peer with it).
func (n *Namespace) DelLink(name string) error {
	m := rtmsg.Link{Name: name}
	m.Attrs.Set(unix.IFLA_IFNAME)
	return n.linkReq("link del", unix.RTM_DELLINK, 0, &m)
}

func (n *Namespace) linkReq(op string, typ, flags uint16, m *rtmsg.Link) error {
	p, err := m.MarshalBinary()
	if err != nil {
		return wrap(op, err)
	}
	return wrap(op, n.request(func(c *conn) error { return c.do(typ, flags, p, nil) }))
}

// index resolves a device name to its ifindex ("" is 0).
func (n *Namespace) index(name string) (int, error) {
	if name == "" {
		return 0, nil
	}
	l, err := n.Link(name)
	if err != nil {
		return 0, err
	}
	return l.Index, nil
}

// names maps ifindexes to device names.
func (n *Namespace) names() (map[int]string, error) {
	ls, err := n.Links()
	if err != nil {
		return nil, err
	}
	m := make(map[int]string, len(ls))
	for _, l := range ls {
		m[l.Index] = l.Name
	}
	return m, nil
}
