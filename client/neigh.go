package client

import (
	"net"
	"net/netip"

	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

// Neighbour is a neighbour-table (ARP) entry.
type Neighbour struct {
	Dev    string
	Index  int
	Dst    netip.Addr
	LLAddr net.HardwareAddr
	State  uint16 // NUD_*; 0 on add means NUD_PERMANENT
	Flags  uint8  // NTF_*

	Raw *rtmsg.Neigh
}

func neighFrom(m *rtmsg.Neigh, names map[int]string) Neighbour {
	nb := Neighbour{Index: int(m.Index), Dev: names[int(m.Index)], Dst: m.Dst, State: m.State, Flags: m.Flags, Raw: m}
	if len(m.LLAddr) > 0 {
		nb.LLAddr = net.HardwareAddr(m.LLAddr)
	}
	return nb
}

// Neighbours lists the IPv4 neighbour entries (`ip neigh show`).
func (n *Namespace) Neighbours() ([]Neighbour, error) {
	names, err := n.names()
	if err != nil {
		return nil, wrap("neigh show", err)
	}
	var out []Neighbour
	hdr := rtmsg.Neigh{Family: unix.AF_INET}
	p, _ := hdr.MarshalBinary()
	err = n.request(func(c *conn) error {
		return c.dump(unix.RTM_GETNEIGH, p, func(h netlink.Header, data []byte) error {
			if h.Type != unix.RTM_NEWNEIGH {
				return nil
			}
			m := new(rtmsg.Neigh)
			if err := m.UnmarshalBinary(data); err != nil {
				return err
			}
			out = append(out, neighFrom(m, names))
			return nil
		})
	})
	return out, wrap("neigh show", err)
}

// AddNeigh adds an entry (`ip neigh add DST lladdr LL dev DEV [nud
// STATE]`): EEXIST when one exists.
func (n *Namespace) AddNeigh(nb Neighbour) error {
	if nb.State == 0 {
		nb.State = unix.NUD_PERMANENT
	}
	return n.neighReq("neigh add", unix.RTM_NEWNEIGH, unix.NLM_F_CREATE|unix.NLM_F_EXCL, nb)
}

// ReplaceNeigh adds or overwrites an entry (`ip neigh replace`).
func (n *Namespace) ReplaceNeigh(nb Neighbour) error {
	if nb.State == 0 {
		nb.State = unix.NUD_PERMANENT
	}
	return n.neighReq("neigh replace", unix.RTM_NEWNEIGH, unix.NLM_F_CREATE|unix.NLM_F_REPLACE, nb)
}

// DelNeigh deletes the entry for dst on dev (`ip neigh del`).
func (n *Namespace) DelNeigh(dev string, dst netip.Addr) error {
	return n.neighReq("neigh del", unix.RTM_DELNEIGH, 0, Neighbour{Dev: dev, Dst: dst})
}

func (n *Namespace) neighReq(op string, typ, flags uint16, nb Neighbour) error {
	idx := nb.Index
	if nb.Dev != "" {
		i, err := n.index(nb.Dev)
		if err != nil {
			return wrap(op, err)
		}
		idx = i
	}
	m := rtmsg.Neigh{Family: family(nb.Dst), Index: int32(idx), State: nb.State, Flags: nb.Flags, Type: unix.RTN_UNICAST, Dst: nb.Dst, LLAddr: nb.LLAddr}
	p, err := m.MarshalBinary()
	if err != nil {
		return wrap(op, err)
	}
	return wrap(op, n.request(func(c *conn) error { return c.do(typ, flags, p, nil) }))
}
