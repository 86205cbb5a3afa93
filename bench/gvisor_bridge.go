package bench

import (
	"fmt"
	"time"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	"gvisor.dev/gvisor/pkg/tcpip/link/ethernet"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// gvisorBridgeForward is the peer of usnetBridgeForward: gVisor's bridge
// (stack.BridgeEndpoint, a NIC that other NICs join with
// SetNICCoordinator) with four Ethernet-over-channel port NICs. Frames
// are injected into one port and forwarded in the injecting goroutine;
// the other ports' channels are drained. gVisor's bridge learns without
// ageing, floods unknown destinations, and also hands every frame to the
// bridge NIC's own network stack (which drops these: they are for other
// hosts).
func gvisorBridgeForward(env *Env) (Figures, string, error) {
	s, err := gvNewStack()
	if err != nil {
		return nil, "", err
	}
	defer func() { s.Close(); s.Wait() }()
	const brNIC = 100
	if err := s.CreateNIC(brNIC, stack.NewBridgeEndpoint(1500)); err != nil {
		return nil, "", fmt.Errorf("gvisor bridge NIC: %v", err)
	}
	eps := make([]*channel.Endpoint, bridgePorts)
	for i := range eps {
		eps[i] = channel.New(4096, 1500, tcpip.LinkAddress([]byte{0x02, 0, 0, 2, 0, byte(i)}))
		defer eps[i].Close()
		nic := tcpip.NICID(i + 1)
		if err := s.CreateNIC(nic, ethernet.New(eps[i])); err != nil {
			return nil, "", fmt.Errorf("gvisor port NIC: %v", err)
		}
		if err := s.SetNICCoordinator(nic, brNIC); err != nil {
			return nil, "", fmt.Errorf("gvisor SetNICCoordinator: %v", err)
		}
	}
	frames := bridgeFrames()
	inject := func(ep *channel.Endpoint, f []byte) {
		pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithData(f)})
		ep.InjectInbound(0, pkt)
		pkt.DecRef()
	}
	drain := func() int {
		n := 0
		for _, ep := range eps {
			n += ep.Drain()
		}
		return n
	}
	for i, f := range frames {
		inject(eps[i%bridgePorts], f)
		drain() // unknown destinations are flooded while learning
	}
	budget := Pick(env, 2*time.Second, 100*time.Millisecond)
	const batch = 64
	sent, got, next := 0, 0, 0
	start := time.Now()
	for sent < 1024 || time.Since(start) < budget {
		for range 16 {
			in := eps[next%bridgePorts]
			for j := range batch {
				inject(in, frames[(next+j*bridgePorts)%bridgeMACs])
			}
			sent += batch
			got += drain()
			next = (next + 1) % bridgeMACs
		}
	}
	el := time.Since(start)
	if got != sent {
		return nil, "", fmt.Errorf("gvisor bridge forwarded %d of %d frames", got, sent)
	}
	return Figures{"forward": float64(sent) / el.Seconds()},
		fmt.Sprintf("%d frames in batches of %d into one of %d Ethernet-over-channel port NICs of stack.BridgeEndpoint, %d learned MACs", sent, batch, bridgePorts, bridgeMACs), nil
}
