package rtnl

import (
	"testing"

	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

// mvKindReq builds `ip link add link LOWER name NAME type KIND` with data.
func mvKindReq(lower uint32, name, kind string, data []byte) []byte {
	l := rtmsg.Link{Name: name, Link: lower, Info: &rtmsg.LinkInfo{Kind: kind, Data: data}}
	l.Attrs.Set(unix.IFLA_LINK)
	return enc(&l)
}

// mvKindDump returns the dumped link called name.
func mvKindDump(t *testing.T, e *env, name string) *rtmsg.Link {
	t.Helper()
	for _, m := range e.dump(unix.RTM_GETLINK, enc(&rtmsg.Link{})) {
		if m.Header.Type != unix.RTM_NEWLINK {
			continue
		}
		var l rtmsg.Link
		if err := l.UnmarshalBinary(m.Data); err != nil {
			t.Fatal(err)
		}
		if l.Name == name {
			return &l
		}
	}
	t.Fatalf("no link %s in the dump", name)
	return nil
}

func TestMacvlanNewLinkAndDump(t *testing.T) {
	e := newEnv(t)
	e.mustDo(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, vethReq("a", "b"))
	e.run()
	if errno, _ := e.do(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, mvKindReq(0, "m", "macvlan", nil)); errno != -int32(unix.ENODEV) && errno != -int32(unix.EINVAL) {
		t.Fatalf("no lower: errno %d", errno)
	}
	bad := vlanTestEncoder()
	(&rtmsg.MacvlanInfo{Mode: 3, HasMode: true}).Encode(bad)
	if errno, _ := e.do(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, mvKindReq(2, "m", "macvlan", bad.Bytes())); errno != -int32(unix.EINVAL) {
		t.Fatalf("mode 3: errno %d", errno)
	}
	req := vlanTestEncoder()
	(&rtmsg.MacvlanInfo{Mode: 16, HasMode: true, MACAddrMode: 0, HasMACAddrMode: true,
		MACAddr: [6]byte{2, 0, 0, 0, 0xaa, 1}, HasMACAddr: true, BCQueueLen: 500, HasBCQueueLen: true}).Encode(req)
	e.mustDo(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, mvKindReq(2, "m", "macvlan", req.Bytes()))
	l := mvKindDump(t, e, "m")
	if l.Info == nil || l.Info.Kind != "macvlan" || l.Link != 2 {
		t.Fatalf("dump %+v", l.Info)
	}
	m, err := rtmsg.DecodeMacvlan(l.Info.Data)
	if err != nil {
		t.Fatal(err)
	}
	if m.Mode != 16 || m.Count != 1 || len(m.MACAddrs) != 1 || m.BCQueueLen != 500 || m.BCQueueUsed != 500 || !m.HasFlags {
		t.Fatalf("IFLA_INFO_DATA %+v", m)
	}
	// A macvtap is the same kind of device with its frames going to a
	// program.
	e.mustDo(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, mvKindReq(2, "t", "macvtap", nil))
	if l := mvKindDump(t, e, "t"); l.Info == nil || l.Info.Kind != "macvtap" {
		t.Fatalf("macvtap dump %+v", l.Info)
	}
}

func TestIPVlanNewLinkAndDump(t *testing.T) {
	e := newEnv(t)
	e.mustDo(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, vethReq("a", "b"))
	e.run()
	// No data: mode l3, flags bridge, as ipvlan_link_new.
	e.mustDo(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, mvKindReq(2, "i", "ipvlan", nil))
	l := mvKindDump(t, e, "i")
	v, err := rtmsg.DecodeIPVlan(l.Info.Data)
	if err != nil || v.Mode != 1 || v.Flags != 0 || !v.HasFlags {
		t.Fatalf("ipvlan data %+v %v", v, err)
	}
	if l.Flags&unix.IFF_NOARP == 0 {
		t.Fatalf("l3 slave flags %#x without NOARP", l.Flags)
	}
	bad := vlanTestEncoder()
	(&rtmsg.IPVlanInfo{Flags: 3, HasFlags: true}).Encode(bad)
	if errno, _ := e.do(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, mvKindReq(2, "j", "ipvlan", bad.Bytes())); errno != -int32(unix.EINVAL) {
		t.Fatalf("private|vepa: errno %d", errno)
	}
	ch := vlanTestEncoder()
	(&rtmsg.IPVlanInfo{Mode: 0, HasMode: true, Flags: 1, HasFlags: true}).Encode(ch)
	cl := rtmsg.Link{Index: l.Index, Info: &rtmsg.LinkInfo{Kind: "ipvlan", Data: ch.Bytes()}}
	e.mustDo(unix.RTM_NEWLINK, 0, enc(&cl))
	e.run()
	l = mvKindDump(t, e, "i")
	v, _ = rtmsg.DecodeIPVlan(l.Info.Data)
	if v.Mode != 0 || v.Flags != 1 || l.Flags&unix.IFF_NOARP != 0 {
		t.Fatalf("after change: %+v flags %#x", v, l.Flags)
	}
}
