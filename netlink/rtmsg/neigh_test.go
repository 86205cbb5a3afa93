package rtmsg

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestProxyNeighRoundTrip: a proxy entry as pneigh_fill_info writes it
// (NDA_DST, NDA_PROTOCOL) and the NDA_IFINDEX of a dump request.
func TestProxyNeighRoundTrip(t *testing.T) {
	roundTrip(t, unix.RTM_NEWNEIGH, &Neigh{Family: unix.AF_INET, Index: 3, Flags: unix.NTF_PROXY | unix.NTF_ROUTER,
		Type: unix.RTN_UNICAST, Dst: v4("192.0.2.11"), Protocol: unix.RTPROT_STATIC, IfIndex: 3})
}
