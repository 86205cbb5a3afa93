package rtnl

import (
	"time"

	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/neigh"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"github.com/usnet/usnet/netns"
	"golang.org/x/sys/unix"
)

// Notification rules, as the recordings in tests/kernelref show them:
//
//   - RTM_NEWLINK/DELLINK and RTM_NEWNETCONF/DELNETCONF: port id 0,
//     sequence 0, flags 0, whatever caused them.
//   - RTM_NEWADDR/DELADDR caused by a request: the requester's port id and
//     sequence number; otherwise 0.
//   - RTM_NEWNEIGH/DELNEIGH caused by a request: the requester's port id,
//     sequence 0.
//   - RTM_NEWROUTE/DELROUTE, RTM_NEWRULE/DELRULE: as the FIB reports them
//     (fib.Info): requests give their port id, sequence and, for routes,
//     the NLM_F_* of fib_table_insert; kernel routes 0, 0 and
//     NLM_F_CREATE|NLM_F_EXCL.

// adminFlags are the flags whose changes ifi_change reports.
func adminFlags(d *netdev.Device) uint32 {
	return ifFlags(d, linkState{}) &^ uint32(netdev.FlagRunning|netdev.FlagLowerUp|netdev.FlagDormant)
}

func (st *nsState) devEvent(ev netdev.Event, d *netdev.Device) {
	switch ev {
	case netdev.EventRegister:
		st.flushDeferred()
		st.netconf(unix.RTM_NEWNETCONF, d)
		st.admin[d] = adminFlags(d)
		if st.creating {
			st.deferNew = append(st.deferNew, d)
			return
		}
		st.link(unix.RTM_NEWLINK, d, ^uint32(0), linkState{})
	case netdev.EventUp:
		if st.upSent == d {
			st.upSent = nil
			return
		}
		st.linkChanged(d)
	case netdev.EventGoingDown:
		change := uint32(unix.IFF_UP)
		if st.deleting[d] {
			change |= unix.IFF_RUNNING
		}
		st.closing[d] = true
		st.admin[d] = adminFlags(d) &^ unix.IFF_UP
		st.link(unix.RTM_NEWLINK, d, change, linkState{down: true})
	case netdev.EventDown:
		delete(st.closing, d)
		st.admin[d] = adminFlags(d)
	case netdev.EventChange:
		if st.closing[d] {
			return
		}
		st.linkChanged(d)
	case netdev.EventChangeMTU, netdev.EventChangeAddr, netdev.EventChangeName, netdev.EventChangeUpper:
		st.link(unix.RTM_NEWLINK, d, 0, linkState{})
	case netdev.EventFeatChange:
		// rtnetlink_event sends NETDEV_FEAT_CHANGE on (with
		// IFLA_EVENT_FEATURES, which usnet does not send).
		st.link(unix.RTM_NEWLINK, d, 0, linkState{})
	case netdev.EventRxFlags:
		// __dev_notify_flags with IFF_PROMISC as the changed flag, up
		// or down, whether the count crossed zero or not.
		st.link(unix.RTM_NEWLINK, d, unix.IFF_PROMISC, linkState{})
	case netdev.EventUnregister:
		st.netconf(unix.RTM_DELNETCONF, d)
		// rtnl_delete_link passes the request on to the RTM_DELLINK of
		// every device it deletes (NLM_F_ECHO).
		ls := linkState{down: true, dellink: true, report: st.cur != nil && st.cur.typ == unix.RTM_DELLINK}
		if to, ok := st.moving[d]; ok {
			// The old namespace names the new one, allocating its id,
			// between the unregister notifiers and the RTM_DELLINK.
			delete(st.moving, d)
			ls.moved, ls.newIfindex = true, int32(to.ifindex)
			ls.newNetnsid = st.ns.Net.PeerIDAlloc(to.net)
		}
		st.link(unix.RTM_DELLINK, d, ^uint32(0), ls)
		delete(st.admin, d)
		delete(st.closing, d)
		delete(st.deleting, d)
	}
}

// linkChanged reports d with ifi_change set to the admin flags that
// changed since the last report (0 for carrier and operstate changes).
func (st *nsState) linkChanged(d *netdev.Device) {
	now := adminFlags(d)
	change := now ^ st.admin[d]
	st.admin[d] = now
	st.link(unix.RTM_NEWLINK, d, change, linkState{})
}

// flushDeferred sends the RTM_NEWLINK of devices a request created.
func (st *nsState) flushDeferred() {
	l := st.deferNew
	st.deferNew = nil
	created := st.created
	st.created = nil
	for _, d := range l {
		if st.ns.Dev.ByIndex(d.Ifindex()) == d {
			report := d == created && st.cur != nil && st.cur.typ == unix.RTM_NEWLINK
			st.link(unix.RTM_NEWLINK, d, ^uint32(0), linkState{report: report})
		}
	}
}

// beforeOther runs before any address, route or neighbour notification:
// a device a request is opening is reported up first, as
// __dev_notify_flags does before NETDEV_UP runs.
func (st *nsState) beforeOther() {
	if d := st.pendingUp; d != nil && d.IsUp() {
		st.pendingUp = nil
		st.upSent = d
		st.linkChanged(d)
	}
}

func (st *nsState) link(typ uint16, d *netdev.Device, change uint32, ls linkState) {
	// Linux 6.18 names the requester (port id, sequence) in a link
	// notification only when it asked for NLM_F_ECHO, and only in the
	// RTM_NEWLINK of a device it created and the RTM_DELLINK of one it
	// deleted; it then gets the message by unicast.
	var h netlink.Header
	var echo []uint16
	if c := st.cur; ls.report && c != nil && c.flags&unix.NLM_F_ECHO != 0 {
		h.Pid, h.Seq, echo = c.pid, c.seq, []uint16{c.typ}
	}
	if !st.wants(unix.RTNLGRP_LINK, echo...) {
		// The kernel builds the message without listeners too, and
		// filling IFLA_LINK_NETNSID gives the peer namespace its id.
		if _, ln := d.Link(); ln != nil {
			if n, ok := ln.(*netns.Net); ok && n != nil {
				d.Table().Net().PeerIDAlloc(n)
			}
		}
		return
	}
	e := st.begin()
	h.Type = typ
	m := e.BeginMessage(h)
	fillLink(e, st.ns.IPv4, d, change, ls)
	e.EndMessage(m)
	st.multicast(unix.RTNLGRP_LINK, e.Bytes(), echo...)
}

func (st *nsState) netconf(typ uint16, d *netdev.Device) {
	if !st.wants(unix.RTNLGRP_IPV4_NETCONF) {
		return
	}
	e := st.begin()
	m := e.BeginMessage(netlink.Header{Type: typ})
	fillNetconf(e, st.ns.IPv4, int32(d.Ifindex()), typ == unix.RTM_DELNETCONF)
	e.EndMessage(m)
	st.multicast(unix.RTNLGRP_IPV4_NETCONF, e.Bytes())
}

// fillNetconf appends a netconfmsg for a device or for the "all" (-1) and
// "default" (-2) sets (inet_netconf_fill_devconf, NETCONFA_ALL).
func fillNetconf(e *netlink.AttributeEncoder, l *ipv4.Layer, ifindex int32, onlyIndex bool) {
	nc := rtmsg.Netconf{Family: unix.AF_INET, Ifindex: ifindex}
	nc.Attrs.Set(rtmsg.NetconfIfindex)
	if !onlyIndex {
		var c ipv4.DevConf
		switch ifindex {
		case rtmsg.NetconfIfindexAll:
			c = l.All
		case rtmsg.NetconfIfindexDefault:
			c = l.Deflt
		default:
			c = *l.Conf(int(ifindex))
		}
		nc.Forwarding = int32(b2u32(c.Forwarding))
		nc.RPFilter = int32(c.RPFilter)
		nc.ProxyNeigh = int32(b2u32(c.ProxyARP))
		nc.IgnoreRoutesWithLinkdown = int32(b2u32(c.IgnoreRoutesWithLinkdown))
		for _, t := range []uint16{rtmsg.NetconfForwarding, rtmsg.NetconfRPFilter, rtmsg.NetconfMCForwarding,
			rtmsg.NetconfBCForwarding, rtmsg.NetconfProxyNeigh, rtmsg.NetconfIgnoreRoutesWithLinkdown} {
			nc.Attrs.Set(t)
		}
	}
	nc.Encode(e)
}

var addrTypes = []uint16{unix.RTM_NEWADDR, unix.RTM_DELADDR}

func (st *nsState) addrEvent(ev ipv4.AddrEvent, a *ipv4.IfAddr) {
	typ := uint16(unix.RTM_NEWADDR)
	if ev == ipv4.AddrDel {
		typ = unix.RTM_DELADDR
	}
	st.beforeOther()
	if st.wants(unix.RTNLGRP_IPV4_IFADDR, addrTypes...) {
		var h netlink.Header
		h.Type = typ
		if c := st.ctx(addrTypes...); c != nil {
			h.Seq, h.Pid = c.seq, c.pid
		}
		e := st.begin()
		m := e.BeginMessage(h)
		st.fillAddr(e, a)
		e.EndMessage(m)
		st.multicast(unix.RTNLGRP_IPV4_IFADDR, e.Bytes(), addrTypes...)
	}
}

// fillAddr appends an ifaddrmsg (inet_fill_ifaddr): the lifetimes left
// and the creation and update stamps in hundredths of a second of the
// namespace clock.
func (st *nsState) fillAddr(e *netlink.AttributeEncoder, a *ipv4.IfAddr) {
	now := st.ns.Exec().Now()
	valid, preferred := a.Remaining(now)
	hundredths := func(t time.Duration) uint32 { return uint32(t / (10 * time.Millisecond)) }
	ra := rtmsg.Addr{
		Family: unix.AF_INET, PrefixLen: uint8(a.Prefix.Bits()), Flags8: uint8(a.Flags), Scope: a.Scope,
		Index: uint32(a.Dev.Ifindex()), Address: a.Address, Local: a.Local, Broadcast: a.Broadcast,
		Label: a.Label, Proto: a.Proto, Flags: a.Flags, RtPriority: a.Priority,
		Cacheinfo: &rtmsg.AddrCacheinfo{Preferred: preferred, Valid: valid,
			Created: hundredths(a.Cstamp), Updated: hundredths(a.Tstamp)},
	}
	ra.Attrs.Set(unix.IFA_FLAGS)
	ra.Encode(e)
}

func (st *nsState) neighEvent(ev neigh.Event, n *neigh.Entry) {
	st.beforeOther()
	if !st.wants(unix.RTNLGRP_NEIGH) {
		return
	}
	typ := uint16(unix.RTM_NEWNEIGH)
	if ev == neigh.EventDelete {
		typ = unix.RTM_DELNEIGH
	}
	h := netlink.Header{Type: typ}
	if c := st.ctx(unix.RTM_NEWNEIGH, unix.RTM_DELNEIGH); c != nil {
		h.Pid = c.pid
	}
	e := st.begin()
	m := e.BeginMessage(h)
	st.fillNeigh(e, n)
	e.EndMessage(m)
	st.multicast(unix.RTNLGRP_NEIGH, e.Bytes())
}

// fillNeigh appends an ndmsg (neigh_fill_info).
func (st *nsState) fillNeigh(e *netlink.AttributeEncoder, n *neigh.Entry) {
	now := st.ns.Exec().Now()
	ticks := func(t int64) uint32 { return uint32(max(0, int64(now)-t) / 1e7) } // USER_HZ
	rn := rtmsg.Neigh{
		Family: unix.AF_INET, Index: int32(n.Dev.Ifindex()), State: uint16(n.State), Flags: uint8(n.Flags),
		Type: unix.RTN_UNICAST, Dst: n.Addr, Probes: uint32(n.Probes),
		Cacheinfo: &rtmsg.NeighCacheinfo{Confirmed: ticks(int64(n.Confirmed)), Used: ticks(int64(n.Used)),
			Updated: ticks(int64(n.Updated)), RefCnt: 1},
	}
	if n.State.Valid() {
		rn.LLAddr = n.LLAddr[:]
	}
	rn.Attrs.Set(unix.NDA_PROBES)
	rn.Encode(e)
}
