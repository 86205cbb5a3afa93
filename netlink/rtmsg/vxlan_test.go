package rtmsg

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/usnet/usnet/netlink"
	"golang.org/x/sys/unix"
)

func TestVXLANRoundTrip(t *testing.T) {
	v := VXLANInfo{ID: 42, Group: netip.MustParseAddr("10.0.0.2"), Local: netip.MustParseAddr("10.0.0.1"), Link: 3,
		TTL: 64, TOS: 1, Learning: 1, Ageing: 300, Port: 4789, UDPCsum: 1, PortLow: 1000, PortHigh: 2000, Label: 0x12345}
	for _, typ := range []uint16{unix.IFLA_VXLAN_ID, unix.IFLA_VXLAN_GROUP, unix.IFLA_VXLAN_LOCAL, unix.IFLA_VXLAN_LINK,
		unix.IFLA_VXLAN_TTL, unix.IFLA_VXLAN_TOS, unix.IFLA_VXLAN_LEARNING, unix.IFLA_VXLAN_AGEING, unix.IFLA_VXLAN_PORT,
		unix.IFLA_VXLAN_UDP_CSUM, unix.IFLA_VXLAN_PORT_RANGE, unix.IFLA_VXLAN_LABEL, unix.IFLA_VXLAN_GBP} {
		v.Set(typ)
	}
	var e netlink.AttributeEncoder
	v.Encode(&e)
	got, err := DecodeVXLAN(e.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if got != v {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, v)
	}
	// The port is big-endian on the wire.
	if !bytes.Contains(e.Bytes(), []byte{6, 0, unix.IFLA_VXLAN_PORT, 0, 0x12, 0xb5}) {
		t.Fatalf("IFLA_VXLAN_PORT not big-endian: % x", e.Bytes())
	}
	if _, err := DecodeVXLAN([]byte{5, 0, 1, 0, 1, 0, 0, 0}); err == nil {
		t.Fatal("short IFLA_VXLAN_ID accepted")
	}
}

func FuzzDecodeVXLAN(f *testing.F) {
	f.Add([]byte{8, 0, 1, 0, 42, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) { DecodeVXLAN(b) })
}
