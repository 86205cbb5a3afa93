package rtnl

import (
	"fmt"
	"strings"
	"testing"

	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

// linkLines renders link notifications and acknowledgements as the
// kernel check below printed them.
func linkLines(who string, ds [][]byte, reqPid uint32) []string {
	var out []string
	for _, d := range ds {
		msgs, _ := netlink.ParseMessages(d)
		for _, m := range msgs {
			h := m.Header
			pid := fmt.Sprint(h.Pid)
			if h.Pid == reqPid {
				pid = "req"
			}
			s := fmt.Sprintf("%s: type=%d seq=%d pid=%s", who, h.Type, h.Seq, pid)
			if v, err := rtmsg.Decode(h.Type, m.Data); err == nil {
				if l, ok := v.(*rtmsg.Link); ok {
					s += " name=" + l.Name
				}
			}
			if h.Type == unix.NLMSG_ERROR {
				s += " ack"
			}
			out = append(out, s)
		}
	}
	return out
}

// TestLinkEcho: what Linux 6.18 does with NLM_F_ECHO on link requests
// (checked on the kernel with raw netlink sockets, requester in and out
// of RTNLGRP_LINK): the RTM_NEWLINK of the device a request creates
// (not its veth peer's) and the RTM_DELLINK of every device a request
// deletes carry the requester's port id and sequence number, reach the
// requester by unicast and the group's other members as usual; without
// NLM_F_ECHO they carry 0/0. Changes of an existing device are never
// echoed.
func TestLinkEcho(t *testing.T) {
	for _, joined := range []bool{false, true} {
		t.Run(fmt.Sprint("joined=", joined), func(t *testing.T) {
			e := newEnv(t)
			mon, _ := e.srv.Open("", Cred{})
			mon.Join(unix.RTNLGRP_LINK)
			if joined {
				e.s.Join(unix.RTNLGRP_LINK)
			}
			pid := e.s.port
			step := func(typ, flags uint16, payload []byte, want ...string) {
				t.Helper()
				if err := e.s.Send(e.msg(typ, flags|unix.NLM_F_ACK, payload)); err != nil {
					t.Fatal(err)
				}
				e.run()
				got := append(linkLines("req", drain(t, e.s), pid), linkLines("mon", drain(t, mon), pid)...)
				for i := range want {
					want[i] = strings.ReplaceAll(want[i], "SEQ", fmt.Sprint(e.seq))
				}
				if strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Errorf("request type %d flags %#x:\n  %s\nwant\n  %s", typ, flags, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
				}
			}
			echo := uint16(unix.NLM_F_ECHO)
			if joined {
				step(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL|echo, vethReq("e0", "e1"),
					"req: type=16 seq=0 pid=0 name=e1", "req: type=16 seq=SEQ pid=req name=e0", "req: type=2 seq=SEQ pid=req ack",
					"mon: type=16 seq=0 pid=0 name=e1", "mon: type=16 seq=SEQ pid=req name=e0")
				step(unix.RTM_NEWLINK, echo, upReq(3, true),
					"req: type=16 seq=0 pid=0 name=e0", "req: type=2 seq=SEQ pid=req ack", "mon: type=16 seq=0 pid=0 name=e0")
			} else {
				step(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL|echo, vethReq("e0", "e1"),
					"req: type=16 seq=SEQ pid=req name=e0", "req: type=2 seq=SEQ pid=req ack",
					"mon: type=16 seq=0 pid=0 name=e1", "mon: type=16 seq=SEQ pid=req name=e0")
				step(unix.RTM_NEWLINK, echo, upReq(3, true),
					"req: type=2 seq=SEQ pid=req ack", "mon: type=16 seq=0 pid=0 name=e0")
				m := rtmsg.Link{Index: 3, MTU: 1400}
				m.Attrs.Set(unix.IFLA_MTU)
				step(unix.RTM_SETLINK, echo, enc(&m), "req: type=2 seq=SEQ pid=req ack", "mon: type=16 seq=0 pid=0 name=e0")
				step(unix.RTM_NEWLINK, echo, upReq(3, false),
					"req: type=2 seq=SEQ pid=req ack", "mon: type=16 seq=0 pid=0 name=e0")
			}
			if joined {
				step(unix.RTM_NEWLINK, echo, upReq(3, false),
					"req: type=16 seq=0 pid=0 name=e0", "req: type=2 seq=SEQ pid=req ack", "mon: type=16 seq=0 pid=0 name=e0")
			}
			step(unix.RTM_DELLINK, echo, enc(linkReq(3, "")),
				"req: type=17 seq=SEQ pid=req name=e0", "req: type=17 seq=SEQ pid=req name=e1", "req: type=2 seq=SEQ pid=req ack",
				"mon: type=17 seq=SEQ pid=req name=e0", "mon: type=17 seq=SEQ pid=req name=e1")
			// Without NLM_F_ECHO nobody is named.
			step(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, vethReq("e0", "e1"), func() []string {
				w := []string{"req: type=2 seq=SEQ pid=req ack", "mon: type=16 seq=0 pid=0 name=e1", "mon: type=16 seq=0 pid=0 name=e0"}
				if joined {
					w = append([]string{"req: type=16 seq=0 pid=0 name=e1", "req: type=16 seq=0 pid=0 name=e0"}, w...)
				}
				return w
			}()...)
		})
	}
}

// TestLinkEchoPeerNamespace: deleting a veth end whose peer is in another
// namespace with NLM_F_ECHO. Checked on Linux 6.18 with raw sockets (the
// requester in A, monitors in A and B, and a socket in B bound to the
// requester's port id): the peer's RTM_DELLINK in B carries the
// requester's port id and sequence number too, and is unicast to that
// port id in B (only a socket there that happens to own it), never to
// the requester. usnet's port ids are unique across namespaces, so B's
// listeners get it through the group and the requester not at all.
func TestLinkEchoPeerNamespace(t *testing.T) {
	for _, echo := range []bool{false, true} {
		t.Run(fmt.Sprint("echo=", echo), func(t *testing.T) {
			e := newEnv(t)
			blue, err := e.st.Add("blue")
			if err != nil {
				t.Fatal(err)
			}
			monA, _ := e.srv.Open("", Cred{})
			monA.Join(unix.RTNLGRP_LINK)
			monB, _ := e.srv.Open("blue", Cred{})
			monB.Join(unix.RTNLGRP_LINK)
			p := rtmsg.Link{Name: "vb", NetNSPid: blue.Net.ID()}
			p.Attrs.Set(unix.IFLA_NET_NS_PID)
			data, _ := rtmsg.EncodeVethPeer(&p)
			l := rtmsg.Link{Name: "va", Info: &rtmsg.LinkInfo{Kind: "veth", Data: data}}
			e.mustDo(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, enc(&l))
			e.run()
			drain(t, monA)
			drain(t, monB)
			var flags uint16 = unix.NLM_F_ACK
			want := []string{"req: type=2 seq=SEQ pid=req ack",
				"monA: type=17 seq=0 pid=0 name=va", "monB: type=17 seq=0 pid=0 name=vb"}
			if echo {
				flags |= unix.NLM_F_ECHO
				want = []string{"req: type=17 seq=SEQ pid=req name=va", "req: type=2 seq=SEQ pid=req ack",
					"monA: type=17 seq=SEQ pid=req name=va", "monB: type=17 seq=SEQ pid=req name=vb"}
			}
			if err := e.s.Send(e.msg(unix.RTM_DELLINK, flags, enc(linkReq(0, "va")))); err != nil {
				t.Fatal(err)
			}
			e.run()
			pid := e.s.PortID()
			got := linkLines("req", drain(t, e.s), pid)
			got = append(got, linkLines("monA", drain(t, monA), pid)...)
			got = append(got, linkLines("monB", drain(t, monB), pid)...)
			for i := range want {
				want[i] = strings.ReplaceAll(want[i], "SEQ", fmt.Sprint(e.seq))
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
		})
	}
}
