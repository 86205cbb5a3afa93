package rtnl

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/usnet/usnet/internal/nlcheck"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

// The tests in this file check the framing of everything rtnl sends —
// replies, dump datagrams, notifications — for every device kind, port
// kind and a stream of random topologies: each nlmsg_len matches the
// bytes, every nest closes where its parent says (package nlcheck).

// framed is an env with a second socket subscribed to every group rtnl
// multicasts to, whose datagrams are checked as they come.
type framed struct {
	*env
	mon *Socket
}

func newFramed(t *testing.T) *framed {
	e := newEnv(t)
	mon, err := e.srv.Open("", Cred{PID: 4343})
	if err != nil {
		t.Fatal(err)
	}
	mon.SetRcvBuf(64 << 20) // a lossless monitor: every notification is checked
	for _, g := range []int{unix.RTNLGRP_LINK, unix.RTNLGRP_NEIGH, unix.RTNLGRP_IPV4_IFADDR,
		unix.RTNLGRP_IPV4_ROUTE, unix.RTNLGRP_IPV4_RULE, unix.RTNLGRP_IPV4_NETCONF} {
		if err := mon.Join(g); err != nil {
			t.Fatal(err)
		}
	}
	return &framed{env: e, mon: mon}
}

// check validates every datagram waiting on both sockets.
func (f *framed) check(what string) {
	f.t.Helper()
	for _, s := range []*Socket{f.s, f.mon} {
		for _, d := range drain(f.t, s) {
			if err := nlcheck.Datagram(d, 0); err != nil {
				f.t.Fatalf("%s: %v\n% x", what, err, d)
			}
			// Notifications and replies are one message per datagram.
			if h, _ := netlink.DecodeHeader(d); h.Flags&unix.NLM_F_MULTI == 0 && netlink.Align(int(h.Len)) < len(d) {
				f.t.Fatalf("%s: %d-byte datagram holds more than its %d-byte message", what, len(d), h.Len)
			}
		}
	}
}

// req sends a request with NLM_F_ACK, checks everything it caused and
// returns its errno (0, or negative).
func (f *framed) req(typ, flags uint16, payload []byte) int32 {
	f.t.Helper()
	if err := f.s.Send(f.msg(typ, flags|unix.NLM_F_ACK, payload)); err != nil {
		f.t.Fatal(err)
	}
	errno := int32(0)
	for _, d := range drain(f.t, f.s) {
		if err := nlcheck.Datagram(d, 0); err != nil {
			f.t.Fatalf("reply to type %d: %v\n% x", typ, err, d)
		}
		if h, _ := netlink.DecodeHeader(d); h.Type == unix.NLMSG_ERROR && h.Seq == f.seq {
			r, _ := netlink.ParseError(h.Flags, d[netlink.HeaderLen:h.Len])
			errno = r.Errno
		}
	}
	f.check(fmt.Sprintf("after request type %d", typ))
	return errno
}

func (f *framed) mustReq(typ, flags uint16, payload []byte) {
	f.t.Helper()
	if errno := f.req(typ, flags, payload); errno != 0 {
		f.t.Fatalf("request type %d: errno %d", typ, -errno)
	}
}

// dumpChecked dumps links, checking each datagram against the dump size,
// and returns the RTM_NEWLINK messages.
func (f *framed) dumpChecked(typ uint16, payload []byte) []netlink.Message {
	f.t.Helper()
	if err := f.s.Send(f.msg(typ, unix.NLM_F_DUMP, payload)); err != nil {
		f.t.Fatal(err)
	}
	var out []netlink.Message
	buf := make([]byte, 1<<20)
	for {
		n, err := f.s.Recv(buf)
		if err != nil {
			f.t.Fatal(err)
		}
		d := append([]byte(nil), buf[:n]...)
		if err := nlcheck.Datagram(d, dumpLimit(d)); err != nil {
			f.t.Fatalf("dump type %d: %v\n% x", typ, err, d)
		}
		msgs, _ := netlink.ParseMessages(d)
		for _, m := range msgs {
			if m.Header.Seq != f.seq {
				continue // a notification would be a bug too, but not ours here
			}
			if m.Header.Type == unix.NLMSG_DONE || m.Header.Type == unix.NLMSG_ERROR {
				return out
			}
			out = append(out, m)
		}
	}
}

// dumpLimit is the size a dump datagram may have: netlink_dump's 32 KiB,
// unless it carries a single larger message alone.
func dumpLimit(d []byte) int {
	if h, err := netlink.DecodeHeader(d); err == nil && netlink.Align(int(h.Len)) >= len(d) {
		return 0
	}
	return netlink.DefaultDumpSize
}

func (f *framed) index(name string) int32 {
	d := f.st.Default().Dev.ByName(name)
	if d == nil {
		f.t.Fatalf("no device %s", name)
	}
	return int32(d.Ifindex())
}

func kindReq(name, kind string, lower int32, data func(e *netlink.AttributeEncoder)) []byte {
	l := rtmsg.Link{Name: name, Info: &rtmsg.LinkInfo{Kind: kind}}
	if lower > 0 {
		l.Link = uint32(lower)
		l.Attrs.Set(unix.IFLA_LINK)
	}
	if data != nil {
		e := netlink.NewAttributeEncoder(nil)
		data(e)
		l.Info.Data = e.Bytes()
	}
	return enc(&l)
}

func masterReq(index, master int32) []byte {
	l := rtmsg.Link{Index: index, Master: uint32(master)}
	l.Attrs.Set(unix.IFLA_MASTER)
	return enc(&l)
}

// buildAllKinds creates one device of every kind rtnl knows, with the
// optional nests filled (QoS maps, source MACs, ARP targets), and makes
// a bridge port and a bond slave of several kinds. It returns the kinds
// it created.
func buildAllKinds(f *framed) []string {
	cr := func(b []byte) { f.mustReq(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, b) }
	cr(vethReq("a0", "a1"))
	cr(vethReq("b0", "b1"))
	cr(kindReq("d0", "dummy", 0, nil))
	cr(kindReq("d1", "dummy", 0, nil))
	cr(kindReq("d2", "dummy", 0, nil))
	cr(kindReq("br0", "bridge", 0, func(e *netlink.AttributeEncoder) {
		e.Uint32(unix.IFLA_BR_STP_STATE, 1)
		e.Uint32(unix.IFLA_BR_FORWARD_DELAY, 200)
	}))
	var ad rtmsg.Bond
	ad.Mode = 4 // 802.3ad: IFLA_BOND_AD_INFO
	ad.Set(unix.IFLA_BOND_MODE)
	b, _ := rtmsg.EncodeBond(&ad)
	cr(kindReq("bond0", "bond", 0, func(e *netlink.AttributeEncoder) { e.Append(b) }))
	var ab rtmsg.Bond
	ab.Mode, ab.ARPInterval = 1, 100
	ab.ARPIPTargets = []netip.Addr{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")}
	for _, t := range []uint16{unix.IFLA_BOND_MODE, unix.IFLA_BOND_ARP_INTERVAL, unix.IFLA_BOND_ARP_IP_TARGET} {
		ab.Set(t)
	}
	b2, _ := rtmsg.EncodeBond(&ab)
	cr(kindReq("bond1", "bond", 0, func(e *netlink.AttributeEncoder) { e.Append(b2) }))
	vi := rtmsg.VLANInfo{ID: 10, HasID: true,
		Ingress: []rtmsg.VLANQoSMapping{{From: 3, To: 9}}, HasIngress: true,
		Egress: []rtmsg.VLANQoSMapping{{From: 1, To: 2}, {From: 17, To: 3}}, HasEgress: true}
	cr(kindReq("a1.10", "vlan", f.index("a1"), vi.Encode))
	mv := rtmsg.MacvlanInfo{Mode: 4, HasMode: true}
	cr(kindReq("mv0", "macvlan", f.index("b1"), mv.Encode))
	src := rtmsg.MacvlanInfo{Mode: 16, HasMode: true, MACAddrMode: 3, HasMACAddrMode: true,
		MACAddrs: [][6]byte{{2, 0, 0, 0, 0, 1}, {2, 0, 0, 0, 0, 2}, {2, 0, 0, 0, 0, 3}}, HasMACAddrs: true}
	cr(kindReq("mvs", "macvlan", f.index("b1"), src.Encode))
	// A message over the dump size: 3000 source addresses (36 KiB).
	var many [][6]byte
	for i := range 3000 {
		many = append(many, [6]byte{2, 1, 0, 0, byte(i >> 8), byte(i)})
	}
	big := rtmsg.MacvlanInfo{Mode: 16, HasMode: true, MACAddrMode: 3, HasMACAddrMode: true, MACAddrs: many, HasMACAddrs: true}
	cr(kindReq("mvbig", "macvlan", f.index("b1"), big.Encode))
	cr(kindReq("mvt", "macvtap", f.index("b0"), mv.Encode))
	iv := rtmsg.IPVlanInfo{Mode: 0, HasMode: true}
	cr(kindReq("ipv0", "ipvlan", f.index("d1"), iv.Encode))
	cr(kindReq("vx0", "vxlan", 0, func(e *netlink.AttributeEncoder) {
		e.Uint32(unix.IFLA_VXLAN_ID, 42)
		e.Uint16BE(unix.IFLA_VXLAN_PORT, 4789)
	}))
	br, bond := f.index("br0"), f.index("bond0")
	for _, p := range []string{"a0", "d0", "bond0", "a1.10", "mv0", "vx0"} {
		f.mustReq(unix.RTM_SETLINK, 0, masterReq(f.index(p), br))
	}
	f.mustReq(unix.RTM_SETLINK, 0, masterReq(f.index("d2"), bond))
	for _, d := range f.st.Default().Dev.Devices() {
		f.mustReq(unix.RTM_SETLINK, 0, upReq(int32(d.Ifindex()), true))
	}
	f.st.Sim.RunFor(5 * time.Second) // STP: listening, learning, forwarding
	f.check("after building")
	var kinds []string
	for _, d := range f.st.Default().Dev.Devices() {
		if k := d.Kind(); k != "" && !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	return kinds
}

// TestEveryKindFramed builds every device kind rtnl registers, as bridge
// ports and bond slaves where they can be, and checks the link message
// of each as fillLink emits it, as a dump carries it and as
// RTM_GETLINK answers it.
func TestEveryKindFramed(t *testing.T) {
	f := newFramed(t)
	kinds := buildAllKinds(f)
	for k := range linkKinds {
		if !slices.Contains(kinds, k) {
			t.Errorf("kind %s is not exercised", k)
		}
	}
	for _, k := range []string{"veth", "dummy"} {
		if !slices.Contains(kinds, k) {
			t.Errorf("kind %s is not exercised", k)
		}
	}
	ns := f.st.Default()
	direct := map[int32][]byte{}
	ns.Exec().Do(func() {
		for _, d := range ns.Dev.Devices() {
			e := netlink.NewAttributeEncoder(nil)
			m := e.BeginMessage(netlink.Header{Type: unix.RTM_NEWLINK})
			fillLink(e, ns.IPv4, d, 0, linkState{})
			e.EndMessage(m)
			if e.Err() != nil {
				t.Errorf("%s: %v", d.Name(), e.Err())
			}
			if err := nlcheck.Message(e.Bytes()); err != nil {
				t.Errorf("%s (%s): %v", d.Name(), d.Kind(), err)
			}
			direct[int32(d.Ifindex())] = e.Bytes()
		}
	})
	dumped := f.dumpChecked(unix.RTM_GETLINK, enc(&rtmsg.Link{}))
	if len(dumped) != len(direct) {
		t.Fatalf("dump has %d links, the table %d", len(dumped), len(direct))
	}
	for _, m := range dumped {
		var l rtmsg.Link
		if err := l.UnmarshalBinary(m.Data); err != nil {
			t.Fatal(err)
		}
		want := direct[l.Index]
		if !slices.Equal(m.Data, want[netlink.HeaderLen:]) {
			t.Errorf("%s: dumped message differs from fillLink's", l.Name)
		}
		if err := f.s.Send(f.msg(unix.RTM_GETLINK, 0, enc(&rtmsg.Link{Index: l.Index}))); err != nil {
			t.Fatal(err)
		}
		for _, d := range drain(t, f.s) {
			if err := nlcheck.Datagram(d, 0); err != nil {
				t.Fatalf("getlink %s: %v", l.Name, err)
			}
			if h, _ := netlink.DecodeHeader(d); h.Type == unix.RTM_NEWLINK && !slices.Equal(d[netlink.HeaderLen:h.Len], m.Data) {
				t.Errorf("%s: RTM_GETLINK answer differs from the dump", l.Name)
			}
		}
	}
	// AF_BRIDGE link dump (`bridge link show`): IFLA_PROTINFO nests.
	if n := len(f.dumpChecked(unix.RTM_GETLINK, enc(&rtmsg.Link{Family: unix.AF_BRIDGE}))); n == 0 {
		t.Error("AF_BRIDGE link dump is empty")
	}
	f.check("after the dumps")
}

// TestRandomTopologiesFramed applies random sequences of link changes —
// create any kind, enslave and release, up and down, carrier flaps
// through veth peers, deletions, time for STP and bond timers — and
// checks every datagram rtnl sends on the way, with a full link dump
// between steps.
func TestRandomTopologiesFramed(t *testing.T) {
	seeds, steps := 8, 150
	if testing.Short() {
		seeds, steps = 2, 60
	}
	for seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { randomTopology(t, uint64(seed), steps) })
	}
}

func randomTopology(t *testing.T, seed uint64, steps int) {
	f := newFramed(t)
	r := rand.New(rand.NewPCG(seed, 7))
	ns := f.st.Default()
	n := 0
	name := func(p string) string { n++; return fmt.Sprintf("%s%d", p, n) }
	pick := func(ok func(d *netdev.Device) bool) *netdev.Device {
		var c []*netdev.Device
		for _, d := range ns.Dev.Devices() {
			if d.Flags()&netdev.FlagLoopback == 0 && ok(d) {
				c = append(c, d)
			}
		}
		if len(c) == 0 {
			return nil
		}
		return c[r.IntN(len(c))]
	}
	any := func(*netdev.Device) bool { return true }
	ether := func(d *netdev.Device) bool { return d.Kind() == "veth" || d.Kind() == "dummy" }
	master := func(d *netdev.Device) bool { return d.Kind() == "bridge" || d.Kind() == "bond" }
	create := func(b []byte) { f.req(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, b) }
	for step := range steps {
		switch op := r.IntN(12); op {
		case 0:
			create(vethReq(name("v"), name("p")))
		case 1:
			create(kindReq(name("br"), "bridge", 0, func(e *netlink.AttributeEncoder) {
				e.Uint32(unix.IFLA_BR_STP_STATE, uint32(r.IntN(2)))
			}))
		case 2:
			var b rtmsg.Bond
			b.Mode = []uint8{0, 1, 2, 3, 4}[r.IntN(5)]
			b.Set(unix.IFLA_BOND_MODE)
			if r.IntN(2) == 0 {
				b.Miimon = 100
				b.Set(unix.IFLA_BOND_MIIMON)
			}
			data, _ := rtmsg.EncodeBond(&b)
			create(kindReq(name("bond"), "bond", 0, func(e *netlink.AttributeEncoder) { e.Append(data) }))
		case 3:
			if d := pick(ether); d != nil {
				switch r.IntN(4) {
				case 0:
					vi := rtmsg.VLANInfo{ID: uint16(1 + r.IntN(4000)), HasID: true}
					create(kindReq(name("vl"), "vlan", int32(d.Ifindex()), vi.Encode))
				case 1:
					mv := rtmsg.MacvlanInfo{Mode: []uint32{1, 2, 4, 8}[r.IntN(4)], HasMode: true}
					create(kindReq(name("mv"), "macvlan", int32(d.Ifindex()), mv.Encode))
				case 2:
					iv := rtmsg.IPVlanInfo{Mode: uint16(r.IntN(3)), HasMode: true}
					create(kindReq(name("ipv"), "ipvlan", int32(d.Ifindex()), iv.Encode))
				default:
					create(kindReq(name("vx"), "vxlan", 0, func(e *netlink.AttributeEncoder) {
						e.Uint32(unix.IFLA_VXLAN_ID, uint32(r.IntN(1<<24)))
					}))
				}
			}
		case 4, 5:
			if m, p := pick(master), pick(any); m != nil && p != nil && m != p {
				f.req(unix.RTM_SETLINK, 0, masterReq(int32(p.Ifindex()), int32(m.Ifindex())))
			}
		case 6:
			if p := pick(func(d *netdev.Device) bool { return d.Master() != nil }); p != nil {
				f.req(unix.RTM_SETLINK, 0, masterReq(int32(p.Ifindex()), 0))
			}
		case 7, 8:
			if d := pick(any); d != nil {
				f.req(unix.RTM_SETLINK, 0, upReq(int32(d.Ifindex()), r.IntN(3) != 0))
			}
		case 9:
			if d := pick(func(d *netdev.Device) bool { return d.Kind() != "veth" || r.IntN(2) == 0 }); d != nil && r.IntN(3) == 0 {
				f.req(unix.RTM_DELLINK, 0, enc(&rtmsg.Link{Index: int32(d.Ifindex())}))
			}
		case 10:
			f.st.Sim.RunFor(time.Duration(r.IntN(3000)) * time.Millisecond)
		case 11:
			if d := pick(any); d != nil {
				f.req(unix.RTM_NEWADDR, unix.NLM_F_CREATE, addrReq(uint32(d.Ifindex()), fmt.Sprintf("10.%d.%d.1/24", r.IntN(250), r.IntN(250))))
			}
		}
		f.run()
		f.check(fmt.Sprintf("step %d", step))
		if step%5 == 0 {
			f.dumpChecked(unix.RTM_GETLINK, enc(&rtmsg.Link{}))
			f.dumpChecked(unix.RTM_GETLINK, enc(&rtmsg.Link{Family: unix.AF_BRIDGE}))
			f.dumpChecked(unix.RTM_GETADDR, make([]byte, unix.SizeofIfAddrmsg))
			f.dumpChecked(unix.RTM_GETROUTE, make([]byte, unix.SizeofRtMsg))
		}
	}
}

// TestUpperOnBusyLower: an ipvlan, macvlan or vlan on a device that
// already has another receive handler (a bridge port) is refused with
// EBUSY. The upper device used to be registered before it claimed the
// lower's handler, and the RTM_DELLINK of the failed creation read the
// missing port (ipvlan's mode, macvlan's sources): a nil dereference
// that took the daemon down.
func TestUpperOnBusyLower(t *testing.T) {
	f := newFramed(t)
	f.mustReq(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, vethReq("a0", "a1"))
	f.mustReq(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, kindReq("br0", "bridge", 0, nil))
	f.mustReq(unix.RTM_SETLINK, 0, masterReq(f.index("a0"), f.index("br0")))
	iv := rtmsg.IPVlanInfo{Mode: 0, HasMode: true}
	mv := rtmsg.MacvlanInfo{Mode: 16, HasMode: true}
	vi := rtmsg.VLANInfo{ID: 10, HasID: true}
	for _, c := range []struct {
		kind string
		data func(*netlink.AttributeEncoder)
	}{
		{"ipvlan", iv.Encode}, {"macvlan", mv.Encode}, {"macvtap", mv.Encode}, {"vlan", vi.Encode},
	} {
		errno := f.req(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, kindReq("up0", c.kind, f.index("a0"), c.data))
		if errno != -int32(unix.EBUSY) {
			t.Errorf("%s on a bridge port: errno %d, want EBUSY", c.kind, -errno)
		}
		if f.st.Default().Dev.ByName("up0") != nil {
			t.Fatalf("the refused %s is registered", c.kind)
		}
		// The peer is free: the kind works there.
		f.mustReq(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, kindReq("up1", c.kind, f.index("a1"), c.data))
		f.mustReq(unix.RTM_DELLINK, 0, enc(&rtmsg.Link{Index: f.index("up1")}))
		f.run()
	}
}
