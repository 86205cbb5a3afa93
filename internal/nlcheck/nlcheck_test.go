package nlcheck

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/usnet/usnet/netlink"
	"golang.org/x/sys/unix"
)

// linkMsg builds an RTM_NEWLINK like rtnl's: a bridge port with kind
// data, slave data and AF_SPEC, and returns it with the offsets of its
// IFLA_LINKINFO and IFLA_INFO_SLAVE_DATA nests.
func linkMsg(t *testing.T) (b []byte, linkinfo, slave int) {
	t.Helper()
	e := netlink.NewAttributeEncoder(nil)
	m := e.BeginMessage(netlink.Header{Type: unix.RTM_NEWLINK, Flags: unix.NLM_F_MULTI, Seq: 7})
	e.Append(make([]byte, unix.SizeofIfInfomsg))
	e.String(unix.IFLA_IFNAME, "p0.10")
	linkinfo = e.Len()
	li := e.BeginNest(unix.IFLA_LINKINFO)
	e.String(unix.IFLA_INFO_KIND, "vlan")
	d := e.BeginNest(unix.IFLA_INFO_DATA)
	e.Uint16(unix.IFLA_VLAN_ID, 10)
	q := e.BeginNest(unix.IFLA_VLAN_EGRESS_QOS)
	e.PutBytes(unix.IFLA_VLAN_QOS_MAPPING, make([]byte, 8))
	e.EndNest(q)
	e.EndNest(d)
	e.String(unix.IFLA_INFO_SLAVE_KIND, "bridge")
	slave = e.Len()
	s := e.BeginNest(unix.IFLA_INFO_SLAVE_DATA)
	e.Uint8(unix.IFLA_BRPORT_STATE, 3)
	e.Uint64(unix.IFLA_BRPORT_HOLD_TIMER, 0)
	e.EndNest(s)
	e.EndNest(li)
	af := e.BeginNest(unix.IFLA_AF_SPEC)
	in := e.BeginNest(unix.AF_INET)
	e.PutBytes(unix.IFLA_INET_CONF, make([]byte, 33*4))
	e.EndNest(in)
	e.EndNest(af)
	e.Flag(unix.IFLA_DPLL_PIN)
	e.EndMessage(m)
	if e.Err() != nil {
		t.Fatal(e.Err())
	}
	return e.Bytes(), linkinfo, slave
}

func TestWellFormed(t *testing.T) {
	b, _, _ := linkMsg(t)
	two := append(append([]byte(nil), b...), b...)
	done := netlink.AppendDone(nil, 7, 0, 0, 0, true, "")
	errAck := netlink.AppendError(nil, netlink.Message{Header: netlink.Header{Len: 20, Type: unix.RTM_GETLINK}, Data: []byte{0, 0, 0, 0}},
		1, -int32(unix.EINVAL), netlink.AckOptions{ExtAck: true}, &netlink.ExtAck{Msg: "bad", HasOffset: true, Offset: 16})
	for name, d := range map[string][]byte{
		"one": b, "two": two, "done": done, "dump": append(two, done...), "error": errAck,
	} {
		if err := Datagram(d, netlink.DefaultDumpSize); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestCorruptions(t *testing.T) {
	put16 := func(b []byte, off int, v uint16) { binary.NativeEndian.PutUint16(b[off:], v) }
	put32 := func(b []byte, off int, v uint32) { binary.NativeEndian.PutUint32(b[off:], v) }
	cases := []struct {
		name string
		mut  func(b []byte, li, sl int) []byte
		want string
	}{
		{"nlmsg_len past the end", func(b []byte, _, _ int) []byte { put32(b, 0, uint32(len(b)+4)); return b }, "exceeds"},
		{"nlmsg_len short", func(b []byte, _, _ int) []byte { put32(b, 0, 8); return b }, "< 16"},
		{"truncated datagram", func(b []byte, _, _ int) []byte { return b[:len(b)-8] }, "exceeds"},
		{"trailing bytes", func(b []byte, _, _ int) []byte { return append(b, 1, 2, 3, 4, 5, 6, 7, 8) }, "trailing"},
		{"nlmsg_len before the last attributes", func(b []byte, _, _ int) []byte {
			put32(b, 0, uint32(len(b)-4))
			return b[:len(b)-4]
		}, ""}, // consistent: a shorter message is still well formed
		{"linkinfo too long", func(b []byte, li, _ int) []byte {
			put16(b, li, binary.NativeEndian.Uint16(b[li:])+8)
			return b
		}, "nla_len"},
		{"linkinfo too short", func(b []byte, li, _ int) []byte {
			put16(b, li, binary.NativeEndian.Uint16(b[li:])-4)
			return b
		}, "attribute type 18"},
		{"slave data grows after its parent closed", func(b []byte, _, sl int) []byte {
			put16(b, sl, binary.NativeEndian.Uint16(b[sl:])+12)
			return b
		}, "nla_len"},
	}
	for _, c := range cases {
		b, li, sl := linkMsg(t)
		err := Datagram(c.mut(b, li, sl), 0)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: got %v, want an error with %q", c.name, err, c.want)
		}
	}
	if err := Datagram(make([]byte, 40000), netlink.DefaultDumpSize); err == nil {
		t.Error("oversized datagram passed")
	}
}
