package rtmsg

import (
	"reflect"
	"testing"

	"github.com/usnet/usnet/netlink"
)

func TestVLANMacvlanIPVlanRoundTrip(t *testing.T) {
	v := VLANInfo{Protocol: 0x88a8, ID: 100, Flags: 5, FlagsMask: ^uint32(0),
		Ingress: []VLANQoSMapping{{1, 2}}, Egress: []VLANQoSMapping{{3, 4}, {19, 7}},
		HasProtocol: true, HasID: true, HasFlags: true, HasIngress: true, HasEgress: true}
	e := netlink.NewAttributeEncoder(nil)
	v.Encode(e)
	got, err := DecodeVLAN(e.Bytes())
	if err != nil || !reflect.DeepEqual(got, v) {
		t.Fatalf("vlan: %+v %v", got, err)
	}
	if b := e.Bytes(); b[4] != 0x88 || b[5] != 0xa8 {
		t.Fatalf("IFLA_VLAN_PROTOCOL not big-endian: % x", b[:8])
	}
	m := MacvlanInfo{Mode: 16, Flags: 1, Count: 2, MACAddrs: [][6]byte{{2, 0, 0, 0, 0, 1}, {2, 0, 0, 0, 0, 2}},
		BCQueueLen: 10, BCQueueUsed: 20, BCCutoff: -1,
		HasMode: true, HasFlags: true, HasCount: true, HasMACAddrs: true, HasBCQueueLen: true, HasBCQueueUsed: true, HasBCCutoff: true}
	e = netlink.NewAttributeEncoder(nil)
	m.Encode(e)
	gm, err := DecodeMacvlan(e.Bytes())
	if err != nil || !reflect.DeepEqual(gm, m) {
		t.Fatalf("macvlan: %+v %v", gm, err)
	}
	i := IPVlanInfo{Mode: 2, Flags: 1, HasMode: true, HasFlags: true}
	e = netlink.NewAttributeEncoder(nil)
	i.Encode(e)
	gi, err := DecodeIPVlan(e.Bytes())
	if err != nil || gi != i {
		t.Fatalf("ipvlan: %+v %v", gi, err)
	}
}

// FuzzDecodeL2Kinds: bad IFLA_INFO_DATA never panics.
func FuzzDecodeL2Kinds(f *testing.F) {
	e := netlink.NewAttributeEncoder(nil)
	(&VLANInfo{ID: 1, HasID: true, Ingress: []VLANQoSMapping{{1, 1}}, HasIngress: true}).Encode(e)
	f.Add(e.Bytes())
	f.Add([]byte{4, 0, 1, 0, 5, 0, 4, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		DecodeVLAN(b)
		DecodeMacvlan(b)
		DecodeIPVlan(b)
	})
}
