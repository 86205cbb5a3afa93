package rtnl

import (
	"testing"

	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

func setOper(e *env, index int32, mode, state int) {
	e.t.Helper()
	l := rtmsg.Link{Index: index}
	if mode >= 0 {
		l.LinkMode = uint8(mode)
		l.Attrs.Set(unix.IFLA_LINKMODE)
	}
	if state >= 0 {
		l.OperState = uint8(state)
		l.Attrs.Set(unix.IFLA_OPERSTATE)
	}
	e.mustDo(unix.RTM_SETLINK, 0, enc(&l))
	e.run()
}

// TestOperStateLinkMode: IFLA_LINKMODE and IFLA_OPERSTATE as Linux 6.18
// applies them (the sequence of tests/ipcompat's script, checked there
// against the kernel too): with link mode DORMANT a device that gets
// carrier is DORMANT, not RUNNING, until userspace sets UP; userspace
// may move an UP device to DORMANT; TESTING is refused from DORMANT; a
// link mode change alone does not recompute the state but is announced.
func TestOperStateLinkMode(t *testing.T) {
	e := newEnv(t)
	e.mustDo(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, vethReq("v0", "v1"))
	e.mustDo(unix.RTM_NEWLINK, 0, upReq(2, true))
	e.mustDo(unix.RTM_NEWLINK, 0, upReq(3, true))
	e.run()
	mon, _ := e.srv.Open("", Cred{})
	mon.Join(unix.RTNLGRP_LINK)
	check := func(what string, oper netdev.OperState, mode uint8, running bool) {
		t.Helper()
		l := e.getLink("v0")
		if netdev.OperState(l.OperState) != oper || l.LinkMode != mode || (l.Flags&unix.IFF_RUNNING != 0) != running {
			t.Errorf("%s: oper %v mode %d flags %#x, want %v mode %d running %v", what,
				netdev.OperState(l.OperState), l.LinkMode, l.Flags, oper, mode, running)
		}
	}
	check("up", netdev.OperUp, 0, true)
	setOper(e, 3, 1, -1)
	check("mode dormant", netdev.OperUp, 1, true)
	if n := len(drain(t, mon)); n != 1 {
		t.Errorf("mode change: %d notifications, want 1", n)
	}
	// Linkwatch runs between the two requests (on Linux as soon as the
	// first releases the RTNL: a veth's carrier events are urgent), so
	// it sees the carrier go and the state becomes DORMANT when it
	// comes back; had it not run, the state would stay UP.
	e.mustDo(unix.RTM_NEWLINK, 0, upReq(3, false))
	e.run()
	e.mustDo(unix.RTM_NEWLINK, 0, upReq(3, true))
	e.run()
	check("down and up", netdev.OperDormant, 1, false)
	setOper(e, 3, -1, int(netdev.OperTesting))
	check("state testing", netdev.OperDormant, 1, false)
	drain(t, mon)
	setOper(e, 3, -1, int(netdev.OperUp))
	check("state up", netdev.OperUp, 1, true)
	if n := len(drain(t, mon)); n != 1 {
		t.Errorf("state change: %d notifications, want 1", n)
	}
	setOper(e, 3, -1, int(netdev.OperUp))
	if n := len(drain(t, mon)); n != 0 {
		t.Errorf("no change: %d notifications", n)
	}
	setOper(e, 3, -1, int(netdev.OperDormant))
	check("state dormant", netdev.OperDormant, 1, false)
	setOper(e, 3, 0, int(netdev.OperUp))
	check("mode default state up", netdev.OperUp, 0, true)
	l := rtmsg.Link{Index: 3, OperState: 7}
	l.Attrs.Set(unix.IFLA_OPERSTATE)
	if errno, _ := e.do(unix.RTM_SETLINK, 0, enc(&l)); errno != -22 {
		t.Errorf("operstate 7: errno %d, want EINVAL", -errno)
	}
}
