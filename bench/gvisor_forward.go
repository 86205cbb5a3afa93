package bench

import (
	"fmt"
	"net/netip"
	"time"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	"gvisor.dev/gvisor/pkg/tcpip/link/ethernet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// gvisorForwardCore is the peer of usnetForwardCore: one gVisor stack
// with forwarding on and two Ethernet NICs over channel endpoints; the
// caller injects ready-made 64-byte frames into NIC 1 in batches of 64
// (gVisor forwards them synchronously, in the injecting goroutine) and
// drains what NIC 2 transmits toward a static neighbour.
func gvisorForwardCore(env *Env) (Figures, string, error) {
	s, err := gvNewStack()
	if err != nil {
		return nil, "", err
	}
	defer func() { s.Close(); s.Wait() }()
	macIn := tcpip.LinkAddress([]byte{0x02, 0, 0, 0, 1, 0xa})
	macOut := tcpip.LinkAddress([]byte{0x02, 0, 0, 0, 2, 0xa})
	in, out := channel.New(1024, 1500, macIn), channel.New(1024, 1500, macOut)
	defer in.Close()
	defer out.Close()
	for i, x := range []struct {
		ep *channel.Endpoint
		p  netip.Prefix
	}{{in, netip.PrefixFrom(addrRA, 24)}, {out, netip.PrefixFrom(addrRB, 24)}} {
		nic := tcpip.NICID(i + 1)
		if err := s.CreateNIC(nic, ethernet.New(x.ep)); err != nil {
			return nil, "", fmt.Errorf("gvisor CreateNIC: %v", err)
		}
		pa := tcpip.ProtocolAddress{Protocol: ipv4.ProtocolNumber, AddressWithPrefix: gvAddr(x.p.Addr()).WithPrefix()}
		pa.AddressWithPrefix.PrefixLen = x.p.Bits()
		if err := s.AddProtocolAddress(nic, pa, stack.AddressProperties{}); err != nil {
			return nil, "", fmt.Errorf("gvisor AddProtocolAddress: %v", err)
		}
		s.AddRoute(tcpip.Route{Destination: gvSubnet(x.p.Masked()), NIC: nic})
	}
	if err := s.SetForwardingDefaultAndAllNICs(ipv4.ProtocolNumber, true); err != nil {
		return nil, "", fmt.Errorf("gvisor forwarding: %v", err)
	}
	sink := netip.MustParseAddr("10.201.1.3")
	if err := s.AddStaticNeighbor(2, ipv4.ProtocolNumber, gvAddr(sink), tcpip.LinkAddress([]byte{0x02, 0, 0, 0, 0, 0x99})); err != nil {
		return nil, "", fmt.Errorf("gvisor static neighbour: %v", err)
	}
	frame := udpFrame64([6]byte([]byte(macIn)), [6]byte{0x02, 0, 0, 0, 0, 0x1}, addrA, sink)
	budget := Pick(env, 2*time.Second, 100*time.Millisecond)
	const batch = 64
	sent, got := 0, 0
	start := time.Now()
	for sent < 1024 || time.Since(start) < budget {
		for range 16 {
			for range batch {
				pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithData(frame)})
				in.InjectInbound(0, pkt)
				pkt.DecRef()
			}
			sent += batch
			got += out.Drain()
		}
	}
	el := time.Since(start)
	if got != sent {
		return nil, "", fmt.Errorf("gvisor forwarded %d of %d frames", got, sent)
	}
	return Figures{"forward": float64(sent) / el.Seconds()},
		fmt.Sprintf("%d frames injected into an Ethernet-over-channel NIC in batches of %d, forwarded in the injecting goroutine", sent, batch), nil
}
