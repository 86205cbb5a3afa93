package rtnl

import (
	"bytes"
	"testing"

	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

// vlanReq builds `ip link add link LOWER name NAME type vlan ...`.
func vlanReq(lower uint32, name string, info rtmsg.VLANInfo) []byte {
	l := rtmsg.Link{Name: name, Link: lower}
	l.Attrs.Set(unix.IFLA_LINK)
	e := vlanTestEncoder()
	info.Encode(e)
	l.Info = &rtmsg.LinkInfo{Kind: "vlan", Data: e.Bytes()}
	return enc(&l)
}

func TestVLANNewLinkAndDump(t *testing.T) {
	e := newEnv(t)
	e.mustDo(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, vethReq("a", "b"))
	e.run()
	// No id: EINVAL; bad protocol: EPROTONOSUPPORT; 4095: ERANGE.
	if errno, _ := e.do(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, vlanReq(2, "v", rtmsg.VLANInfo{})); errno != -int32(unix.EINVAL) {
		t.Fatalf("no id: errno %d", errno)
	}
	if errno, _ := e.do(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, vlanReq(2, "v", rtmsg.VLANInfo{ID: 4095, HasID: true})); errno != -int32(unix.ERANGE) {
		t.Fatalf("id 4095: errno %d", errno)
	}
	if errno, _ := e.do(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, vlanReq(2, "v", rtmsg.VLANInfo{ID: 1, HasID: true, Protocol: 0x800, HasProtocol: true})); errno != -int32(unix.EPROTONOSUPPORT) {
		t.Fatalf("protocol 0x800: errno %d", errno)
	}
	req := rtmsg.VLANInfo{ID: 10, HasID: true, Protocol: unix.ETH_P_8021AD, HasProtocol: true,
		Flags: 0x4, FlagsMask: 0x4, HasFlags: true,
		Ingress: []rtmsg.VLANQoSMapping{{From: 3, To: 9}}, HasIngress: true,
		Egress: []rtmsg.VLANQoSMapping{{From: 1, To: 2}, {From: 17, To: 3}, {From: 4, To: 0}}, HasEgress: true}
	e.mustDo(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, vlanReq(2, "a.10", req))
	var got *rtmsg.Link
	for _, m := range e.dump(unix.RTM_GETLINK, enc(&rtmsg.Link{})) {
		if m.Header.Type != unix.RTM_NEWLINK {
			continue
		}
		var l rtmsg.Link
		if err := l.UnmarshalBinary(m.Data); err != nil {
			t.Fatal(err)
		}
		if l.Name == "a.10" {
			got = &l
		}
	}
	if got == nil || got.Info == nil || got.Info.Kind != "vlan" {
		t.Fatalf("dump: %+v", got)
	}
	if got.Link != 2 || got.MTU != 1500 {
		t.Fatalf("IFLA_LINK %d mtu %d", got.Link, got.MTU)
	}
	// vlan_fill_info: flags with mask ~0 and REORDER_HDR kept; egress
	// entries by bucket (priority & 15), newest first, zero ones left out.
	want := rtmsg.VLANInfo{ID: 10, HasID: true, Protocol: unix.ETH_P_8021AD, HasProtocol: true,
		Flags: 0x5, FlagsMask: ^uint32(0), HasFlags: true,
		Ingress: []rtmsg.VLANQoSMapping{{From: 3, To: 9}}, HasIngress: true,
		Egress: []rtmsg.VLANQoSMapping{{From: 17, To: 3}, {From: 1, To: 2}}, HasEgress: true}
	we := vlanTestEncoder()
	want.Encode(we)
	if !bytes.Equal(got.Info.Data, we.Bytes()) {
		d, _ := rtmsg.DecodeVLAN(got.Info.Data)
		t.Fatalf("IFLA_INFO_DATA\n got %x (%+v)\nwant %x", got.Info.Data, d, we.Bytes())
	}
	// changelink: clear the loose binding, drop an egress mapping.
	ch := rtmsg.Link{Index: got.Index, Info: &rtmsg.LinkInfo{Kind: "vlan"}}
	ce := vlanTestEncoder()
	(&rtmsg.VLANInfo{Flags: 0, FlagsMask: 0x4, HasFlags: true, Egress: []rtmsg.VLANQoSMapping{{From: 1, To: 0}}, HasEgress: true}).Encode(ce)
	ch.Info.Data = ce.Bytes()
	e.mustDo(unix.RTM_NEWLINK, 0, enc(&ch))
}

func vlanTestEncoder() *netlink.AttributeEncoder { return netlink.NewAttributeEncoder(nil) }
