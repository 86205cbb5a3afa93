package iproute

import (
	"net/netip"
	"strings"
	"syscall"
	"testing"

	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

func mustRun(t *testing.T, f *fakeTransport, line string) {
	t.Helper()
	if code, _, e := run(f, line); code != 0 {
		t.Fatalf("ip %s: exit %d: %s", line, code, e)
	}
}

func TestParseLinkAddVeth(t *testing.T) {
	f := refTransport(t)
	mustRun(t, f, "link add v0 mtu 1400 type veth peer name v1 address 02:00:00:00:00:01")
	m := f.last(t, unix.RTM_NEWLINK)
	want := uint16(unix.NLM_F_REQUEST | unix.NLM_F_ACK | unix.NLM_F_CREATE | unix.NLM_F_EXCL)
	if m.Header.Flags != want {
		t.Errorf("flags %#x, want %#x", m.Header.Flags, want)
	}
	var l rtmsg.Link
	if err := l.UnmarshalBinary(m.Data); err != nil {
		t.Fatal(err)
	}
	if l.Name != "v0" || l.MTU != 1400 || l.Info == nil || l.Info.Kind != "veth" {
		t.Fatalf("link %+v", l)
	}
	peer, ok, err := rtmsg.DecodeVethPeer(l.Info.Data)
	if err != nil || !ok || peer.Name != "v1" || formatMAC(peer.Address) != "02:00:00:00:00:01" {
		t.Fatalf("peer %+v ok %v err %v", peer, ok, err)
	}
}

func TestParseLinkSet(t *testing.T) {
	f := refTransport(t)
	mustRun(t, f, "link set dev veth0 up mtu 9000 txqueuelen 500 alias uplink name wan0")
	var l rtmsg.Link
	if err := l.UnmarshalBinary(f.last(t, unix.RTM_NEWLINK).Data); err != nil {
		t.Fatal(err)
	}
	if l.Index != 3 || l.Flags&unix.IFF_UP == 0 || l.Change != unix.IFF_UP || l.MTU != 9000 ||
		l.TxQLen != 500 || l.Alias != "uplink" || l.Name != "wan0" {
		t.Fatalf("link %+v", l)
	}
	mustRun(t, f, "link set veth1 down")
	if err := l.UnmarshalBinary(f.last(t, unix.RTM_NEWLINK).Data); err != nil {
		t.Fatal(err)
	}
	if l.Index != 2 || l.Flags&unix.IFF_UP != 0 || l.Change != unix.IFF_UP {
		t.Fatalf("link %+v", l)
	}
	mustRun(t, f, "link del veth1")
	if err := l.UnmarshalBinary(f.last(t, unix.RTM_DELLINK).Data); err != nil || l.Index != 2 {
		t.Fatalf("del %+v %v", l, err)
	}
}

func TestParseAddr(t *testing.T) {
	f := refTransport(t)
	mustRun(t, f, "addr add 10.1.2.3/20 brd + dev veth0 label veth0:x scope link metric 7 noprefixroute")
	m := f.last(t, unix.RTM_NEWADDR)
	var a rtmsg.Addr
	if err := a.UnmarshalBinary(m.Data); err != nil {
		t.Fatal(err)
	}
	if a.Family != unix.AF_INET || a.PrefixLen != 20 || a.Index != 3 || a.Scope != unix.RT_SCOPE_LINK ||
		a.Local != netip.MustParseAddr("10.1.2.3") || a.Address != a.Local ||
		a.Broadcast != netip.MustParseAddr("10.1.15.255") || a.Label != "veth0:x" ||
		a.RtPriority != 7 || a.AllFlags() != unix.IFA_F_NOPREFIXROUTE {
		t.Fatalf("addr %+v", a)
	}
	mustRun(t, f, "address del 192.0.2.2/24 dev veth0")
	m = f.last(t, unix.RTM_DELADDR)
	if err := a.UnmarshalBinary(m.Data); err != nil || a.Local != netip.MustParseAddr("192.0.2.2") || a.PrefixLen != 24 {
		t.Fatalf("del %+v %v", a, err)
	}
	mustRun(t, f, "a replace 127.0.0.2/8 dev lo")
	m = f.last(t, unix.RTM_NEWADDR)
	if m.Header.Flags&(unix.NLM_F_REPLACE|unix.NLM_F_CREATE) != unix.NLM_F_REPLACE|unix.NLM_F_CREATE {
		t.Errorf("replace flags %#x", m.Header.Flags)
	}
	if err := a.UnmarshalBinary(m.Data); err != nil || a.Scope != unix.RT_SCOPE_HOST {
		t.Fatalf("loopback address scope %d (%v)", a.Scope, err)
	}
}

func TestParseRoute(t *testing.T) {
	f := refTransport(t)
	mustRun(t, f, "route add 10.0.0.0/8 via 192.0.2.254 table 1000 metric 5 proto static mtu lock 1400 advmss 1300 src 192.0.2.1")
	m := f.last(t, unix.RTM_NEWROUTE)
	var r rtmsg.Route
	if err := r.UnmarshalBinary(m.Data); err != nil {
		t.Fatal(err)
	}
	if r.Dst != netip.MustParseAddr("10.0.0.0") || r.DstLen != 8 || r.Gateway != netip.MustParseAddr("192.0.2.254") ||
		r.TableID() != 1000 || r.Table8 != unix.RT_TABLE_UNSPEC || r.Priority != 5 || r.Protocol != unix.RTPROT_STATIC ||
		r.Scope != unix.RT_SCOPE_UNIVERSE || r.Type != unix.RTN_UNICAST || r.PrefSrc != netip.MustParseAddr("192.0.2.1") {
		t.Fatalf("route %+v", r)
	}
	if r.Metrics == nil {
		t.Fatal("no metrics")
	}
	if v, _ := r.Metrics.Get(unix.RTAX_MTU); v != 1400 {
		t.Errorf("mtu %d", v)
	}
	if v, _ := r.Metrics.Get(unix.RTAX_LOCK); v != 1<<unix.RTAX_MTU {
		t.Errorf("lock %#x", v)
	}
	mustRun(t, f, "route append 10.1.0.0/16 nexthop via 192.0.2.1 dev veth0 weight 3 nexthop via 192.0.2.2 onlink")
	m = f.last(t, unix.RTM_NEWROUTE)
	if m.Header.Flags&unix.NLM_F_APPEND == 0 {
		t.Errorf("append flags %#x", m.Header.Flags)
	}
	if err := r.UnmarshalBinary(m.Data); err != nil {
		t.Fatal(err)
	}
	if len(r.Multipath) != 2 || r.Multipath[0].Hops != 2 || r.Multipath[0].Index != 3 ||
		r.Multipath[1].Gateway != netip.MustParseAddr("192.0.2.2") || r.Multipath[1].Flags != unix.RTNH_F_ONLINK {
		t.Fatalf("multipath %+v", r.Multipath)
	}
	mustRun(t, f, "route add unreachable 10.9.0.0/16")
	if err := r.UnmarshalBinary(f.last(t, unix.RTM_NEWROUTE).Data); err != nil || r.Type != unix.RTN_UNREACHABLE {
		t.Fatalf("type %d %v", r.Type, err)
	}
	mustRun(t, f, "route add 10.3.0.0/16 dev veth0")
	if err := r.UnmarshalBinary(f.last(t, unix.RTM_NEWROUTE).Data); err != nil || r.Scope != unix.RT_SCOPE_LINK || r.OIF != 3 {
		t.Fatalf("device route %+v %v", r, err)
	}
	mustRun(t, f, "route del default")
	if err := r.UnmarshalBinary(f.last(t, unix.RTM_DELROUTE).Data); err != nil || r.Dst.IsValid() || r.DstLen != 0 ||
		r.Scope != unix.RT_SCOPE_NOWHERE || r.Table8 != unix.RT_TABLE_MAIN {
		t.Fatalf("del default %+v %v", r, err)
	}
}

func TestParseRouteGet(t *testing.T) {
	f := refTransport(t)
	code, _, e := run(f, "route get 10.1.2.3 from 192.0.2.1 iif veth0 mark 5 ipproto tcp sport 1000 dport 80 fibmatch")
	if code != 0 {
		t.Fatal(e)
	}
	var r rtmsg.Route
	if err := r.UnmarshalBinary(f.last(t, unix.RTM_GETROUTE).Data); err != nil {
		t.Fatal(err)
	}
	if r.Dst != netip.MustParseAddr("10.1.2.3") || r.DstLen != 32 || r.Src != netip.MustParseAddr("192.0.2.1") ||
		r.IIF != 3 || r.Mark != 5 || r.IPProto != unix.IPPROTO_TCP || r.SPort != 1000 || r.DPort != 80 ||
		r.Flags&unix.RTM_F_FIB_MATCH == 0 {
		t.Fatalf("get %+v", r)
	}
}

func TestParseRule(t *testing.T) {
	f := refTransport(t)
	mustRun(t, f, "rule add not from 10.0.0.0/8 to 10.2.0.0/16 tos 0x10 fwmark 0x5/0xff iif veth0 oif veth1 ipproto udp sport 80 dport 443-500 lookup 300 pref 200 suppress_prefixlength 8")
	var r rtmsg.Rule
	if err := r.UnmarshalBinary(f.last(t, unix.RTM_NEWRULE).Data); err != nil {
		t.Fatal(err)
	}
	if r.Family != unix.AF_INET || r.Flags != unix.FIB_RULE_INVERT || r.Src != netip.MustParseAddr("10.0.0.0") || r.SrcLen != 8 ||
		r.DstLen != 16 || r.TOS != 0x10 || r.FwMark != 5 || r.FwMask != 0xff || r.IIFName != "veth0" || r.OIFName != "veth1" ||
		r.IPProto != unix.IPPROTO_UDP || *r.SPortRange != (rtmsg.Range{Start: 80, End: 80}) ||
		*r.DPortRange != (rtmsg.Range{Start: 443, End: 500}) || r.Table != 300 || r.Action != unix.FR_ACT_TO_TBL ||
		r.Priority != 200 || r.SuppressPrefixLen != 8 {
		t.Fatalf("rule %+v", r)
	}
	mustRun(t, f, "rule add pref 5 blackhole")
	if err := r.UnmarshalBinary(f.last(t, unix.RTM_NEWRULE).Data); err != nil || r.Action != unix.FR_ACT_BLACKHOLE {
		t.Fatalf("blackhole %+v %v", r, err)
	}
	mustRun(t, f, "rule add from 1.2.3.4")
	if err := r.UnmarshalBinary(f.last(t, unix.RTM_NEWRULE).Data); err != nil || r.Action != unix.FR_ACT_TO_TBL || r.Table8 != unix.RT_TABLE_MAIN {
		t.Fatalf("default action %+v %v", r, err)
	}
	mustRun(t, f, "rule add pref 7 goto 100")
	if err := r.UnmarshalBinary(f.last(t, unix.RTM_NEWRULE).Data); err != nil || r.Action != unix.FR_ACT_GOTO || r.Goto != 100 {
		t.Fatalf("goto %+v %v", r, err)
	}
}

func TestParseNeigh(t *testing.T) {
	f := refTransport(t)
	mustRun(t, f, "neigh replace 192.0.2.9 lladdr 00:11:22:33:44:55 dev veth0 nud stale router")
	m := f.last(t, unix.RTM_NEWNEIGH)
	var n rtmsg.Neigh
	if err := n.UnmarshalBinary(m.Data); err != nil {
		t.Fatal(err)
	}
	if n.Dst != netip.MustParseAddr("192.0.2.9") || n.Index != 3 || n.State != unix.NUD_STALE ||
		n.Flags != unix.NTF_ROUTER || formatMAC(n.LLAddr) != "00:11:22:33:44:55" {
		t.Fatalf("neigh %+v", n)
	}
	mustRun(t, f, "neigh add proxy 192.0.2.10 dev veth0")
	if err := n.UnmarshalBinary(f.last(t, unix.RTM_NEWNEIGH).Data); err != nil || n.Flags != unix.NTF_PROXY || n.State != unix.NUD_PERMANENT {
		t.Fatalf("proxy %+v %v", n, err)
	}
}

func TestErrors(t *testing.T) {
	for _, c := range []struct {
		line   string
		errno  syscall.Errno
		ext    string
		code   int
		stderr string
	}{
		{"route add 10.0.0.0/8 via 192.0.2.1", unix.EEXIST, "", 2, "RTNETLINK answers: File exists\n"},
		{"route del 10.0.0.0/8", unix.ESRCH, "", 2, "RTNETLINK answers: No such process\n"},
		{"link set veth0 mtu 10", unix.EINVAL, "mtu less than device minimum", 2, "Error: mtu less than device minimum.\n"},
		{"link set nosuch up", 0, "", 1, "Cannot find device \"nosuch\"\n"},
		{"addr add 10.0.0.1/24 dev nosuch", 0, "", 1, "Cannot find device \"nosuch\"\n"},
		{"addr add bogus dev veth0", 0, "", 1, "Error: any valid prefix is expected rather than \"bogus\".\n"},
		{"route add 10.1.0.0/16 via 192.0.2.1 bogus", 0, "", 255, "Error: either \"to\" is duplicate, or \"bogus\" is a garbage.\n"},
		{"link frob veth0", 0, "", 255, "Command \"frob\" is unknown, try \"ip link help\".\n"},
		{"frob", 0, "", 1, "Object \"frob\" is unknown, try \"ip help\".\n"},
		{"link show nosuch", 0, "", 1, "Device \"nosuch\" does not exist.\n"},
		{"-z link", 0, "", 255, "Option \"-z\" is unknown, try \"ip -help\".\n"},
		{"route add 10.1.0.0/16 metric x", 0, "", 255, "Error: argument \"x\" is wrong: \"metric\" value is invalid\n\n"},
	} {
		f := refTransport(t)
		f.errno, f.extMsg = c.errno, c.ext
		code, _, stderr := run(f, c.line)
		if code != c.code || stderr != c.stderr {
			t.Errorf("ip %s: exit %d %q, want %d %q", c.line, code, stderr, c.code, c.stderr)
		}
	}
}

func TestBatch(t *testing.T) {
	f := refTransport(t)
	var o, e strings.Builder
	code := Run([]string{"-batch", "-"}, Options{Stdout: &o, Stderr: &e, Stdin: strings.NewReader(
		"link set veth0 up\n# comment\n\nroute add 10.0.0.0/8 dev veth0\nlink set nosuch up\nlink set veth1 up\n"),
		Dial: func(string) (Transport, error) { return f, nil }})
	if code != 1 || !strings.Contains(e.String(), "Command failed -:5") {
		t.Fatalf("exit %d stderr %q", code, e.String())
	}
	n := 0
	for _, r := range f.requests {
		if r.Header.Type == unix.RTM_NEWLINK || r.Header.Type == unix.RTM_NEWROUTE {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d modifying requests, want 2 (batch stops at the first failure)", n)
	}
}
