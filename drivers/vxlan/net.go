package vxlan

import (
	"fmt"
	"net/netip"

	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/netns"
	"github.com/usnet/usnet/udp"
)

// Net is the VXLAN state of one namespace (struct vxlan_net): the layers
// a tunnel uses, its devices and its UDP sockets by port. Executor only,
// except Attach and Lookup.
type Net struct {
	devs  *netdev.Table
	ip    *ipv4.Layer
	udp   *udp.Table
	list  []*Dev
	socks map[uint16]*sock
	salt  uint32 // source-port hash seed (vxlan_salt)
}

// netKey is the key of a namespace's VXLAN state (vxlan_net_id).
type netKey struct{}

// Attach makes VXLAN devices available in the namespace whose device
// table, IPv4 layer and UDP table are given (vxlan_init_net). Call it on
// the namespace executor; attaching twice returns the existing state.
func Attach(devs *netdev.Table, ip *ipv4.Layer, u *udp.Table) *Net {
	n := devs.Net()
	if vn := Lookup(n); vn != nil {
		return vn
	}
	vn := &Net{devs: devs, ip: ip, udp: u, socks: map[uint16]*sock{}, salt: n.Exec().Rand().Uint32()}
	n.SetGeneric(netKey{}, vn)
	return vn
}

// Lookup returns the VXLAN state of namespace n, or nil when Attach was
// never called for it.
func Lookup(n *netns.Net) *Net {
	vn, _ := n.Generic(netKey{}).(*Net)
	return vn
}

// Devices returns the namespace's VXLAN devices in creation order.
func (vn *Net) Devices() []*Dev { return vn.list }

func (vn *Net) add(v *Dev) { vn.list = append(vn.list, v) }

func (vn *Net) remove(v *Dev) {
	for i, o := range vn.list {
		if o == v {
			vn.list = append(vn.list[:i], vn.list[i+1:]...)
			return
		}
	}
}

// find returns the device with this port and VNI (vxlan_vni_in_use; the
// local address only matters across families, which usnet does not have).
func (vn *Net) find(port uint16, vni uint32, _ netip.Addr) *Dev {
	for _, v := range vn.list {
		if v.cfg.Port == port && v.cfg.VNI == vni {
			return v
		}
	}
	return nil
}

// sockGet returns the tunnel socket of port, binding it on first use
// (vxlan_sock_add → vxlan_socket_create): EADDRINUSE when an application
// socket holds the port.
func (vn *Net) sockGet(port uint16) (*sock, error) {
	if s := vn.socks[port]; s != nil {
		s.refs++
		return s, nil
	}
	us := vn.udp.NewSock()
	if err := us.Bind(netip.AddrPortFrom(netip.IPv4Unspecified(), port)); err != nil {
		return nil, fmt.Errorf("vxlan: bind port %d: %w", port, err)
	}
	s := &sock{port: port, us: us, refs: 1, vnis: map[uint32]*Dev{}}
	us.SetEncapRcv(func(b *skbBuf, from, to netip.AddrPort, dev *netdev.Device) { vn.rcv(s, b, from, to, dev) })
	vn.socks[port] = s
	return s, nil
}

func (vn *Net) sockPut(s *sock) {
	s.refs--
	if s.refs > 0 {
		return
	}
	s.us.SetEncapRcv(nil)
	s.us.Close()
	delete(vn.socks, s.port)
}
