package header_test

import (
	"fmt"
	"net/netip"

	"github.com/usnet/usnet/header"
)

// Building a UDP datagram in one buffer, then receiving it the way the
// input path does: IP checks, then transport checks with the pseudo-header
// sum taken from the IP header.
func Example() {
	payload := "ping"
	pkt := make([]byte, header.IPv4MinLen+header.UDPLen+len(payload))
	src, dst := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")

	u, _ := header.BuildUDP(pkt[header.IPv4MinLen:], header.UDPFields{SrcPort: 4000, DstPort: 7})
	copy(u.Payload(), payload)
	u.FillChecksum(src, dst)
	header.BuildIPv4(pkt, &header.IPv4Fields{TTL: 64, Protocol: header.IPProtoUDP, Src: src, Dst: dst})

	ip, err := header.ParseIPv4(pkt)
	if err != nil {
		fmt.Println(err)
		return
	}
	d, err := header.ParseUDP(ip.Payload())
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := d.VerifyChecksumSum(ip.PseudoSum(len(d)), true); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ip.Src(), "->", ip.Dst(), "port", d.DstPort(), string(d.Payload()))

	pkt[8] = 1 // corrupt the TTL: the header checksum no longer holds
	_, err = header.ParseIPv4(pkt)
	fmt.Println(err)
	// Output:
	// 10.0.0.1 -> 10.0.0.2 port 7 ping
	// ipv4: header checksum: bad checksum
}
