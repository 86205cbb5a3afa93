package rtnl

import (
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"github.com/usnet/usnet/stack"
	"golang.org/x/sys/unix"
)

// TestConcurrentClients drives a real-time stack from several goroutines:
// two clients create and delete devices while a monitor reads
// notifications (run with -race).
func TestConcurrentClients(t *testing.T) {
	st, err := stack.NewRealtime()
	if err != nil {
		t.Fatal(err)
	}
	srv := New(st)
	mon, _ := srv.Open("", Cred{})
	mon.Join(unix.RTNLGRP_LINK)
	mon.SetRcvBuf(1 << 24)
	var got sync.WaitGroup
	got.Add(1)
	links := 0
	go func() {
		defer got.Done()
		buf := make([]byte, 1<<16)
		for {
			n, err := mon.Recv(buf)
			if err != nil {
				return
			}
			msgs, _ := netlink.ParseMessages(buf[:n])
			for _, m := range msgs {
				if m.Header.Type == unix.RTM_NEWLINK || m.Header.Type == unix.RTM_DELLINK {
					links++
				}
			}
		}
	}()
	var wg sync.WaitGroup
	for c := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := srv.Open("", Cred{Admin: true})
			if err != nil {
				t.Error(err)
				return
			}
			defer s.Close()
			buf := make([]byte, 1<<16)
			for i := range 20 {
				name := fmt.Sprintf("d%d-%d", c, i)
				l := rtmsg.Link{Name: name, Info: &rtmsg.LinkInfo{Kind: "dummy"}}
				p, _ := l.MarshalBinary()
				s.Send(netlink.AppendMessage(nil, netlink.Header{Type: unix.RTM_NEWLINK, Flags: unix.NLM_F_REQUEST | unix.NLM_F_ACK | unix.NLM_F_CREATE, Seq: uint32(i)}, p))
				s.Recv(buf)
				d := rtmsg.Link{Name: name}
				p, _ = d.MarshalBinary()
				s.Send(netlink.AppendMessage(nil, netlink.Header{Type: unix.RTM_DELLINK, Flags: unix.NLM_F_REQUEST | unix.NLM_F_ACK, Seq: uint32(i)}, p))
				s.Recv(buf)
			}
		}()
	}
	wg.Wait()
	// Everything is delivered synchronously with the requests.
	for mon.Pending() > 0 {
		runtimeGosched()
	}
	mon.Close()
	got.Wait()
	if links != 80 {
		t.Fatalf("%d link notifications, want 80", links)
	}
}

func runtimeGosched() { runtime.Gosched() }
