package rtnl

import (
	"net/netip"
	"testing"

	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

func proxyReq(index int32, dst string, flags uint8) []byte {
	n := rtmsg.Neigh{Family: unix.AF_INET, Index: index, State: unix.NUD_PERMANENT, Flags: unix.NTF_PROXY | flags,
		Dst: netip.MustParseAddr(dst)}
	return enc(&n)
}

func decodeNeighs(t *testing.T, msgs []netlink.Message) []rtmsg.Neigh {
	t.Helper()
	var l []rtmsg.Neigh
	for _, m := range msgs {
		if m.Header.Type != unix.RTM_NEWNEIGH {
			continue
		}
		var n rtmsg.Neigh
		if err := n.UnmarshalBinary(m.Data); err != nil {
			t.Fatal(err)
		}
		l = append(l, n)
	}
	return l
}

// TestNeighRouterFlagDumped: NTF_ROUTER given with `ip neigh add ...
// router` is kept and reported in dumps and notifications.
func TestNeighRouterFlagDumped(t *testing.T) {
	e := newEnv(t)
	l := rtmsg.Link{Name: "d0", Info: &rtmsg.LinkInfo{Kind: "dummy"}}
	e.mustDo(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, enc(&l))
	idx := int32(e.st.Default().Dev.ByName("d0").Ifindex())
	mon, err := e.srv.Open("", Cred{PID: 1, Admin: true})
	if err != nil {
		t.Fatal(err)
	}
	mon.Join(unix.RTNLGRP_NEIGH)
	n := rtmsg.Neigh{Family: unix.AF_INET, Index: idx, State: unix.NUD_STALE, Flags: unix.NTF_ROUTER,
		Dst: netip.MustParseAddr("10.0.0.10"), LLAddr: []byte{0, 0x11, 0x22, 0x33, 0x44, 0x56}}
	e.mustDo(unix.RTM_NEWNEIGH, unix.NLM_F_CREATE|unix.NLM_F_EXCL, enc(&n))
	got := decodeNeighs(t, e.dump(unix.RTM_GETNEIGH, make([]byte, unix.SizeofNdMsg)))
	if len(got) != 1 || got[0].Flags != unix.NTF_ROUTER || got[0].State != unix.NUD_STALE {
		t.Fatalf("dump %+v", got)
	}
	notes := drain(t, mon)
	if len(notes) != 1 || notes[0][16+10] != unix.NTF_ROUTER {
		t.Fatalf("notifications %x", notes)
	}
}

// TestProxyNeighMessages: proxy entries through rtnetlink: add (any
// NLM_F flags, with or without a device), the NTF_PROXY dump and its
// filters, get, delete with the kernel's errnos, and no notifications.
func TestProxyNeighMessages(t *testing.T) {
	e := newEnv(t)
	l := rtmsg.Link{Name: "d0", Info: &rtmsg.LinkInfo{Kind: "dummy"}}
	e.mustDo(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, enc(&l))
	idx := int32(e.st.Default().Dev.ByName("d0").Ifindex())
	mon, err := e.srv.Open("", Cred{PID: 1, Admin: true})
	if err != nil {
		t.Fatal(err)
	}
	mon.Join(unix.RTNLGRP_NEIGH)

	e.mustDo(unix.RTM_NEWNEIGH, unix.NLM_F_CREATE|unix.NLM_F_EXCL, proxyReq(idx, "10.0.0.11", 0))
	e.mustDo(unix.RTM_NEWNEIGH, unix.NLM_F_CREATE|unix.NLM_F_EXCL, proxyReq(idx, "10.0.0.11", unix.NTF_ROUTER))
	e.mustDo(unix.RTM_NEWNEIGH, 0, proxyReq(0, "10.0.0.12", 0))
	if errno, _ := e.do(unix.RTM_NEWNEIGH, 0, proxyReq(99, "10.0.0.13", 0)); errno != -int32(unix.ENODEV) {
		t.Fatalf("unknown device: errno %d", errno)
	}
	if notes := drain(t, mon); len(notes) != 0 {
		t.Fatalf("proxy add notified (the kernel does not): %x", notes)
	}

	// The ordinary dump does not list proxies; ndm_flags == NTF_PROXY does.
	if got := decodeNeighs(t, e.dump(unix.RTM_GETNEIGH, make([]byte, unix.SizeofNdMsg))); len(got) != 0 {
		t.Fatalf("proxies in the neighbour dump: %+v", got)
	}
	req := make([]byte, unix.SizeofNdMsg)
	req[0], req[10] = unix.AF_INET, unix.NTF_PROXY
	got := decodeNeighs(t, e.dump(unix.RTM_GETNEIGH, req))
	if len(got) != 2 {
		t.Fatalf("proxy dump: %+v", got)
	}
	wild, dev := got[0], got[1]
	if wild.Index != 0 || wild.Dst.String() != "10.0.0.12" || wild.Flags != unix.NTF_PROXY || wild.State != 0 ||
		dev.Index != idx || dev.Flags != unix.NTF_PROXY|unix.NTF_ROUTER || dev.Type != unix.RTN_UNICAST ||
		dev.Attrs.Has(unix.NDA_LLADDR) || dev.Attrs.Has(unix.NDA_CACHEINFO) || dev.Attrs.Has(unix.NDA_PROBES) {
		t.Fatalf("proxy dump entries %+v %+v", wild, dev)
	}
	// NDA_IFINDEX filters, and marks the dump filtered.
	fr := rtmsg.Neigh{Family: unix.AF_INET, Flags: unix.NTF_PROXY, IfIndex: uint32(idx)}
	msgs := e.dump(unix.RTM_GETNEIGH, enc(&fr))
	if got := decodeNeighs(t, msgs); len(got) != 1 || got[0].Index != idx || msgs[0].Header.Flags&unix.NLM_F_DUMP_FILTERED == 0 {
		t.Fatalf("filtered proxy dump: %+v", got)
	}

	// Get: the device's entry, or the wildcard one.
	g := rtmsg.Neigh{Family: unix.AF_INET, Index: idx, Flags: unix.NTF_PROXY, Dst: netip.MustParseAddr("10.0.0.12")}
	if errno, _ := e.do(unix.RTM_GETNEIGH, 0, enc(&g)); errno != 0 {
		t.Fatalf("get through the wildcard: errno %d", errno)
	}
	g.Dst = netip.MustParseAddr("10.0.0.99")
	if errno, _ := e.do(unix.RTM_GETNEIGH, 0, enc(&g)); errno != -int32(unix.ENOENT) {
		t.Fatalf("get missing proxy: errno %d", errno)
	}

	// Delete matches the device exactly.
	if errno, _ := e.do(unix.RTM_DELNEIGH, 0, proxyReq(idx, "10.0.0.12", 0)); errno != -int32(unix.ENOENT) {
		t.Fatalf("delete wildcard through a device: errno %d", errno)
	}
	e.mustDo(unix.RTM_DELNEIGH, 0, proxyReq(0, "10.0.0.12", 0))
	e.mustDo(unix.RTM_DELNEIGH, 0, proxyReq(idx, "10.0.0.11", 0))
	if errno, _ := e.do(unix.RTM_DELNEIGH, 0, proxyReq(idx, "10.0.0.11", 0)); errno != -int32(unix.ENOENT) {
		t.Fatalf("second delete: errno %d", errno)
	}
	if got := decodeNeighs(t, e.dump(unix.RTM_GETNEIGH, req)); len(got) != 0 {
		t.Fatalf("proxies left: %+v", got)
	}
	if notes := drain(t, mon); len(notes) != 0 {
		t.Fatalf("proxy delete notified: %x", notes)
	}
	// Without NTF_PROXY and without a device, add and delete are EINVAL.
	n := rtmsg.Neigh{Family: unix.AF_INET, State: unix.NUD_PERMANENT, Dst: netip.MustParseAddr("10.0.0.11"), LLAddr: make([]byte, 6)}
	if errno, _ := e.do(unix.RTM_NEWNEIGH, unix.NLM_F_CREATE, enc(&n)); errno != -int32(unix.EINVAL) {
		t.Fatalf("add without device: errno %d", errno)
	}
	if errno, _ := e.do(unix.RTM_DELNEIGH, 0, enc(&n)); errno != -int32(unix.EINVAL) {
		t.Fatalf("delete without device: errno %d", errno)
	}
}
