package ipcompat

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usnet/usnet/iproute"
	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

// TestVethDelEchoCompat deletes a veth end with NLM_F_ECHO, its peer in
// the same namespace or in another, on the kernel and on usnet (the
// daemon, in real time), and requires the same messages for the
// requester and for link monitors in both namespaces: each RTM_DELLINK
// names the requester (port id, sequence); the requester gets those of
// its own namespace by unicast, not the peer's in another namespace.
func TestVethDelEchoCompat(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("ipcompat: needs root to create kernel network namespaces")
	}
	for _, c := range []struct {
		name   string
		peerNS bool
		n      int
	}{{"one-ns", false, 5}, {"two-ns", true, 4}} {
		t.Run(c.name, func(t *testing.T) {
			tag := fmt.Sprint(os.Getpid())
			kA := newKernelNetns(t, "usnet-echo-a-"+tag)
			kB := newKernelNetns(t, "usnet-echo-b-"+tag)
			var u UsnetTarget
			uA, udial := u.Setup(t)
			uB := u.Peer(t)
			kernel := echoRun(t, [2]string{kA, kB}, c.peerNS, iproute.DialKernel)
			usnet := echoRun(t, [2]string{uA, uB}, c.peerNS, udial)
			if k, g := strings.Join(kernel, "\n  "), strings.Join(usnet, "\n  "); k != g {
				t.Errorf("messages differ:\n--- usnet\n  %s\n--- kernel\n  %s", g, k)
			}
			if len(kernel) != c.n {
				t.Errorf("the kernel sent %d messages, want %d:\n  %s", len(kernel), c.n, strings.Join(kernel, "\n  "))
			}
		})
	}
}

// echoRun creates va in ns[0] with its peer vb there or in ns[1],
// deletes va with NLM_F_ECHO and renders what the requester and the
// two monitors got.
func echoRun(t *testing.T, ns [2]string, peerNS bool, dial iproute.Dialer) []string {
	t.Helper()
	var e strings.Builder
	args := []string{"-n", ns[0], "link", "add", "va", "type", "veth", "peer", "name", "vb"}
	if peerNS {
		args = append(args, "netns", ns[1])
	}
	if code := iproute.Run(args, iproute.Options{Stderr: &e, Dial: dial}); code != 0 {
		t.Fatalf("link add: exit %d: %s", code, e.String())
	}
	open := func(n string, monitor bool) iproute.Transport {
		t.Helper()
		tr, err := dial(n)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tr.Close() })
		if rt, ok := tr.(interface{ SetRecvTimeout(time.Duration) error }); !ok || rt.SetRecvTimeout(300*time.Millisecond) != nil {
			t.Fatal("transport without a receive timeout")
		}
		if monitor {
			s, ok := tr.(iproute.Subscriber)
			if !ok || s.Subscribe(unix.RTNLGRP_LINK) != nil {
				t.Fatal("cannot subscribe")
			}
		}
		return tr
	}
	req, monA, monB := open(ns[0], false), open(ns[0], true), open(ns[1], true)
	time.Sleep(200 * time.Millisecond) // linkwatch of the creation is over
	drainMsgs(monA)
	drainMsgs(monB)
	l := rtmsg.Link{Name: "va"}
	l.Attrs.Set(unix.IFLA_IFNAME)
	payload, err := l.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	const seq = 42
	msg := netlink.AppendMessage(nil, netlink.Header{Type: unix.RTM_DELLINK,
		Flags: unix.NLM_F_REQUEST | unix.NLM_F_ACK | unix.NLM_F_ECHO, Seq: seq}, payload)
	if err := req.Send(msg); err != nil {
		t.Fatal(err)
	}
	var got [3][]netlink.Message
	var wg sync.WaitGroup
	for i, tr := range []iproute.Transport{req, monA, monB} {
		wg.Go(func() { got[i] = drainMsgs(tr) })
	}
	wg.Wait()
	var reqPid uint32
	for _, m := range got[0] {
		if m.Header.Type == unix.NLMSG_ERROR {
			reqPid = m.Header.Pid // the acknowledgement is addressed to the requester
		}
	}
	var out []string
	for i, who := range []string{"req", "monA", "monB"} {
		for _, m := range got[i] {
			h := m.Header
			pid := fmt.Sprint(h.Pid)
			if h.Pid == reqPid && h.Pid != 0 {
				pid = "req"
			}
			s := fmt.Sprintf("%s: type=%d flags=%#x seq=%d pid=%s", who, h.Type, h.Flags, h.Seq, pid)
			if h.Type == unix.NLMSG_ERROR {
				s += " ack"
			} else if v, err := rtmsg.Decode(h.Type, m.Data); err == nil {
				if l, ok := v.(*rtmsg.Link); ok {
					s += " name=" + l.Name
				}
			}
			out = append(out, s)
		}
	}
	return out
}

// drainMsgs reads messages until the transport's receive timeout.
func drainMsgs(tr iproute.Transport) []netlink.Message {
	var out []netlink.Message
	buf := make([]byte, 1<<16)
	for {
		n, err := tr.Recv(buf)
		if err != nil {
			return out
		}
		msgs, err := netlink.ParseMessages(append([]byte(nil), buf[:n]...))
		if err != nil {
			return out
		}
		out = append(out, msgs...)
	}
}
