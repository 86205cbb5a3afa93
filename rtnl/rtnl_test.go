package rtnl

import (
	"encoding/binary"
	"errors"
	"syscall"
	"testing"

	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

// attrTypes lists the top-level attribute types of a message after a
// fixed header of n bytes.
func attrTypes(m netlink.Message, n int) []uint16 {
	var out []uint16
	d := netlink.NewAttributeDecoder(m.Data[netlink.Align(n):])
	for d.Next() {
		out = append(out, d.Type())
	}
	return out
}

func TestLinkAttributeOrderMatchesKernel(t *testing.T) {
	ref := refFile(t, "notify-01-veth-create.txt")
	e := newEnv(t)
	mon, _ := e.srv.Open("", Cred{})
	mon.Join(unix.RTNLGRP_LINK)
	e.mustDo(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, vethReq("veth0", "veth1"))
	got := drain(t, mon)
	if len(got) != 2 {
		t.Fatalf("%d notifications", len(got))
	}
	for i, refIdx := range []int{1, 3} {
		km, _ := netlink.ParseMessages(ref[refIdx])
		um, _ := netlink.ParseMessages(got[i])
		kt, ut := attrTypes(km[0], unix.SizeofIfInfomsg), attrTypes(um[0], unix.SizeofIfInfomsg)
		if len(kt) != len(ut) {
			t.Fatalf("attributes: kernel %v usnet %v", kt, ut)
		}
		for j := range kt {
			if kt[j] != ut[j] {
				t.Fatalf("attribute %d: kernel %v usnet %v", j, kt, ut)
			}
		}
	}
}

func TestAddrAttributesMatchKernel(t *testing.T) {
	ref := refFile(t, "notify-03-addr-add.txt")
	e := newEnv(t)
	e.mustDo(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, vethReq("veth0", "veth1"))
	mon, _ := e.srv.Open("", Cred{})
	mon.Join(unix.RTNLGRP_IPV4_IFADDR)
	e.mustDo(unix.RTM_NEWADDR, unix.NLM_F_CREATE|unix.NLM_F_EXCL, addrReq(3, "192.0.2.1/24"))
	got := drain(t, mon)
	km, _ := netlink.ParseMessages(ref[0])
	um, _ := netlink.ParseMessages(got[0])
	if k, u := attrTypes(km[0], 8), attrTypes(um[0], 8); len(k) != len(u) || len(km[0].Data) != len(um[0].Data) {
		t.Fatalf("kernel %v (%d bytes), usnet %v (%d bytes)", k, len(km[0].Data), u, len(um[0].Data))
	}
	// Everything but the cacheinfo timestamps is identical.
	if string(km[0].Data[:len(km[0].Data)-16]) != string(um[0].Data[:len(um[0].Data)-16]) {
		t.Fatalf("kernel %x\nusnet  %x", km[0].Data, um[0].Data)
	}
}

func TestDumps(t *testing.T) {
	e := newEnv(t)
	e.mustDo(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, vethReq("veth0", "veth1"))
	e.mustDo(unix.RTM_NEWADDR, unix.NLM_F_CREATE|unix.NLM_F_EXCL, addrReq(3, "192.0.2.1/24"))
	e.mustDo(unix.RTM_NEWADDR, unix.NLM_F_CREATE|unix.NLM_F_EXCL, addrReq(2, "192.0.2.9/24"))
	e.mustDo(unix.RTM_NEWNEIGH, unix.NLM_F_CREATE|unix.NLM_F_EXCL, neighReq(3, "192.0.2.254", []byte{2, 0, 0, 0, 0, 1}, 0x80))

	links := e.dump(unix.RTM_GETLINK, make([]byte, unix.SizeofIfInfomsg))
	if len(links) != 4 || links[3].Header.Type != unix.NLMSG_DONE {
		t.Fatalf("link dump: %d messages", len(links))
	}
	for i, want := range []string{"lo", "veth1", "veth0"} {
		var l rtmsg.Link
		if err := l.UnmarshalBinary(links[i].Data); err != nil || l.Name != want {
			t.Fatalf("link %d: %q %v", i, l.Name, err)
		}
		if links[i].Header.Flags != unix.NLM_F_MULTI || links[i].Header.Pid != e.s.PortID() || links[i].Header.Seq != e.seq {
			t.Fatalf("header %+v", links[i].Header)
		}
	}
	addrs := e.dump(unix.RTM_GETADDR, []byte{unix.AF_INET, 0, 0, 0, 0, 0, 0, 0})
	if len(addrs) != 3 {
		t.Fatalf("addr dump: %d messages", len(addrs))
	}
	// Strict checking enables the ifa_index filter.
	e.s.SetOption(unix.NETLINK_GET_STRICT_CHK, true)
	addrs = e.dump(unix.RTM_GETADDR, []byte{unix.AF_INET, 0, 0, 0, 3, 0, 0, 0})
	if len(addrs) != 2 || addrs[0].Header.Flags != unix.NLM_F_MULTI|unix.NLM_F_DUMP_FILTERED {
		t.Fatalf("filtered addr dump: %d messages, flags %#x", len(addrs), addrs[0].Header.Flags)
	}
	// A header with junk is refused under strict checking.
	if errno, _ := e.do(unix.RTM_GETADDR, unix.NLM_F_DUMP, []byte{unix.AF_INET, 24, 0, 0, 0, 0, 0, 0}); errno != -int32(unix.EINVAL) {
		t.Fatalf("strict junk header: %d", errno)
	}
	e.s.SetOption(unix.NETLINK_GET_STRICT_CHK, false)
	neighs := e.dump(unix.RTM_GETNEIGH, make([]byte, unix.SizeofNdMsg))
	if len(neighs) != 2 {
		t.Fatalf("neigh dump: %d", len(neighs))
	}
	nc := e.dump(unix.RTM_GETNETCONF, []byte{unix.AF_INET, 0, 0, 0})
	if len(nc) != 3+2+1 {
		t.Fatalf("netconf dump: %d", len(nc))
	}
}

func TestLargeDumpIsSplit(t *testing.T) {
	e := newEnv(t)
	for range 60 {
		l := rtmsg.Link{Info: &rtmsg.LinkInfo{Kind: "dummy"}}
		e.mustDo(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, enc(&l))
	}
	e.s.SetRcvBuf(40000) // room for about one datagram at a time
	if err := e.s.Send(e.msg(unix.RTM_GETLINK, unix.NLM_F_DUMP, make([]byte, 16))); err != nil {
		t.Fatal(err)
	}
	// A second dump while the first is being delivered is EBUSY.
	if err := e.s.Send(e.msg(unix.RTM_GETADDR, unix.NLM_F_DUMP, make([]byte, 8))); err != nil {
		t.Fatal(err)
	}
	busy := false
	n, datagrams := 0, 0
	buf := make([]byte, 1<<16)
	for done := false; !done; {
		k, err := e.s.Recv(buf)
		if err != nil {
			t.Fatal(err)
		}
		if k > netlink.DefaultDumpSize {
			t.Fatalf("datagram of %d bytes", k)
		}
		datagrams++
		msgs, _ := netlink.ParseMessages(buf[:k])
		t.Logf("datagram %d bytes, %d messages", k, len(msgs))
		for _, m := range msgs {
			if m.Header.Type == unix.NLMSG_ERROR {
				busy = int32(binary.NativeEndian.Uint32(m.Data)) == -int32(unix.EBUSY)
				datagrams--
			} else if m.Header.Type == unix.NLMSG_DONE {
				done = true
			} else if m.Header.Type == unix.RTM_NEWLINK {
				n++
			}
		}
	}
	if !busy {
		t.Fatal("second dump not refused with EBUSY")
	}
	if n != 61 || datagrams < 2 {
		t.Fatalf("%d links in %d datagrams", n, datagrams)
	}
}

func TestPermissions(t *testing.T) {
	e := newEnv(t)
	ro, _ := e.srv.Open("", Cred{UID: 1000})
	e.seq++
	ro.Send(netlink.AppendMessage(nil, netlink.Header{Type: unix.RTM_NEWLINK, Flags: unix.NLM_F_REQUEST | unix.NLM_F_CREATE, Seq: e.seq}, vethReq("a", "b")))
	got := drain(t, ro)
	if len(got) != 1 || int32(binary.NativeEndian.Uint32(got[0][16:])) != -int32(unix.EPERM) {
		t.Fatalf("unprivileged NEWLINK: %x", got)
	}
	// Reading is allowed.
	ro.Send(netlink.AppendMessage(nil, netlink.Header{Type: unix.RTM_GETLINK, Flags: unix.NLM_F_REQUEST | unix.NLM_F_DUMP, Seq: 1}, make([]byte, 16)))
	if got := drain(t, ro); len(got) == 0 || binary.NativeEndian.Uint16(got[0][4:]) != unix.RTM_NEWLINK {
		t.Fatalf("unprivileged dump: %x", got)
	}
}

func TestBatchAndControlMessages(t *testing.T) {
	e := newEnv(t)
	var b []byte
	// NOOP with ACK, a request without NLM_F_REQUEST, an empty NEWLINK
	// probe (ENODEV), an unknown type, then a good request; two bytes of
	// trailing padding are ignored.
	b = netlink.AppendMessage(b, netlink.Header{Type: unix.NLMSG_NOOP, Flags: unix.NLM_F_ACK, Seq: 1}, nil)
	b = netlink.AppendMessage(b, netlink.Header{Type: unix.RTM_NEWLINK, Flags: unix.NLM_F_ACK, Seq: 2}, make([]byte, 16))
	b = netlink.AppendMessage(b, netlink.Header{Type: unix.RTM_NEWLINK, Flags: unix.NLM_F_REQUEST | unix.NLM_F_ACK, Seq: 3}, make([]byte, 16))
	b = netlink.AppendMessage(b, netlink.Header{Type: 0x7e, Flags: unix.NLM_F_REQUEST, Seq: 4}, make([]byte, 4))
	b = netlink.AppendMessage(b, netlink.Header{Type: unix.RTM_GETLINK, Flags: unix.NLM_F_REQUEST, Seq: 5}, enc(linkReq(1, "")))
	b = append(b, 0, 0)
	if err := e.s.Send(b); err != nil {
		t.Fatal(err)
	}
	got := drain(t, e.s)
	want := []struct {
		typ   uint16
		seq   uint32
		errno int32
	}{{unix.NLMSG_ERROR, 1, 0}, {unix.NLMSG_ERROR, 2, 0}, {unix.NLMSG_ERROR, 3, -int32(unix.ENODEV)},
		{unix.NLMSG_ERROR, 4, -int32(unix.EOPNOTSUPP)}, {unix.RTM_NEWLINK, 5, 0}}
	if len(got) != len(want) {
		t.Fatalf("%d replies", len(got))
	}
	for i, w := range want {
		h, _ := netlink.DecodeHeader(got[i])
		if h.Type != w.typ || h.Seq != w.seq || h.Pid != e.s.PortID() {
			t.Fatalf("reply %d: %+v", i, h)
		}
		if w.typ == unix.NLMSG_ERROR && int32(binary.NativeEndian.Uint32(got[i][16:])) != w.errno {
			t.Fatalf("reply %d: errno %d", i, int32(binary.NativeEndian.Uint32(got[i][16:])))
		}
	}
}

func TestEchoAndOverrun(t *testing.T) {
	e := newEnv(t)
	e.mustDo(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, vethReq("veth0", "veth1"))
	e.s.Join(unix.RTNLGRP_IPV4_IFADDR)
	// With NLM_F_ECHO the requester gets exactly one copy.
	other := e.mustDo(unix.RTM_NEWADDR, unix.NLM_F_CREATE|unix.NLM_F_EXCL|unix.NLM_F_ECHO, addrReq(3, "192.0.2.1/24"))
	if len(other) != 1 {
		t.Fatalf("echo: %d copies", len(other))
	}
	// Overflow: a tiny receive buffer and many notifications.
	mon, _ := e.srv.Open("", Cred{})
	mon.Join(unix.RTNLGRP_LINK)
	mon.SetRcvBuf(1024)
	e.mustDo(unix.RTM_NEWLINK, 0, upReq(3, true))
	e.mustDo(unix.RTM_NEWLINK, 0, upReq(3, false))
	if _, err := mon.Recv(make([]byte, 8192)); !errors.Is(err, syscall.ENOBUFS) {
		t.Fatalf("overrun: %v", err)
	}
}

func TestLinkSettings(t *testing.T) {
	e := newEnv(t)
	l := rtmsg.Link{Name: "d0", Info: &rtmsg.LinkInfo{Kind: "dummy"}, MTU: 9000, TxQLen: 5}
	e.mustDo(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, enc(&l))
	if errno, _ := e.do(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, enc(&l)); errno != -int32(unix.EEXIST) {
		t.Fatalf("second create: %d", errno)
	}
	set := rtmsg.Link{Index: 2, Name: "d1", Alias: "hello", Group: 7}
	e.mustDo(unix.RTM_SETLINK, 0, enc(&set))
	e.seq++
	e.s.Send(netlink.AppendMessage(nil, netlink.Header{Type: unix.RTM_GETLINK, Flags: unix.NLM_F_REQUEST, Seq: e.seq}, enc(linkReq(0, "d1"))))
	got := drain(t, e.s)
	var r rtmsg.Link
	if len(got) != 1 || r.UnmarshalBinary(got[0][16:]) != nil {
		t.Fatalf("getlink: %x", got)
	}
	if r.Name != "d1" || r.MTU != 9000 || r.TxQLen != 5 || r.Alias != "" && r.Alias != "hello" || r.Group != 7 || r.Info == nil || r.Info.Kind != "dummy" {
		t.Fatalf("link %+v", r)
	}
	bad := rtmsg.Link{Index: 2, MTU: 70000}
	if errno, _ := e.do(unix.RTM_SETLINK, 0, enc(&bad)); errno != -int32(unix.EINVAL) {
		t.Fatalf("mtu 70000: %d", errno)
	}
	e.mustDo(unix.RTM_DELLINK, 0, enc(linkReq(0, "d1")))
	if errno, _ := e.do(unix.RTM_DELLINK, 0, enc(linkReq(0, "d1"))); errno != -int32(unix.ENODEV) {
		t.Fatalf("second delete: %d", errno)
	}
	if errno, _ := e.do(unix.RTM_DELLINK, 0, enc(linkReq(1, ""))); errno != -int32(unix.EOPNOTSUPP) {
		t.Fatalf("delete lo: %d", errno)
	}
}

func TestVethAcrossNamespaces(t *testing.T) {
	e := newEnv(t)
	ns2, err := e.st.Add("blue")
	if err != nil {
		t.Fatal(err)
	}
	mon, _ := e.srv.Open("blue", Cred{})
	mon.Join(unix.RTNLGRP_LINK)
	p := rtmsg.Link{Name: "vb", NetNSPid: ns2.Net.ID()}
	p.Attrs.Set(unix.IFLA_NET_NS_PID)
	data, _ := rtmsg.EncodeVethPeer(&p)
	l := rtmsg.Link{Name: "va", Info: &rtmsg.LinkInfo{Kind: "veth", Data: data}}
	e.mustDo(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, enc(&l))
	got := drain(t, mon)
	if len(got) != 1 {
		t.Fatalf("%d notifications in blue", len(got))
	}
	var r rtmsg.Link
	r.UnmarshalBinary(got[0][16:])
	if r.Name != "vb" || !r.Attrs.Has(unix.IFLA_LINK_NETNSID) {
		t.Fatalf("peer %+v", r)
	}
	// Deleting one end removes both.
	e.mustDo(unix.RTM_DELLINK, 0, enc(linkReq(0, "va")))
	got = drain(t, mon)
	if len(got) == 0 || binary.NativeEndian.Uint16(got[len(got)-1][4:]) != unix.RTM_DELLINK {
		t.Fatalf("peer deletion: %d notifications", len(got))
	}
}

func TestLinkDumpKindFilter(t *testing.T) {
	e := newEnv(t)
	e.mustDo(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, vethReq("veth0", "veth1"))
	l := rtmsg.Link{Info: &rtmsg.LinkInfo{Kind: "dummy"}}
	e.mustDo(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, enc(&l))
	msgs := e.dump(unix.RTM_GETLINK, enc(&rtmsg.Link{Info: &rtmsg.LinkInfo{Kind: "veth"}}))
	if len(msgs) != 3 || msgs[0].Header.Flags&unix.NLM_F_DUMP_FILTERED == 0 {
		t.Fatalf("%d messages", len(msgs))
	}
	e.s.SetOption(unix.NETLINK_GET_STRICT_CHK, true)
	if errno, _ := e.do(unix.RTM_GETLINK, unix.NLM_F_DUMP, enc(&rtmsg.Link{MTU: 5})); errno != -int32(unix.EINVAL) {
		t.Fatalf("strict dump with IFLA_MTU: %d", errno)
	}
}
