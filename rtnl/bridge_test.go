package rtnl

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/usnet/usnet/drivers/bridge"
	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"github.com/usnet/usnet/skb"
	"golang.org/x/sys/unix"
)

// brEnv is a bridge br0 with the veth ends p0 and p2 as ports (their
// peers p1, p3 in the same namespace), all up.
func brEnv(t *testing.T) (*env, *bridge.Bridge) {
	e := newEnv(t)
	data := netlink.NewAttributeEncoder(nil)
	data.Uint32(unix.IFLA_BR_AGEING_TIME, 1000) // 10 s
	l := rtmsg.Link{Name: "br0", Info: &rtmsg.LinkInfo{Kind: "bridge", Data: data.Bytes()}}
	e.mustDo(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, enc(&l))
	e.mustDo(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, vethReq("p0", "p1"))
	e.mustDo(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, vethReq("p2", "p3"))
	t2 := e.st.Default().Dev
	br := bridge.Of(t2.ByName("br0"))
	if br == nil || br.AgeingTime() != 10*time.Second {
		t.Fatalf("bridge %v", br)
	}
	for _, n := range []string{"p0", "p2"} {
		m := rtmsg.Link{Index: int32(t2.ByName(n).Ifindex()), Master: uint32(br.Device().Ifindex())}
		e.mustDo(unix.RTM_SETLINK, 0, enc(&m))
	}
	for _, n := range []string{"br0", "p0", "p1", "p2", "p3"} {
		e.mustDo(unix.RTM_SETLINK, 0, upReq(int32(t2.ByName(n).Ifindex()), true))
	}
	e.run()
	drain(t, e.s)
	return e, br
}

func fdbReq(index int, mac []byte, state uint16, flags uint8, vid uint16) []byte {
	n := rtmsg.Neigh{Family: unix.AF_BRIDGE, Index: int32(index), State: state, Flags: flags, LLAddr: mac}
	if vid != 0 {
		n.VLAN = vid
		n.Attrs.Set(unix.NDA_VLAN)
	}
	return enc(&n)
}

func TestBridgeFDBMessages(t *testing.T) {
	e, br := brEnv(t)
	dev := e.st.Default().Dev
	p0, p1 := dev.ByName("p0"), dev.ByName("p1")
	mon, err := e.srv.Open("", Cred{PID: 1, Admin: true})
	if err != nil {
		t.Fatal(err)
	}
	mon.Join(unix.RTNLGRP_NEIGH)
	mac := []byte{2, 0, 0, 0, 0xaa, 1}
	e.mustDo(unix.RTM_NEWNEIGH, unix.NLM_F_CREATE|unix.NLM_F_EXCL, fdbReq(p0.Ifindex(), mac, unix.NUD_NOARP|unix.NUD_REACHABLE, unix.NTF_MASTER, 1))
	if errno, _ := e.do(unix.RTM_NEWNEIGH, unix.NLM_F_CREATE|unix.NLM_F_EXCL, fdbReq(p0.Ifindex(), mac, unix.NUD_NOARP, unix.NTF_MASTER, 1)); errno != -int32(17) {
		t.Fatalf("second add: errno %d, want -EEXIST", errno)
	}
	if en, ok := br.Lookup([6]byte(mac), 1); !ok || !en.Static || en.Local || en.Port != p0 {
		t.Fatalf("entry %+v %v", en, ok)
	}
	// The monitor saw RTM_NEWNEIGH for it, as fdb_notify sends it.
	got := drain(t, mon)
	if len(got) != 1 {
		t.Fatalf("%d notifications, want 1", len(got))
	}
	h, _ := netlink.DecodeHeader(got[0])
	var n rtmsg.Neigh
	if err := n.UnmarshalBinary(got[0][16:]); err != nil || h.Type != unix.RTM_NEWNEIGH {
		t.Fatal(err, h.Type)
	}
	if n.Family != unix.AF_BRIDGE || n.Index != int32(p0.Ifindex()) || n.State != unix.NUD_NOARP ||
		n.Master != uint32(br.Device().Ifindex()) || n.VLAN != 1 {
		t.Fatalf("notification %+v", n)
	}
	// Learning: a frame from p1's side teaches the bridge its source.
	src := [6]byte{2, 0, 0, 0, 0xbb, 2}
	b := dev.Pool().Get(skb.DefaultHeadroom, 60)
	f := b.Put(60)
	copy(f[0:6], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	copy(f[6:12], src[:])
	f[12], f[13] = 0x88, 0xb5
	bt := skb.NewBatch(1)
	bt.Add(b)
	p1.Xmit(bt)
	e.run()
	if en, ok := br.Lookup(src, 0); !ok || en.Port != p0 {
		t.Fatalf("not learned: %+v %v", en, ok)
	}
	got = drain(t, mon)
	if len(got) != 1 {
		t.Fatalf("%d notifications for a learned entry, want 1", len(got))
	}
	// The dump lists both with their states.
	dreq := make([]byte, unix.SizeofIfInfomsg)
	dreq[0] = unix.AF_BRIDGE
	msgs := e.dump(unix.RTM_GETNEIGH, dreq)
	states := map[[6]byte]uint16{}
	for _, m := range msgs {
		if m.Header.Type != unix.RTM_NEWNEIGH {
			continue
		}
		var x rtmsg.Neigh
		if x.UnmarshalBinary(m.Data) == nil {
			states[[6]byte(x.LLAddr)] |= x.State
		}
	}
	if states[[6]byte(mac)] != unix.NUD_NOARP || states[src] != unix.NUD_REACHABLE || states[p0.Addr()] != unix.NUD_PERMANENT {
		t.Fatalf("dump states %v", states)
	}
	// Ageing removes the learned entry and notifies RTM_DELNEIGH.
	e.st.Sim.RunFor(12 * time.Second)
	if _, ok := br.Lookup(src, 0); ok {
		t.Fatal("learned entry did not age out")
	}
	var dels int
	for _, d := range drain(t, mon) {
		if h, _ := netlink.DecodeHeader(d); h.Type == unix.RTM_DELNEIGH {
			dels++
		}
	}
	if dels != 1 {
		t.Fatalf("%d RTM_DELNEIGH, want 1", dels)
	}
	e.mustDo(unix.RTM_DELNEIGH, 0, fdbReq(p0.Ifindex(), mac, 0, unix.NTF_MASTER, 1))
	if errno, _ := e.do(unix.RTM_DELNEIGH, 0, fdbReq(p0.Ifindex(), mac, 0, unix.NTF_MASTER, 1)); errno != -2 {
		t.Fatalf("deleting twice: errno %d, want -ENOENT", errno)
	}
}

func TestBridgeLinkMessages(t *testing.T) {
	e, br := brEnv(t)
	dev := e.st.Default().Dev
	p0 := dev.ByName("p0")
	port := br.Port(p0)
	// bridge link set dev p0 cost 7 hairpin on
	pi := netlink.NewAttributeEncoder(nil)
	pi.Uint32(unix.IFLA_BRPORT_COST, 7)
	pi.Uint8(unix.IFLA_BRPORT_MODE, 1)
	req := netlink.NewAttributeEncoder(nil)
	ifi := make([]byte, unix.SizeofIfInfomsg)
	ifi[0] = unix.AF_BRIDGE
	binary.NativeEndian.PutUint32(ifi[4:], uint32(p0.Ifindex()))
	req.Append(ifi)
	n := req.BeginNest(unix.IFLA_PROTINFO | unix.NLA_F_NESTED)
	req.Append(pi.Bytes())
	req.EndNest(n)
	e.mustDo(unix.RTM_SETLINK, 0, req.Bytes())
	if port.PathCost() != 7 || !port.Has(bridge.FlagHairpin) {
		t.Fatalf("cost %d hairpin %v", port.PathCost(), port.Has(bridge.FlagHairpin))
	}
	// bridge vlan add dev p0 vid 10-12 untagged; vid 20 pvid
	vreq := func(typ uint16, infos ...rtmsg.BridgeVlanInfo) {
		r := netlink.NewAttributeEncoder(nil)
		r.Append(ifi)
		n := r.BeginNest(unix.IFLA_AF_SPEC)
		for _, v := range infos {
			r.PutBytes(rtmsg.IflaBridgeVlanInfo, v.MarshalBinary())
		}
		r.EndNest(n)
		e.mustDo(typ, 0, r.Bytes())
	}
	vreq(unix.RTM_SETLINK, rtmsg.BridgeVlanInfo{Flags: rtmsg.BridgeVlanInfoUntagged | rtmsg.BridgeVlanInfoRangeBegin, VID: 10},
		rtmsg.BridgeVlanInfo{Flags: rtmsg.BridgeVlanInfoUntagged | rtmsg.BridgeVlanInfoRangeEnd, VID: 12})
	vreq(unix.RTM_SETLINK, rtmsg.BridgeVlanInfo{Flags: rtmsg.BridgeVlanInfoPVID, VID: 20})
	vreq(unix.RTM_DELLINK, rtmsg.BridgeVlanInfo{VID: 1})
	want := []bridge.VlanInfo{{VID: 10, Untagged: true}, {VID: 11, Untagged: true}, {VID: 12, Untagged: true}, {VID: 20, PVID: true}}
	got := br.Vlans(p0)
	if len(got) != len(want) {
		t.Fatalf("vlans %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("vlans %+v, want %+v", got, want)
		}
	}
	// The compressed dump gives the range back as a begin/end pair.
	dreq := netlink.NewAttributeEncoder(nil)
	dreq.Append(make([]byte, unix.SizeofIfInfomsg))
	dreq.Bytes()[0] = unix.AF_BRIDGE
	dreq.Uint32(unix.IFLA_EXT_MASK, rtmsg.RTExtFilterBrVlanCompressed)
	var infos []rtmsg.BridgeVlanInfo
	ports := 0
	for _, m := range e.dump(unix.RTM_GETLINK, dreq.Bytes()) {
		if m.Header.Type != unix.RTM_NEWLINK || int(binary.NativeEndian.Uint32(m.Data[4:])) != p0.Ifindex() {
			continue
		}
		ports++
		attrs, _ := rtmsg.ParseBridgeAttrs(m.Data[unix.SizeofIfInfomsg:])
		spec, _ := rtmsg.FindBridgeAttr(attrs, unix.IFLA_AF_SPEC)
		if _, ok := rtmsg.FindBridgeAttr(attrs, unix.IFLA_PROTINFO); !ok {
			t.Fatal("no IFLA_PROTINFO for a port")
		}
		va, _ := rtmsg.ParseBridgeAttrs(spec)
		for _, a := range va {
			v, _ := rtmsg.UnmarshalBridgeVlanInfo(a.Data)
			infos = append(infos, v)
		}
	}
	if ports != 1 || len(infos) != 3 || infos[0].Flags&rtmsg.BridgeVlanInfoRangeBegin == 0 || infos[1].VID != 12 || infos[2].VID != 20 {
		t.Fatalf("dumped vlans %+v", infos)
	}
}
