package rtnl

import (
	"github.com/usnet/usnet/ipv4"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

func lftAddrReq(index uint32, p string, valid, preferred uint32) []byte {
	pf := netip.MustParsePrefix(p)
	a := rtmsg.Addr{Family: unix.AF_INET, PrefixLen: uint8(pf.Bits()), Index: index, Local: pf.Addr(), Address: pf.Addr(),
		Cacheinfo: &rtmsg.AddrCacheinfo{Valid: valid, Preferred: preferred}}
	return enc(&a)
}

// addrInfo is the dumped state of one address: flags and remaining
// lifetimes.
func (e *env) addrInfo(local string) (flags, valid, preferred uint32, ok bool) {
	for _, m := range e.dump(unix.RTM_GETADDR, []byte{unix.AF_INET, 0, 0, 0, 0, 0, 0, 0}) {
		if m.Header.Type != unix.RTM_NEWADDR {
			continue
		}
		var a rtmsg.Addr
		if err := a.UnmarshalBinary(m.Data); err != nil {
			e.t.Fatal(err)
		}
		if a.Local.String() == local {
			return a.AllFlags(), a.Cacheinfo.Valid, a.Cacheinfo.Preferred, true
		}
	}
	return 0, 0, 0, false
}

// TestAddrLifetimeExpiry: an address added with valid_lft 30
// preferred_lft 20 is announced DEPRECATED (RTM_NEWADDR, no port id)
// when 20 s of virtual time have passed and deleted (RTM_DELADDR and its
// kernel routes, as on `ip addr del`) at 30 s, as check_lifetime does.
func TestAddrLifetimeExpiry(t *testing.T) {
	e := newEnv(t)
	e.mustDo(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, vethReq("veth0", "veth1"))
	e.mustDo(unix.RTM_NEWLINK, 0, upReq(3, true))
	e.mustDo(unix.RTM_NEWLINK, 0, upReq(2, true))
	// Start on a whole second so that the deadlines need no rounding.
	e.st.Sim.RunUntil((e.st.Sim.Now()/time.Second + 1) * time.Second)
	t0 := e.st.Sim.Now()
	mon, _ := e.srv.Open("", Cred{})
	mon.Join(unix.RTNLGRP_IPV4_IFADDR)
	mon.Join(unix.RTNLGRP_IPV4_ROUTE)
	e.mustDo(unix.RTM_NEWADDR, unix.NLM_F_CREATE|unix.NLM_F_EXCL, lftAddrReq(3, "192.0.2.1/24", 30, 20))
	e.mustDo(unix.RTM_NEWADDR, unix.NLM_F_CREATE|unix.NLM_F_EXCL, addrReq(3, "198.51.100.1/24"))
	drain(t, mon)

	if f, v, p, _ := e.addrInfo("192.0.2.1"); f&(unix.IFA_F_PERMANENT|unix.IFA_F_DEPRECATED) != 0 || v != 30 || p != 20 {
		t.Fatalf("after add: flags %#x valid %d preferred %d, want dynamic 30/20", f, v, p)
	}
	if f, v, p, _ := e.addrInfo("198.51.100.1"); f&unix.IFA_F_PERMANENT == 0 || v != ^uint32(0) || p != ^uint32(0) {
		t.Fatalf("address without lifetimes: flags %#x valid %d preferred %d, want permanent forever", f, v, p)
	}
	e.st.Sim.RunUntil(t0 + 19500*time.Millisecond)
	if f, v, p, _ := e.addrInfo("192.0.2.1"); f&unix.IFA_F_DEPRECATED != 0 || v != 11 || p != 1 {
		t.Fatalf("at 19.5 s: flags %#x valid %d preferred %d, want 11/1", f, v, p)
	}
	if got := drain(t, mon); len(got) != 0 {
		t.Fatalf("notifications before 20 s: %v", summarizeAll(got))
	}

	e.st.Sim.RunUntil(t0 + 20*time.Second)
	want := []string{"type=20 nlflags=0x0 seq=0 pid=0 addr 192.0.2.1/24 local=192.0.2.1 flags=0x20 scope=0 idx=3 label=veth0"}
	if got := summarizeAll(drain(t, mon)); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("at 20 s:\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	if f, v, p, _ := e.addrInfo("192.0.2.1"); f&unix.IFA_F_DEPRECATED == 0 || v != 10 || p != 0 {
		t.Fatalf("at 20 s: flags %#x valid %d preferred %d, want deprecated 10/0", f, v, p)
	}

	e.st.Sim.RunUntil(t0 + 29900*time.Millisecond)
	if got := drain(t, mon); len(got) != 0 {
		t.Fatalf("notifications before 30 s: %v", summarizeAll(got))
	}
	e.st.Sim.RunUntil(t0 + 30*time.Second)
	want = []string{
		"type=21 nlflags=0x0 seq=0 pid=0 addr 192.0.2.1/24 local=192.0.2.1 flags=0x20 scope=0 idx=3 label=veth0",
		"type=25 nlflags=0x0 seq=0 pid=0 route table=254 192.0.2.0/24 gw=invalid IP prefsrc=192.0.2.1 oif=3 proto=2 scope=253 type=1 flags=0x0",
		"type=25 nlflags=0x0 seq=0 pid=0 route table=255 192.0.2.255/32 gw=invalid IP prefsrc=192.0.2.1 oif=3 proto=2 scope=253 type=3 flags=0x0",
		"type=25 nlflags=0x0 seq=0 pid=0 route table=255 192.0.2.1/32 gw=invalid IP prefsrc=192.0.2.1 oif=3 proto=2 scope=254 type=2 flags=0x0",
	}
	if got := summarizeAll(drain(t, mon)); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("at 30 s:\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	if _, _, _, ok := e.addrInfo("192.0.2.1"); ok {
		t.Fatal("address still there after its valid lifetime")
	}
	if _, _, _, ok := e.addrInfo("198.51.100.1"); !ok {
		t.Fatal("the permanent address expired too")
	}
	// Nothing has a lifetime any more: the check does not run again.
	n := e.st.Sim.Events()
	e.st.Sim.RunFor(10 * time.Minute)
	if e.st.Sim.Events() != n {
		t.Errorf("%d events in 10 idle minutes", e.st.Sim.Events()-n)
	}
}

// TestAddrLifetimeReplace: NLM_F_REPLACE of an existing address takes the
// request's lifetimes (and so makes it permanent without them) but not
// its flags, and announces it with the requester's port id.
func TestAddrLifetimeReplace(t *testing.T) {
	e := newEnv(t)
	e.mustDo(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, vethReq("veth0", "veth1"))
	e.mustDo(unix.RTM_NEWADDR, unix.NLM_F_CREATE|unix.NLM_F_EXCL, addrReq(3, "192.0.2.1/24"))
	e.st.Sim.RunFor(5 * time.Second)
	e.mustDo(unix.RTM_NEWADDR, unix.NLM_F_CREATE|unix.NLM_F_REPLACE, lftAddrReq(3, "192.0.2.1/24", 100, 0))
	if f, v, p, _ := e.addrInfo("192.0.2.1"); f&unix.IFA_F_PERMANENT != 0 || f&unix.IFA_F_DEPRECATED == 0 || v != 100 || p != 0 {
		t.Fatalf("after replace with 100/0: flags %#x valid %d preferred %d", f, v, p)
	}
	e.st.Sim.RunFor(50 * time.Second)
	if errno, _ := e.do(unix.RTM_NEWADDR, unix.NLM_F_CREATE|unix.NLM_F_REPLACE, lftAddrReq(3, "192.0.2.1/24", 10, 20)); errno != -22 {
		t.Fatalf("preferred > valid: errno %d, want EINVAL", -errno)
	}
	e.mustDo(unix.RTM_NEWADDR, unix.NLM_F_CREATE|unix.NLM_F_REPLACE, addrReq(3, "192.0.2.1/24"))
	if f, v, p, _ := e.addrInfo("192.0.2.1"); f&unix.IFA_F_PERMANENT == 0 || f&unix.IFA_F_DEPRECATED != 0 || v != ^uint32(0) || p != ^uint32(0) {
		t.Fatalf("after replace without lifetimes: flags %#x valid %d preferred %d", f, v, p)
	}
	e.st.Sim.RunFor(200 * time.Second)
	if _, _, _, ok := e.addrInfo("192.0.2.1"); !ok {
		t.Fatal("a permanent address expired")
	}
}

func summarizeAll(ds [][]byte) []string {
	var out []string
	for _, d := range ds {
		out = append(out, summarize(d, 0, 0)...)
	}
	return out
}

// TestPromotionRoutes: deleting a primary with promote_secondaries on
// (an expiring one, or `ip addr del`) gives the notifications Linux 6.18
// sends (ip monitor on a kernel namespace; the peer is down, hence
// LINKDOWN): the secondaries' local
// routes with the old source first, then the address and its routes,
// then the promoted address and the local routes with the new source.
func TestPromotionRoutes(t *testing.T) {
	e := newEnv(t)
	// A fresh namespace has it off, as Linux's (devconf_inherit_init_net 0).
	ns := e.st.Default()
	ns.Exec().Do(func() { ns.IPv4.SetConf(ipv4.ConfAll, ipv4.ConfPromoteSecondaries, 1) })
	e.mustDo(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, vethReq("a0", "a1"))
	e.mustDo(unix.RTM_NEWLINK, 0, upReq(3, true))
	for _, p := range []string{"10.30.0.1/24", "10.30.0.2/24", "10.30.0.3/24"} {
		e.mustDo(unix.RTM_NEWADDR, unix.NLM_F_CREATE|unix.NLM_F_EXCL, addrReq(3, p))
	}
	mon, _ := e.srv.Open("", Cred{})
	mon.Join(unix.RTNLGRP_IPV4_IFADDR)
	mon.Join(unix.RTNLGRP_IPV4_ROUTE)
	e.mustDo(unix.RTM_DELADDR, 0, addrReq(3, "10.30.0.1/24"))
	var got []string
	for _, s := range summarizeAll(drain(t, mon)) {
		f := strings.Fields(s)
		got = append(got, f[0]+" "+strings.Join(f[4:], " "))
	}
	want := []string{
		"type=25 route table=255 10.30.0.2/32 gw=invalid IP prefsrc=10.30.0.1 oif=3 proto=2 scope=254 type=2 flags=0x0",
		"type=25 route table=255 10.30.0.3/32 gw=invalid IP prefsrc=10.30.0.1 oif=3 proto=2 scope=254 type=2 flags=0x0",
		"type=21 addr 10.30.0.1/24 local=10.30.0.1 flags=0x80 scope=0 idx=3 label=a0",
		"type=25 route table=254 10.30.0.0/24 gw=invalid IP prefsrc=10.30.0.1 oif=3 proto=2 scope=253 type=1 flags=0x10",
		"type=25 route table=255 10.30.0.255/32 gw=invalid IP prefsrc=10.30.0.1 oif=3 proto=2 scope=253 type=3 flags=0x10",
		"type=25 route table=255 10.30.0.1/32 gw=invalid IP prefsrc=10.30.0.1 oif=3 proto=2 scope=254 type=2 flags=0x0",
		"type=20 addr 10.30.0.2/24 local=10.30.0.2 flags=0x80 scope=0 idx=3 label=a0",
		"type=24 route table=255 10.30.0.2/32 gw=invalid IP prefsrc=10.30.0.2 oif=3 proto=2 scope=254 type=2 flags=0x0",
		"type=24 route table=254 10.30.0.0/24 gw=invalid IP prefsrc=10.30.0.2 oif=3 proto=2 scope=253 type=1 flags=0x10",
		"type=24 route table=255 10.30.0.255/32 gw=invalid IP prefsrc=10.30.0.2 oif=3 proto=2 scope=253 type=3 flags=0x10",
		"type=24 route table=255 10.30.0.3/32 gw=invalid IP prefsrc=10.30.0.2 oif=3 proto=2 scope=254 type=2 flags=0x0",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}
