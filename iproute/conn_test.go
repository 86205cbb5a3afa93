package iproute

import (
	"strings"
	"testing"

	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

// fdbDatagram is one dump datagram of n AF_BRIDGE FDB entries on ifindex
// 2 (veth1 of the recorded links) and the NLMSG_DONE.
func fdbDatagram(t *testing.T, n int) []byte {
	t.Helper()
	var d []byte
	for i := range n {
		m := rtmsg.Neigh{Family: unix.AF_BRIDGE, Index: 2, State: unix.NUD_PERMANENT, Flags: unix.NTF_SELF,
			LLAddr: []byte{2, 0, 0, 0, 0, byte(i + 1)}}
		m.Attrs.Set(unix.NDA_LLADDR)
		b, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		d = netlink.AppendMessage(d, netlink.Header{Type: unix.RTM_NEWNEIGH, Flags: unix.NLM_F_MULTI}, b)
	}
	return netlink.AppendDone(d, 0, 0, 0, 0, false, "")
}

// TestBridgeFDBShowNamesDevicesFirst: `bridge fdb show` names devices
// from the link cache, which it must fill before its FDB dump, as
// iproute2's ll_init_map does. Filling it from inside the dump callback
// sent a link dump on the same socket while the FDB datagram was being
// walked: the link replies overwrote the receive buffer under the walk,
// and the next FDB entry read "netlink: nlmsg_len exceeds remaining
// buffer" (or garbage) instead.
func TestBridgeFDBShowNamesDevicesFirst(t *testing.T) {
	f := refTransport(t)
	f.dumps[unix.RTM_GETNEIGH] = [][]byte{fdbDatagram(t, 3)}
	var o, e strings.Builder
	code := RunBridge([]string{"fdb", "show"}, Options{Stdout: &o, Stderr: &e,
		Dial: func(string) (Transport, error) { return f, nil }})
	if code != 0 || e.Len() != 0 {
		t.Fatalf("exit %d: %s", code, e.String())
	}
	if got := strings.Count(o.String(), " dev veth1 "); got != 3 {
		t.Fatalf("%d entries printed, want 3:\n%s", got, o.String())
	}
}

// TestConnRefusesReentry: a request from inside a Dump callback fails
// with ErrReentered and leaves the dump being walked intact.
func TestConnRefusesReentry(t *testing.T) {
	f := refTransport(t)
	f.dumps[unix.RTM_GETNEIGH] = [][]byte{fdbDatagram(t, 3)}
	c := NewConn(f)
	n := 0
	err := c.Dump(unix.RTM_GETNEIGH, make([]byte, unix.SizeofNdMsg), func(h netlink.Header, data []byte) error {
		n++
		if err := c.Dump(unix.RTM_GETLINK, ifinfomsg(0), func(netlink.Header, []byte) error { return nil }); err != ErrReentered {
			t.Errorf("nested Dump: %v", err)
		}
		if _, err := c.Do(unix.RTM_GETLINK, 0, ifinfomsg(0)); err != ErrReentered {
			t.Errorf("nested Do: %v", err)
		}
		return nil
	})
	if err != nil || n != 3 {
		t.Fatalf("dump: %d messages, %v", n, err)
	}
	// Afterwards the socket serves requests again.
	if err := c.Dump(unix.RTM_GETLINK, ifinfomsg(0), func(netlink.Header, []byte) error { return nil }); err != nil {
		t.Fatal(err)
	}
}
