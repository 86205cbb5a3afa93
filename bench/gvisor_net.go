package bench

import (
	"fmt"
	"net/netip"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/link/ethernet"
	"gvisor.dev/gvisor/pkg/tcpip/link/pipe"
	"gvisor.dev/gvisor/pkg/tcpip/network/arp"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
)

// gvisorBufMax is the TCP buffer ceiling given to gVisor stacks: Linux's
// default tcp_rmem/tcp_wmem maxima are 32 MiB (6 MiB before 6.18) and
// 4 MiB, so gVisor gets the same order of window rather than its smaller
// defaults.
const gvisorBufMax = 4 << 20

// gvNewStack returns a gVisor stack with IPv4, ARP, TCP and UDP, tuned the
// way an embedder of netstack typically does (SACK, receive-buffer
// moderation, Linux-sized buffers).
func gvNewStack() (*stack.Stack, error) {
	s := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol, arp.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol},
	})
	sack := tcpip.TCPSACKEnabled(true)
	mod := tcpip.TCPModerateReceiveBufferOption(true)
	rcv := tcpip.TCPReceiveBufferSizeRangeOption{Min: 4096, Default: 1 << 20, Max: gvisorBufMax}
	snd := tcpip.TCPSendBufferSizeRangeOption{Min: 4096, Default: 1 << 20, Max: gvisorBufMax}
	for _, o := range []tcpip.SettableTransportProtocolOption{&sack, &mod, &rcv, &snd} {
		if err := s.SetTransportProtocolOption(tcp.ProtocolNumber, o); err != nil {
			s.Close()
			return nil, fmt.Errorf("gvisor tcp option %T: %v", o, err)
		}
	}
	return s, nil
}

// gvIface is one end of a gVisor link: the stack, the NIC and its address.
type gvIface struct {
	S    *stack.Stack
	NIC  tcpip.NICID
	Addr netip.Prefix
}

// gvLink joins two stacks with a pipe link endpoint wrapped in Ethernet
// framing (so ARP resolves neighbours, as on a veth pair). mtu is the IP
// MTU; the pipe carries mtu+14 byte frames.
func gvLink(a, b gvIface, mtu uint32) error {
	macA := tcpip.LinkAddress([]byte{0x02, 0, 0, 0, byte(a.NIC), 0xa})
	macB := tcpip.LinkAddress([]byte{0x02, 0, 0, 0, byte(b.NIC), 0xb})
	pa, pb := pipe.New(macA, macB, mtu+14)
	for _, x := range []struct {
		ifc gvIface
		ep  stack.LinkEndpoint
	}{{a, ethernet.New(pa)}, {b, ethernet.New(pb)}} {
		if err := x.ifc.S.CreateNIC(x.ifc.NIC, x.ep); err != nil {
			return fmt.Errorf("gvisor CreateNIC: %v", err)
		}
		pa := tcpip.ProtocolAddress{
			Protocol:          ipv4.ProtocolNumber,
			AddressWithPrefix: tcpip.AddrFromSlice(x.ifc.Addr.Addr().AsSlice()).WithPrefix(),
		}
		pa.AddressWithPrefix.PrefixLen = x.ifc.Addr.Bits()
		if err := x.ifc.S.AddProtocolAddress(x.ifc.NIC, pa, stack.AddressProperties{}); err != nil {
			return fmt.Errorf("gvisor AddProtocolAddress: %v", err)
		}
		x.ifc.S.AddRoute(tcpip.Route{Destination: gvSubnet(x.ifc.Addr.Masked()), NIC: x.ifc.NIC})
	}
	return nil
}

// gvSubnet converts a netip prefix to a gVisor subnet.
func gvSubnet(p netip.Prefix) tcpip.Subnet {
	p = p.Masked()
	m := make([]byte, 4)
	for i := range p.Bits() {
		m[i/8] |= 0x80 >> (i % 8)
	}
	s, err := tcpip.NewSubnet(tcpip.AddrFromSlice(p.Addr().AsSlice()), tcpip.MaskFromBytes(m))
	if err != nil {
		panic(err) // unreachable: p is masked, so no host bits are set
	}
	return s
}

// gvFull is a gVisor transport address.
func gvFull(ap netip.AddrPort) tcpip.FullAddress {
	return tcpip.FullAddress{Addr: tcpip.AddrFromSlice(ap.Addr().AsSlice()), Port: ap.Port()}
}

// gvPair builds two stacks on one link (10.201.0.1/24 and 10.201.0.2/24).
func gvPair(mtu uint32) (a, b *stack.Stack, closeAll func(), err error) {
	a, err = gvNewStack()
	if err != nil {
		return nil, nil, nil, err
	}
	b, err = gvNewStack()
	if err != nil {
		a.Close()
		return nil, nil, nil, err
	}
	closeAll = func() {
		a.Close()
		b.Close()
		a.Wait()
		b.Wait()
	}
	err = gvLink(gvIface{a, 1, netip.MustParsePrefix("10.201.0.1/24")},
		gvIface{b, 1, netip.MustParsePrefix("10.201.0.2/24")}, mtu)
	if err != nil {
		closeAll()
		return nil, nil, nil, err
	}
	return a, b, closeAll, nil
}

var (
	addrA = netip.MustParseAddr("10.201.0.1")
	addrB = netip.MustParseAddr("10.201.0.2")
	// For the router scenarios: A 10.201.0.1 -- R 10.201.0.2 | 10.201.1.2 -- B 10.201.1.1.
	addrRA = netip.MustParseAddr("10.201.0.2")
	addrRB = netip.MustParseAddr("10.201.1.2")
	addrB2 = netip.MustParseAddr("10.201.1.1")
)
