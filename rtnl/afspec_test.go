package rtnl

import (
	"testing"

	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

// afSpec6 builds IFLA_AF_SPEC { AF_INET6 { IFLA_INET6_ADDR_GEN_MODE m } }
// as `ip link set DEV addrgenmode MODE` sends it.
func afSpec6(m uint8) []byte {
	ae := netlink.NewAttributeEncoder(nil)
	n := ae.BeginNest(unix.AF_INET6)
	ae.Uint8(unix.IFLA_INET6_ADDR_GEN_MODE, m)
	ae.EndNest(n)
	return ae.Bytes()
}

// genMode returns the address generation mode in a link message's
// IFLA_AF_SPEC, or -1.
func genMode(t *testing.T, l *rtmsg.Link) int {
	t.Helper()
	d := netlink.NewAttributeDecoder(l.AFSpec)
	for d.Next() {
		if d.Type() != unix.AF_INET6 {
			continue
		}
		n, err := d.Nested()
		if err != nil {
			t.Fatal(err)
		}
		for n.Next() {
			if n.Type() == unix.IFLA_INET6_ADDR_GEN_MODE {
				return int(n.Bytes()[0])
			}
		}
	}
	return -1
}

func (e *env) getLink(name string) rtmsg.Link {
	e.t.Helper()
	e.seq++
	e.s.Send(netlink.AppendMessage(nil, netlink.Header{Type: unix.RTM_GETLINK, Flags: unix.NLM_F_REQUEST, Seq: e.seq}, enc(linkReq(0, name))))
	got := drain(e.t, e.s)
	var r rtmsg.Link
	if len(got) != 1 || r.UnmarshalBinary(got[0][16:]) != nil {
		e.t.Fatalf("getlink %s: %x", name, got)
	}
	return r
}

func TestAddrGenMode(t *testing.T) {
	e := newEnv(t)
	e.mustDo(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, vethReq("v0", "v1"))
	if m := genMode(t, ptr(e.getLink("v0"))); m != 0 {
		t.Fatalf("new veth: addrgenmode %d, want 0 (eui64)", m)
	}
	mon, _ := e.srv.Open("", Cred{})
	mon.Join(unix.RTNLGRP_LINK)
	idx := e.getLink("v0").Index

	// Down: the mode changes silently (netdev_state_change needs IFF_UP).
	e.mustDo(unix.RTM_SETLINK, 0, enc(&rtmsg.Link{Index: idx, AFSpec: afSpec6(1)}))
	if n := len(drain(t, mon)); n != 0 {
		t.Fatalf("%d notifications for a down device", n)
	}
	if m := genMode(t, ptr(e.getLink("v0"))); m != 1 {
		t.Fatalf("addrgenmode %d after set none", m)
	}
	// Up: one RTM_NEWLINK carrying the new mode.
	e.mustDo(unix.RTM_SETLINK, 0, upReq(idx, true))
	drain(t, mon)
	e.mustDo(unix.RTM_SETLINK, 0, enc(&rtmsg.Link{Index: idx, AFSpec: afSpec6(3)}))
	got := drain(t, mon)
	if len(got) != 1 {
		t.Fatalf("%d notifications, want one RTM_NEWLINK", len(got))
	}
	var l rtmsg.Link
	if h, _ := netlink.DecodeHeader(got[0]); h.Type != unix.RTM_NEWLINK || l.UnmarshalBinary(got[0][16:]) != nil || genMode(t, &l) != 3 {
		t.Fatalf("notification %x", got[0])
	}
	// Refusals leave the mode as it was.
	for _, c := range []struct {
		spec  []byte
		errno unix.Errno
	}{
		{afSpec6(2), unix.EINVAL}, // stable_secret without a secret
		{afSpec6(9), unix.EINVAL},
		{func() []byte { // AF_INET6 setting nothing
			ae := netlink.NewAttributeEncoder(nil)
			ae.EndNest(ae.BeginNest(unix.AF_INET6))
			return ae.Bytes()
		}(), unix.EINVAL},
		{func() []byte { // a family without per-link data
			ae := netlink.NewAttributeEncoder(nil)
			ae.EndNest(ae.BeginNest(unix.AF_PACKET))
			return ae.Bytes()
		}(), unix.EAFNOSUPPORT},
	} {
		if errno, _ := e.do(unix.RTM_SETLINK, 0, enc(&rtmsg.Link{Index: idx, AFSpec: c.spec, MTU: 1400})); errno != -int32(c.errno) {
			t.Fatalf("spec %x: errno %d, want %d", c.spec, -errno, c.errno)
		}
	}
	if l := e.getLink("v0"); genMode(t, &l) != 3 || l.MTU != 1500 {
		t.Fatalf("after refusals: mode %d mtu %d", genMode(t, &l), l.MTU)
	}
	// The setting dies with the device.
	e.mustDo(unix.RTM_DELLINK, 0, enc(linkReq(idx, "")))
	e.mustDo(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, vethReq("v0", "v1"))
	if m := genMode(t, ptr(e.getLink("v0"))); m != 0 {
		t.Fatalf("recreated veth: addrgenmode %d", m)
	}
}

func ptr[T any](v T) *T { return &v }

func TestNumQueues(t *testing.T) {
	e := newEnv(t)
	e.mustDo(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, enc(&rtmsg.Link{Name: "d0", Info: &rtmsg.LinkInfo{Kind: "dummy"}}))
	if l := e.getLink("d0"); l.NumTxQueues != 1 || l.NumRxQueues != 1 {
		t.Fatalf("dummy: %d/%d queues", l.NumTxQueues, l.NumRxQueues)
	}
	// A veth peer with its own counts; the first end keeps the default.
	p := rtmsg.Link{Name: "v1", NumTxQueues: 3, NumRxQueues: 5}
	p.Attrs.Set(unix.IFLA_NUM_TX_QUEUES)
	p.Attrs.Set(unix.IFLA_NUM_RX_QUEUES)
	data, _ := rtmsg.EncodeVethPeer(&p)
	e.mustDo(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, enc(&rtmsg.Link{Name: "v0", Info: &rtmsg.LinkInfo{Kind: "veth", Data: data}}))
	if l := e.getLink("v1"); l.NumTxQueues != 3 || l.NumRxQueues != 5 {
		t.Fatalf("veth peer: %d/%d queues", l.NumTxQueues, l.NumRxQueues)
	}
	if l := e.getLink("v0"); l.NumTxQueues < 1 || l.NumTxQueues != l.NumRxQueues {
		t.Fatalf("veth: %d/%d queues", l.NumTxQueues, l.NumRxQueues)
	}
	for _, n := range []uint32{0, 4097} {
		l := rtmsg.Link{Name: "d1", Info: &rtmsg.LinkInfo{Kind: "dummy"}, NumTxQueues: n}
		l.Attrs.Set(unix.IFLA_NUM_TX_QUEUES)
		if errno, _ := e.do(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, enc(&l)); errno != -int32(unix.EINVAL) {
			t.Fatalf("%d tx queues: errno %d", n, -errno)
		}
	}
	if msgs := e.dump(unix.RTM_GETLINK, enc(&rtmsg.Link{})); len(msgs) != 5 { // lo, d0, v0, v1, DONE
		t.Fatalf("%d messages in the dump: a refused device was left behind", len(msgs))
	}
}

// TestOversizedMessages: a message that cannot be encoded (a nest past
// nla_len's 64 KiB) is never sent with a wrapped length. A reply fails
// the request with EMSGSIZE (rtnl_getlink); a notification is dropped
// and its listeners' next receive says EMSGSIZE (rtnl_set_sk_err).
func TestOversizedMessages(t *testing.T) {
	e := newEnv(t)
	mon, _ := e.srv.Open("", Cred{})
	mon.Join(unix.RTNLGRP_LINK)
	other, _ := e.srv.Open("", Cred{})
	other.Join(unix.RTNLGRP_NEIGH)
	st := e.srv.state(e.st.Default())
	huge := func(enc *netlink.AttributeEncoder) {
		n := enc.BeginNest(unix.IFLA_LINKINFO)
		enc.PutBytes(unix.IFLA_INFO_DATA, make([]byte, 40000))
		enc.PutBytes(unix.IFLA_INFO_SLAVE_DATA, make([]byte, 40000))
		enc.EndNest(n)
	}
	e.st.Default().Exec().Do(func() {
		enc := st.begin()
		m := enc.BeginMessage(netlink.Header{Type: unix.RTM_NEWLINK})
		huge(enc)
		enc.EndMessage(m)
		st.multicast(unix.RTNLGRP_LINK, enc.Bytes())
	})
	buf := make([]byte, 1<<17)
	if n, err := mon.Recv(buf); err != unix.EMSGSIZE {
		t.Fatalf("listener: %d bytes, %v; want EMSGSIZE", n, err)
	}
	if other.Pending() != 0 {
		t.Fatal("a socket outside the group was told")
	}
	// The error is reported once; the socket works on.
	e.mustDo(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, enc(&rtmsg.Link{Name: "d0", Info: &rtmsg.LinkInfo{Kind: "dummy"}}))
	if n, err := mon.Recv(buf); err != nil || n == 0 {
		t.Fatalf("after the error: %d bytes, %v", n, err)
	}

	c := &call{s: e.s, st: st, h: netlink.Header{Seq: 7}}
	e.st.Default().Exec().Do(func() { c.reply(unix.RTM_NEWLINK, huge) })
	if c.replyErr != unix.EMSGSIZE || e.s.Pending() != 0 {
		t.Fatalf("reply: err %v, %d datagrams queued", c.replyErr, e.s.Pending())
	}
}
