package rtnl

import (
	"net/netip"
	"testing"

	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"github.com/usnet/usnet/stack"
	"golang.org/x/sys/unix"
)

// BenchmarkAddrAddDel adds and deletes an address through netlink on a
// real-time stack (two requests with ACK per op).
func BenchmarkAddrAddDel(b *testing.B) {
	st, err := stack.NewRealtime()
	if err != nil {
		b.Fatal(err)
	}
	s, _ := New(st).Open("", Cred{Admin: true})
	l := rtmsg.Link{Name: "d0", Info: &rtmsg.LinkInfo{Kind: "dummy"}}
	p, _ := l.MarshalBinary()
	s.Send(netlink.AppendMessage(nil, netlink.Header{Type: unix.RTM_NEWLINK, Flags: unix.NLM_F_REQUEST | unix.NLM_F_CREATE}, p))
	a := rtmsg.Addr{Family: unix.AF_INET, PrefixLen: 24, Index: 2, Local: netip.MustParseAddr("192.0.2.1")}
	pa, _ := a.MarshalBinary()
	add := netlink.AppendMessage(nil, netlink.Header{Type: unix.RTM_NEWADDR, Flags: unix.NLM_F_REQUEST | unix.NLM_F_ACK | unix.NLM_F_CREATE | unix.NLM_F_EXCL}, pa)
	del := netlink.AppendMessage(nil, netlink.Header{Type: unix.RTM_DELADDR, Flags: unix.NLM_F_REQUEST | unix.NLM_F_ACK}, pa)
	buf := make([]byte, 4096)
	b.ReportAllocs()
	for b.Loop() {
		s.Send(add)
		s.Recv(buf)
		s.Send(del)
		if n, _ := s.Recv(buf); n != 36 {
			b.Fatal("unexpected reply")
		}
	}
}

// BenchmarkLinkDump dumps 101 links.
func BenchmarkLinkDump(b *testing.B) {
	st, err := stack.NewSim(1)
	if err != nil {
		b.Fatal(err)
	}
	s, _ := New(st).Open("", Cred{Admin: true})
	for range 100 {
		l := rtmsg.Link{Info: &rtmsg.LinkInfo{Kind: "dummy"}}
		p, _ := l.MarshalBinary()
		s.Send(netlink.AppendMessage(nil, netlink.Header{Type: unix.RTM_NEWLINK, Flags: unix.NLM_F_REQUEST | unix.NLM_F_CREATE}, p))
	}
	req := netlink.AppendMessage(nil, netlink.Header{Type: unix.RTM_GETLINK, Flags: unix.NLM_F_REQUEST | unix.NLM_F_DUMP}, make([]byte, 16))
	buf := make([]byte, 1<<16)
	b.ReportAllocs()
	for b.Loop() {
		s.Send(req)
		for s.Pending() > 0 {
			s.Recv(buf)
		}
	}
}
