package bench

import (
	"fmt"
	"net/netip"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"

	"github.com/usnet/usnet/bench/measure"
)

// udpPayload64 is the UDP payload that makes a 64-byte Ethernet frame:
// 14 Ethernet + 20 IPv4 + 8 UDP + 18 payload + 4 FCS.
const udpPayload64 = 18

// gvUDPRate sends udpPayload64-byte datagrams from src to dst (dst must be
// on stack rx) and returns received and sent packets per second.
func gvUDPRate(env *Env, tx, rx *stack.Stack, src, dst netip.Addr) (Figures, string, error) {
	dur := Pick(env, 2*time.Second, 200*time.Millisecond)
	la := gvFull(netip.AddrPortFrom(dst, 5301))
	rc, err := gonet.DialUDP(rx, &la, nil, ipv4.ProtocolNumber)
	if err != nil {
		return nil, "", err
	}
	defer rc.Close()
	sa := gvFull(netip.AddrPortFrom(src, 0))
	tc, err := gonet.DialUDP(tx, &sa, &la, ipv4.ProtocolNumber)
	if err != nil {
		return nil, "", err
	}
	defer tc.Close()
	rxp, txp := measure.UDPRate(rc, tc, udpPayload64, dur)
	return Figures{"rx": rxp, "tx": txp}, fmt.Sprintf("%v of %d-byte payloads (64-byte frames), one sender goroutine", dur, udpPayload64), nil
}

func gvisorUDPPPS(env *Env) (Figures, string, error) {
	a, b, closeAll, err := gvPair(1500)
	if err != nil {
		return nil, "", err
	}
	defer closeAll()
	return gvUDPRate(env, a, b, addrA, addrB)
}

// gvisorForward runs the UDP rate test from A to B through router R:
// three stacks, R with IPv4 forwarding on.
func gvisorForward(env *Env) (Figures, string, error) {
	var ss [3]*stack.Stack
	for i := range ss {
		s, err := gvNewStack()
		if err != nil {
			return nil, "", err
		}
		ss[i] = s
		defer func() { s.Close(); s.Wait() }()
	}
	a, r, b := ss[0], ss[1], ss[2]
	if err := gvLink(gvIface{a, 1, netip.PrefixFrom(addrA, 24)}, gvIface{r, 1, netip.PrefixFrom(addrRA, 24)}, 1500); err != nil {
		return nil, "", err
	}
	if err := gvLink(gvIface{r, 2, netip.PrefixFrom(addrRB, 24)}, gvIface{b, 1, netip.PrefixFrom(addrB2, 24)}, 1500); err != nil {
		return nil, "", err
	}
	a.AddRoute(tcpip.Route{Destination: gvSubnet(netip.MustParsePrefix("0.0.0.0/0")), Gateway: gvAddr(addrRA), NIC: 1})
	b.AddRoute(tcpip.Route{Destination: gvSubnet(netip.MustParsePrefix("0.0.0.0/0")), Gateway: gvAddr(addrRB), NIC: 1})
	if err := r.SetForwardingDefaultAndAllNICs(ipv4.ProtocolNumber, true); err != nil {
		return nil, "", fmt.Errorf("gvisor forwarding: %v", err)
	}
	return gvUDPRate(env, a, b, addrA, addrB2)
}

func gvAddr(a netip.Addr) tcpip.Address { return tcpip.AddrFromSlice(a.AsSlice()) }
