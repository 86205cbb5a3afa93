package rtnl

import (
	"encoding/binary"
	"testing"

	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"github.com/usnet/usnet/stack"
	"golang.org/x/sys/unix"
)

// nsidReq builds an RTM_*NSID request; attrs lists NETNSA_* types whose
// value is taken from n.
func nsidReq(n rtmsg.Nsid, attrs ...uint16) []byte {
	for _, a := range attrs {
		n.Attrs.Set(a)
	}
	return enc(&n)
}

// nsidMsgs returns the RTM_NEWNSID/DELNSID messages in datagrams.
func nsidMsgs(t *testing.T, ds [][]byte) []netlink.Message {
	t.Helper()
	var out []netlink.Message
	for _, d := range ds {
		msgs, err := netlink.ParseMessages(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if m.Header.Type == unix.RTM_NEWNSID || m.Header.Type == unix.RTM_DELNSID {
				out = append(out, m)
			}
		}
	}
	return out
}

func decNsid(t *testing.T, m netlink.Message) rtmsg.Nsid {
	t.Helper()
	var n rtmsg.Nsid
	if err := n.UnmarshalBinary(m.Data); err != nil {
		t.Fatal(err)
	}
	return n
}

// moveReq moves the device named name into the namespace ns.
func moveReq(name string, ns *stack.Namespace) []byte {
	l := rtmsg.Link{Name: name, NetNSPid: ns.Net.ID()}
	l.Attrs.Set(unix.IFLA_NET_NS_PID)
	return enc(&l)
}

func linkNetnsid(t *testing.T, e *env, name string) (int32, bool) {
	t.Helper()
	for _, m := range e.dump(unix.RTM_GETLINK, make([]byte, unix.SizeofIfInfomsg)) {
		var l rtmsg.Link
		if m.Header.Type == unix.RTM_NEWLINK && l.UnmarshalBinary(m.Data) == nil && l.Name == name {
			return l.LinkNetNSID, l.Attrs.Has(unix.IFLA_LINK_NETNSID)
		}
	}
	t.Fatalf("no link %s", name)
	return 0, false
}

// The ipcompat case: a veth end moved to a second namespace is named
// there by nsid 0, the first id of the mover's namespace, announced on
// RTNLGRP_NSID when the move allocates it; a second peer gets 1.
func TestLinkNetnsidPerNamespace(t *testing.T) {
	e := newEnv(t)
	for _, n := range []string{"x", "y", "z"} { // Net.IDs 2..4: not 0 or 1
		if _, err := e.st.Add(n); err != nil {
			t.Fatal(err)
		}
	}
	blue, _ := e.st.Add("blue")
	red, _ := e.st.Add("red")
	mon, _ := e.srv.Open("", Cred{})
	mon.Join(unix.RTNLGRP_NSID)
	e.mustDo(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, vethReq("v4", "v5"))
	e.mustDo(unix.RTM_NEWLINK, 0, moveReq("v5", blue))
	e.run()
	got := nsidMsgs(t, drain(t, mon))
	if len(got) != 1 || got[0].Header.Type != unix.RTM_NEWNSID || got[0].Header.Pid != 0 || got[0].Header.Seq != 0 {
		t.Fatalf("notifications %+v, want one RTM_NEWNSID from the kernel", got)
	}
	if n := decNsid(t, got[0]); n.NSID != 0 || !n.Attrs.Has(unix.NETNSA_NSID) {
		t.Fatalf("announced %+v", n)
	}
	if id, ok := linkNetnsid(t, e, "v4"); !ok || id != 0 {
		t.Fatalf("v4 link-netnsid %d (%v), want 0", id, ok)
	}
	e.mustDo(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, vethReq("v6", "v7"))
	e.mustDo(unix.RTM_NEWLINK, 0, moveReq("v7", red))
	e.run()
	if id, _ := linkNetnsid(t, e, "v6"); id != 1 {
		t.Fatalf("second peer's nsid %d, want 1", id)
	}
	// In blue, the default namespace is named by blue's own first id.
	bs, err := e.srv.Open("blue", Cred{PID: 99, Admin: true})
	if err != nil {
		t.Fatal(err)
	}
	be := &env{t: t, st: e.st, srv: e.srv, s: bs, seq: 500}
	if id, _ := linkNetnsid(t, be, "v5"); id != 0 {
		t.Fatalf("blue names default %d, want 0", id)
	}
	// Deleting red drops its id with RTM_DELNSID.
	drain(t, mon)
	if err := e.st.Delete("red"); err != nil {
		t.Fatal(err)
	}
	got = nsidMsgs(t, drain(t, mon))
	if len(got) != 1 || got[0].Header.Type != unix.RTM_DELNSID || decNsid(t, got[0]).NSID != 1 {
		t.Fatalf("after deleting red: %+v", got)
	}
	if p := e.st.Default().Net.PeerByID(1); p != nil {
		t.Fatalf("id 1 still names %s", p.Name())
	}
}

// RTM_NEWNSID (`ip netns set NAME NSID`): the explicit id, its
// notification naming the requester, and rtnl_net_newid's errors.
func TestNewNsid(t *testing.T) {
	e := newEnv(t)
	blue, _ := e.st.Add("blue")
	red, _ := e.st.Add("red")
	e.s.SetOption(unix.NETLINK_EXT_ACK, true)
	mon, _ := e.srv.Open("", Cred{})
	mon.Join(unix.RTNLGRP_NSID)
	e.mustDo(unix.RTM_NEWNSID, 0, nsidReq(rtmsg.Nsid{NSID: 7, FD: blue.Net.ID()}, unix.NETNSA_NSID, unix.NETNSA_FD))
	got := nsidMsgs(t, drain(t, mon))
	if len(got) != 1 || got[0].Header.Pid != e.s.PortID() || got[0].Header.Seq != e.seq || decNsid(t, got[0]).NSID != 7 {
		t.Fatalf("notification %+v", got)
	}
	if p := e.st.Default().Net.PeerByID(7); p != blue.Net {
		t.Fatalf("id 7 names %v", p)
	}
	for _, c := range []struct {
		name  string
		req   []byte
		errno unix.Errno
	}{
		{"peer has an id", nsidReq(rtmsg.Nsid{NSID: 8, PID: blue.Net.ID()}, unix.NETNSA_NSID, unix.NETNSA_PID), unix.EEXIST},
		{"id used", nsidReq(rtmsg.Nsid{NSID: 7, PID: red.Net.ID()}, unix.NETNSA_NSID, unix.NETNSA_PID), unix.EEXIST},
		{"no nsid", nsidReq(rtmsg.Nsid{PID: red.Net.ID()}, unix.NETNSA_PID), unix.EINVAL},
		{"no reference", nsidReq(rtmsg.Nsid{NSID: 3}, unix.NETNSA_NSID), unix.EINVAL},
		{"bad pid", nsidReq(rtmsg.Nsid{NSID: 3, PID: 999}, unix.NETNSA_NSID, unix.NETNSA_PID), unix.ESRCH},
		{"bad fd", nsidReq(rtmsg.Nsid{NSID: 3, FD: 999}, unix.NETNSA_NSID, unix.NETNSA_FD), unix.EBADF},
	} {
		if errno, _ := e.do(unix.RTM_NEWNSID, 0, c.req); errno != -int32(c.errno) {
			t.Errorf("%s: errno %d, want %d", c.name, -errno, c.errno)
		}
	}
	if n := nsidMsgs(t, drain(t, mon)); len(n) != 0 {
		t.Errorf("failed requests notified: %+v", n)
	}
	// "auto" (-1): the lowest free id; NLM_F_ECHO sends the requester its copy.
	e.s.Join(unix.RTNLGRP_NSID)
	if err := e.s.Send(e.msg(unix.RTM_NEWNSID, unix.NLM_F_ECHO, nsidReq(rtmsg.Nsid{NSID: -1, PID: red.Net.ID()}, unix.NETNSA_NSID, unix.NETNSA_PID))); err != nil {
		t.Fatal(err)
	}
	mine := nsidMsgs(t, drain(t, e.s))
	if len(mine) != 1 || decNsid(t, mine[0]).NSID != 0 || mine[0].Header.Seq != e.seq {
		t.Fatalf("echo %+v", mine)
	}
	if n := nsidMsgs(t, drain(t, mon)); len(n) != 1 {
		t.Fatalf("listener got %d notifications", len(n))
	}
	// RTM_DELNSID has no handler.
	if errno, _ := e.do(unix.RTM_DELNSID, 0, nsidReq(rtmsg.Nsid{NSID: 0}, unix.NETNSA_NSID)); errno != -int32(unix.EOPNOTSUPP) {
		t.Errorf("RTM_DELNSID: %d", errno)
	}
}

// RTM_GETNSID by reference and by id, with a target namespace, and dumps.
func TestGetNsid(t *testing.T) {
	e := newEnv(t)
	blue, _ := e.st.Add("blue")
	red, _ := e.st.Add("red")
	def := e.st.Default().Net
	def.AllocPeerID(blue.Net, 4, nil)
	def.AllocPeerID(red.Net, 2, nil)
	blue.Net.AllocPeerID(red.Net, 9, nil)
	get := func(req []byte) (int32, rtmsg.Nsid) {
		t.Helper()
		errno, other := e.do(unix.RTM_GETNSID, 0, req)
		if errno != 0 {
			return errno, rtmsg.Nsid{}
		}
		m := nsidMsgs(t, other)
		if len(m) != 1 || m[0].Header.Type != unix.RTM_NEWNSID || m[0].Header.Seq != e.seq || m[0].Header.Pid != e.s.PortID() {
			t.Fatalf("reply %+v", m)
		}
		return 0, decNsid(t, m[0])
	}
	if _, n := get(nsidReq(rtmsg.Nsid{FD: blue.Net.ID()}, unix.NETNSA_FD)); n.NSID != 4 || n.Attrs.Has(unix.NETNSA_CURRENT_NSID) {
		t.Errorf("by fd: %+v", n)
	}
	if _, n := get(nsidReq(rtmsg.Nsid{PID: def.ID()}, unix.NETNSA_PID)); n.NSID != -1 {
		t.Errorf("unassigned: %+v", n)
	}
	if _, n := get(nsidReq(rtmsg.Nsid{NSID: 2}, unix.NETNSA_NSID)); n.NSID != 2 {
		t.Errorf("by nsid: %+v", n)
	}
	if errno, _ := get(nsidReq(rtmsg.Nsid{NSID: 3}, unix.NETNSA_NSID)); errno != -int32(unix.ENOENT) {
		t.Errorf("unknown nsid: %d", errno)
	}
	if errno, _ := get(nsidReq(rtmsg.Nsid{})); errno != -int32(unix.EINVAL) {
		t.Errorf("no reference: %d", errno)
	}
	// red as seen from blue (target-nsid 4), and from here.
	if _, n := get(nsidReq(rtmsg.Nsid{NSID: 2, TargetNSID: 4}, unix.NETNSA_NSID, unix.NETNSA_TARGET_NSID)); n.NSID != 9 || n.CurrentNSID != 2 || !n.Attrs.Has(unix.NETNSA_CURRENT_NSID) {
		t.Errorf("target: %+v", n)
	}
	if errno, _ := get(nsidReq(rtmsg.Nsid{NSID: 2, TargetNSID: 5}, unix.NETNSA_NSID, unix.NETNSA_TARGET_NSID)); errno != -int32(unix.EINVAL) {
		t.Errorf("bad target: %d", errno)
	}

	ids := func(msgs []netlink.Message) (out [][2]int32) {
		for _, m := range msgs {
			if m.Header.Type == unix.RTM_NEWNSID {
				if m.Header.Flags&unix.NLM_F_MULTI == 0 {
					t.Errorf("dump message without NLM_F_MULTI")
				}
				n := decNsid(t, m)
				cur := int32(-100)
				if n.Attrs.Has(unix.NETNSA_CURRENT_NSID) {
					cur = n.CurrentNSID
				}
				out = append(out, [2]int32{n.NSID, cur})
			}
		}
		return out
	}
	target := nsidReq(rtmsg.Nsid{TargetNSID: 4}, unix.NETNSA_TARGET_NSID)
	if got := ids(e.dump(unix.RTM_GETNSID, []byte{0})); len(got) != 2 || got[0] != [2]int32{2, -100} || got[1] != [2]int32{4, -100} {
		t.Errorf("dump %v", got)
	}
	// Without strict checking the target is ignored, as the kernel does.
	if got := ids(e.dump(unix.RTM_GETNSID, target)); len(got) != 2 {
		t.Errorf("non-strict target dump %v", got)
	}
	e.s.SetOption(unix.NETLINK_GET_STRICT_CHK, true)
	if got := ids(e.dump(unix.RTM_GETNSID, target)); len(got) != 1 || got[0] != [2]int32{9, 2} {
		t.Errorf("target dump %v, want blue's id 9 for red, here 2", got)
	}
	// A refused dump ends with NLMSG_DONE carrying the error and the
	// message, as netlink_dump_done sends it.
	e.s.SetOption(unix.NETLINK_EXT_ACK, true)
	for _, c := range []struct {
		req []byte
		msg string
	}{
		{nsidReq(rtmsg.Nsid{NSID: 1}, unix.NETNSA_NSID), "Unsupported attribute in dump request"},
		{nsidReq(rtmsg.Nsid{TargetNSID: 6}, unix.NETNSA_TARGET_NSID), "Invalid target network namespace id"},
	} {
		if err := e.s.Send(e.msg(unix.RTM_GETNSID, unix.NLM_F_DUMP, c.req)); err != nil {
			t.Fatal(err)
		}
		ds := drain(t, e.s)
		if len(ds) != 1 {
			t.Fatalf("%d datagrams", len(ds))
		}
		msgs, _ := netlink.ParseMessages(ds[0])
		if len(msgs) != 1 || msgs[0].Header.Type != unix.NLMSG_DONE || msgs[0].Header.Flags&unix.NLM_F_ACK_TLVS == 0 ||
			int32(binary.NativeEndian.Uint32(msgs[0].Data)) != -int32(unix.EINVAL) {
			t.Fatalf("refused dump: %+v", msgs)
		}
		d := netlink.NewAttributeDecoder(msgs[0].Data[4:])
		for d.Next() {
			if d.Type() == unix.NLMSGERR_ATTR_MSG && d.String() != c.msg {
				t.Errorf("message %q, want %q", d.String(), c.msg)
			}
		}
	}
	if errno, _ := e.do(unix.RTM_GETNSID, 0, nsidReq(rtmsg.Nsid{NSID: 2, CurrentNSID: 1}, unix.NETNSA_NSID, unix.NETNSA_CURRENT_NSID)); errno != -int32(unix.EINVAL) {
		t.Errorf("strict get with NETNSA_CURRENT_NSID: %d", errno)
	}
}

// IFLA_TARGET_NETNSID moves a device to the namespace that nsid names in
// the requester's namespace; an unknown nsid is EINVAL.
func TestTargetNetnsid(t *testing.T) {
	e := newEnv(t)
	blue, _ := e.st.Add("blue")
	e.st.Default().Net.AllocPeerID(blue.Net, 3, nil)
	e.mustDo(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, vethReq("va", "vb"))
	move := func(id int32) int32 {
		l := rtmsg.Link{Name: "vb"}
		l.Unknown = append(l.Unknown, rtmsg.RawAttr{Type: unix.IFLA_TARGET_NETNSID, Data: binary.NativeEndian.AppendUint32(nil, uint32(id))})
		errno, _ := e.do(unix.RTM_NEWLINK, 0, enc(&l))
		return errno
	}
	if errno := move(2); errno != -int32(unix.EINVAL) {
		t.Fatalf("unknown nsid: %d", errno)
	}
	if errno := move(3); errno != 0 {
		t.Fatalf("move: %d", errno)
	}
	var found bool
	blue.Exec().Do(func() { found = blue.Dev.ByName("vb") != nil })
	if !found {
		t.Fatal("vb is not in blue")
	}
	e.run()
	if id, _ := linkNetnsid(t, e, "va"); id != 3 {
		t.Fatalf("va names blue %d, want 3", id)
	}
}

// Ends of a veth in two namespaces may have the same ifindex: IFLA_LINK
// is then still reported, as the kernel forces it with a link-netnsid.
func TestLinkWithNetnsidSameIfindex(t *testing.T) {
	e := newEnv(t)
	blue, _ := e.st.Add("blue")
	p := rtmsg.Link{Name: "vb", NetNSPid: blue.Net.ID()}
	p.Attrs.Set(unix.IFLA_NET_NS_PID)
	data, _ := rtmsg.EncodeVethPeer(&p)
	l := rtmsg.Link{Name: "va", Info: &rtmsg.LinkInfo{Kind: "veth", Data: data}}
	e.mustDo(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, enc(&l))
	for _, m := range e.dump(unix.RTM_GETLINK, make([]byte, unix.SizeofIfInfomsg)) {
		var r rtmsg.Link
		if m.Header.Type != unix.RTM_NEWLINK || r.UnmarshalBinary(m.Data) != nil || r.Name != "va" {
			continue
		}
		if r.Index != 2 || !r.Attrs.Has(unix.IFLA_LINK) || r.Link != 2 || !r.Attrs.Has(unix.IFLA_LINK_NETNSID) {
			t.Fatalf("va: index %d link %d (%v) netnsid %v", r.Index, r.Link, r.Attrs.Has(unix.IFLA_LINK), r.Attrs.Has(unix.IFLA_LINK_NETNSID))
		}
		return
	}
	t.Fatal("va not dumped")
}

// A device moving away leaves with RTM_NEWNSID (the new namespace's id,
// allocated then) followed by an RTM_DELLINK carrying IFLA_NEW_NETNSID and
// IFLA_NEW_IFINDEX, as __dev_change_net_namespace sends them.
func TestMoveDellinkNewNetnsid(t *testing.T) {
	e := newEnv(t)
	blue, _ := e.st.Add("blue")
	e.mustDo(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, vethReq("v0", "v1"))
	mon, _ := e.srv.Open("", Cred{})
	mon.Join(unix.RTNLGRP_LINK)
	mon.Join(unix.RTNLGRP_NSID)
	e.mustDo(unix.RTM_NEWLINK, 0, moveReq("v1", blue))
	var types []uint16
	var del *rtmsg.Link
	for _, d := range drain(t, mon) {
		msgs, _ := netlink.ParseMessages(d)
		for _, m := range msgs {
			types = append(types, m.Header.Type)
			if m.Header.Type == unix.RTM_DELLINK {
				del = new(rtmsg.Link)
				del.UnmarshalBinary(m.Data)
			}
		}
	}
	if len(types) < 2 || types[0] != unix.RTM_NEWNSID || del == nil {
		t.Fatalf("notifications %v", types)
	}
	var newNsid, newIdx []byte
	for _, u := range del.Unknown {
		switch u.Type {
		case unix.IFLA_NEW_NETNSID:
			newNsid = u.Data
		case unix.IFLA_NEW_IFINDEX:
			newIdx = u.Data
		}
	}
	if len(newNsid) != 4 || int32(binary.NativeEndian.Uint32(newNsid)) != 0 ||
		len(newIdx) != 4 || int32(binary.NativeEndian.Uint32(newIdx)) != del.Index {
		t.Fatalf("RTM_DELLINK of v1: new nsid %x new ifindex %x (index %d)", newNsid, newIdx, del.Index)
	}
}
