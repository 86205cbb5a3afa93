package gvinterop

import (
	"fmt"
	"net/netip"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/arp"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"

	"github.com/usnet/usnet/framedio"
	usipv4 "github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/sched"
	"github.com/usnet/usnet/stack"
)

// Addresses of the two ends of the link.
var (
	UsnetAddr  = netip.MustParsePrefix("10.77.0.1/24")
	GVisorAddr = netip.MustParsePrefix("10.77.0.2/24")
)

// gvBufMax is the ceiling of gVisor's TCP buffers: Linux's tcp_rmem and
// tcp_wmem maxima are 6 and 4 MiB, so gVisor gets a window of that order
// rather than its smaller defaults.
const gvBufMax = 4 << 20

// RigConfig describes one usnet namespace linked to one gVisor stack.
type RigConfig struct {
	Port PortConfig
	// Netem, if non-zero, impairs what the usnet device transmits.
	Netem sched.NetemConfig
}

// Rig is a usnet namespace and a gVisor stack on one Ethernet link.
type Rig struct {
	US    *stack.Stack
	NS    *stack.Namespace
	Dev   *netdev.Device
	Port  *Port
	GV    *gvstack.Stack
	Netem *sched.Netem // nil without impairment
}

// NewRig builds the link. Neither side knows the other's MAC: the first
// packet each way resolves it with ARP.
func NewRig(c RigConfig) (*Rig, error) {
	if c.Port.MAC == ([6]byte{}) {
		c.Port.MAC = [6]byte{0x02, 0x67, 0x76, 0, 0, 2}
	}
	r := &Rig{Port: NewPort(c.Port)}
	us, err := stack.NewRealtime()
	if err != nil {
		return nil, err
	}
	r.US = us
	if r.NS, err = us.Add("gvlink"); err != nil {
		return nil, err
	}
	if r.Dev, err = framedio.NewDevice(r.NS.Dev, "gv0", r.Port); err != nil {
		r.US.Delete("gvlink")
		return nil, err
	}
	ns := r.NS
	ns.Exec().Do(func() {
		if err = ns.Lo.Up(); err != nil {
			return
		}
		if err = r.Dev.Up(); err != nil {
			return
		}
		_, err = ns.IPv4.AddAddr(usipv4.IfAddr{Dev: r.Dev, Local: UsnetAddr.Addr(), Prefix: UsnetAddr})
		if err == nil && c.Netem != (sched.NetemConfig{}) {
			r.Netem = sched.NewNetem(c.Netem, ns.Exec().Rand(), ns.Dev.Pool())
			r.Dev.SetQdisc(r.Netem)
		}
	})
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("usnet side: %w", err)
	}
	if r.GV, err = NewGVisor(r.Port.LinkEndpoint(), GVisorAddr); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// NetemStats returns the impairment counters (zero without netem).
func (r *Rig) NetemStats() sched.NetemStats {
	var s sched.NetemStats
	if r.Netem != nil {
		r.NS.Exec().Do(func() { s = r.Netem.Stats })
	}
	return s
}

// Close tears down both sides; deleting the usnet namespace unregisters
// the device, which closes the port.
func (r *Rig) Close() {
	if r.GV != nil {
		r.GV.Close()
		r.GV.Wait()
		r.GV = nil
	}
	if r.NS != nil {
		r.US.Delete("gvlink")
		r.NS = nil
	}
	r.Port.Close()
}

// NewGVisor returns a gVisor stack (IPv4, ARP, TCP with SACK and receive
// buffer moderation, Linux-sized buffers) whose NIC 1 is ep with addr.
func NewGVisor(ep gvstack.LinkEndpoint, addr netip.Prefix) (*gvstack.Stack, error) {
	s := gvstack.New(gvstack.Options{
		NetworkProtocols:   []gvstack.NetworkProtocolFactory{ipv4.NewProtocol, arp.NewProtocol},
		TransportProtocols: []gvstack.TransportProtocolFactory{tcp.NewProtocol},
	})
	sack := tcpip.TCPSACKEnabled(true)
	mod := tcpip.TCPModerateReceiveBufferOption(true)
	rcv := tcpip.TCPReceiveBufferSizeRangeOption{Min: 4096, Default: 1 << 20, Max: gvBufMax}
	snd := tcpip.TCPSendBufferSizeRangeOption{Min: 4096, Default: 1 << 20, Max: gvBufMax}
	for _, o := range []tcpip.SettableTransportProtocolOption{&sack, &mod, &rcv, &snd} {
		if err := s.SetTransportProtocolOption(tcp.ProtocolNumber, o); err != nil {
			s.Close()
			return nil, fmt.Errorf("gvisor tcp option %T: %v", o, err)
		}
	}
	if err := s.CreateNIC(1, ep); err != nil {
		s.Close()
		return nil, fmt.Errorf("gvisor CreateNIC: %v", err)
	}
	pa := tcpip.ProtocolAddress{
		Protocol:          ipv4.ProtocolNumber,
		AddressWithPrefix: tcpip.AddressWithPrefix{Address: tcpip.AddrFromSlice(addr.Addr().AsSlice()), PrefixLen: addr.Bits()},
	}
	if err := s.AddProtocolAddress(1, pa, gvstack.AddressProperties{}); err != nil {
		s.Close()
		return nil, fmt.Errorf("gvisor AddProtocolAddress: %v", err)
	}
	m := addr.Masked()
	mb := make([]byte, 4)
	for i := range m.Bits() {
		mb[i/8] |= 0x80 >> (i % 8)
	}
	mask := tcpip.MaskFromBytes(mb)
	sub, err := tcpip.NewSubnet(tcpip.AddrFromSlice(m.Addr().AsSlice()), mask)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("gvisor subnet: %v", err)
	}
	s.AddRoute(tcpip.Route{Destination: sub, NIC: 1})
	return s, nil
}

// FullAddr converts an address and port to gVisor's form.
func FullAddr(ap netip.AddrPort) tcpip.FullAddress {
	return tcpip.FullAddress{Addr: tcpip.AddrFromSlice(ap.Addr().AsSlice()), Port: ap.Port()}
}
