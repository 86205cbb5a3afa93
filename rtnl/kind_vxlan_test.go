package rtnl

import (
	"errors"
	"net/netip"
	"syscall"
	"testing"

	"github.com/usnet/usnet/drivers/vxlan"
	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"github.com/usnet/usnet/stack"
	"golang.org/x/sys/unix"
)

func TestVXLANFDBNeighMessages(t *testing.T) {
	s, _ := stack.NewSim(1)
	ns, _ := s.Add("x")
	var v *vxlan.Dev
	var err error
	ns.Exec().Do(func() {
		vn := vxlan.Attach(ns.Dev, ns.IPv4, ns.UDP)
		v, err = vxlan.New(vn, "vx0", vxlan.Config{VNI: 42, Port: 4789, Remote: netip.MustParseAddr("10.1.1.2"), Learning: true})
	})
	if err != nil {
		t.Fatal(err)
	}
	d := v.Device()
	req := func(mac []byte, dst string, extra ...rtmsg.RawAttr) *rtmsg.Neigh {
		n := &rtmsg.Neigh{Family: unix.AF_BRIDGE, Index: int32(d.Ifindex()), State: unix.NUD_PERMANENT, Flags: unix.NTF_SELF, LLAddr: mac, Unknown: extra}
		n.Attrs.Set(unix.NDA_LLADDR)
		if dst != "" {
			n.Dst = netip.MustParseAddr(dst)
			n.Attrs.Set(unix.NDA_DST)
		}
		return n
	}
	zero := make([]byte, 6)
	mac := []byte{2, 0, 0, 0, 0, 1}
	ns.Exec().Do(func() {
		// bridge fdb append 00:00:00:00:00:00 dev vx0 dst 10.1.1.3
		err = vxlanFDBAdd(d, req(zero, "10.1.1.3"), unix.NLM_F_CREATE|unix.NLM_F_APPEND)
		if err == nil {
			// bridge fdb add 02:00:00:00:00:01 dev vx0 dst 10.1.1.4 vni 7 port 99
			err = vxlanFDBAdd(d, req(mac, "10.1.1.4", rtmsg.RawAttr{Type: unix.NDA_VNI, Data: []byte{7, 0, 0, 0}}, rtmsg.RawAttr{Type: unix.NDA_PORT, Data: []byte{0, 99}}), unix.NLM_F_CREATE|unix.NLM_F_EXCL)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	ns.Exec().Do(func() { err = vxlanFDBAdd(d, req(mac, "10.1.1.5"), unix.NLM_F_CREATE|unix.NLM_F_EXCL) })
	if !errors.Is(err, syscall.EEXIST) {
		t.Fatalf("second add with EXCL: %v", err)
	}
	var msgs []rtmsg.Neigh
	var orders [][]uint16
	ns.Exec().Do(func() {
		vxlanFDBDump(d, func(fill func(e *netlink.AttributeEncoder)) {
			e := netlink.NewAttributeEncoder(nil)
			fill(e)
			var n rtmsg.Neigh
			if err := n.UnmarshalBinary(e.Bytes()); err != nil {
				t.Error(err)
			}
			msgs = append(msgs, n)
			var order []uint16
			ad := netlink.NewAttributeDecoder(e.Bytes()[unix.SizeofNdMsg:])
			for ad.Next() {
				order = append(order, ad.Type())
			}
			orders = append(orders, order)
		})
	})
	// As `bridge fdb show dev vx0` lists them on Linux: the static entry,
	// then the default destinations (the remote, with its "via", and the
	// appended one).
	if len(msgs) != 3 {
		t.Fatalf("%d messages", len(msgs))
	}
	if m := msgs[0]; m.Dst != netip.MustParseAddr("10.1.1.4") || m.State != unix.NUD_PERMANENT || m.Flags != unix.NTF_SELF || m.Family != unix.AF_BRIDGE {
		t.Fatalf("first %+v", m)
	}
	want := []uint16{unix.NDA_LLADDR, unix.NDA_DST, unix.NDA_PORT, unix.NDA_VNI, unix.NDA_CACHEINFO}
	if len(orders[0]) != len(want) {
		t.Fatalf("attributes %v, want %v", orders[0], want)
	}
	for i := range want {
		if orders[0][i] != want[i] {
			t.Fatalf("attributes %v, want %v", orders[0], want)
		}
	}
	if msgs[1].Dst != netip.MustParseAddr("10.1.1.2") || msgs[2].Dst != netip.MustParseAddr("10.1.1.3") {
		t.Fatalf("default destinations %v %v", msgs[1].Dst, msgs[2].Dst)
	}
	// bridge fdb del 00:00:00:00:00:00 dev vx0 dst 10.1.1.3, then the
	// whole static entry.
	ns.Exec().Do(func() {
		err = vxlanFDBDel(d, req(zero, "10.1.1.3"))
		if err == nil {
			err = vxlanFDBDel(d, req(mac, ""))
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := v.FDBLen(); n != 1 {
		t.Fatalf("%d entries left", n)
	}
	ns.Exec().Do(func() { err = vxlanFDBDel(d, req(mac, "")) })
	if !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("delete of a missing entry: %v", err)
	}
}
