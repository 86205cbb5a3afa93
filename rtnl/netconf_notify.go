package rtnl

import (
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

// confEvent reports a conf setting written through ipv4.Layer.SetConf (a
// sysctl) as inet_netconf_notify_devconf does: RTM_NEWNETCONF with the
// ifindex (-1 all, -2 default) and the one attribute that changed, port
// id and sequence 0. Executor only.
func (st *nsState) confEvent(ifindex int, f ipv4.ConfField) {
	var attr uint16
	switch f {
	case ipv4.ConfForwarding:
		attr = rtmsg.NetconfForwarding
	case ipv4.ConfRPFilter:
		attr = rtmsg.NetconfRPFilter
	case ipv4.ConfProxyARP:
		attr = rtmsg.NetconfProxyNeigh
	case ipv4.ConfIgnoreRoutesWithLinkdown:
		attr = rtmsg.NetconfIgnoreRoutesWithLinkdown
	default:
		return
	}
	if !st.wants(unix.RTNLGRP_IPV4_NETCONF) {
		return
	}
	c, err := st.ns.IPv4.ConfOf(ifindex)
	if err != nil {
		return
	}
	nc := rtmsg.Netconf{Family: unix.AF_INET, Ifindex: int32(ifindex)}
	nc.Attrs.Set(rtmsg.NetconfIfindex)
	nc.Attrs.Set(attr)
	nc.Forwarding = int32(b2u32(c.Forwarding))
	nc.RPFilter = int32(c.RPFilter)
	nc.ProxyNeigh = int32(b2u32(c.ProxyARP))
	nc.IgnoreRoutesWithLinkdown = int32(b2u32(c.IgnoreRoutesWithLinkdown))
	e := st.begin()
	m := e.BeginMessage(netlink.Header{Type: unix.RTM_NEWNETCONF})
	nc.Encode(e)
	e.EndMessage(m)
	st.multicast(unix.RTNLGRP_IPV4_NETCONF, e.Bytes())
}
