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
	if !st.wants(unix.RTNLGRP_IPV4_NETCONF) {
		return
	}
	c, err := st.ns.IPv4.ConfOf(ifindex)
	if err != nil {
		return
	}
	// Only the changed attribute is set: the encoder writes every
	// nonzero field.
	nc := rtmsg.Netconf{Family: unix.AF_INET, Ifindex: int32(ifindex)}
	nc.Attrs.Set(rtmsg.NetconfIfindex)
	switch f {
	case ipv4.ConfForwarding:
		nc.Attrs.Set(rtmsg.NetconfForwarding)
		nc.Forwarding = int32(b2u32(c.Forwarding))
	case ipv4.ConfRPFilter:
		nc.Attrs.Set(rtmsg.NetconfRPFilter)
		nc.RPFilter = int32(c.RPFilter)
	case ipv4.ConfProxyARP:
		nc.Attrs.Set(rtmsg.NetconfProxyNeigh)
		nc.ProxyNeigh = int32(b2u32(c.ProxyARP))
	case ipv4.ConfIgnoreRoutesWithLinkdown:
		nc.Attrs.Set(rtmsg.NetconfIgnoreRoutesWithLinkdown)
		nc.IgnoreRoutesWithLinkdown = int32(b2u32(c.IgnoreRoutesWithLinkdown))
	default:
		return
	}
	e := st.begin()
	m := e.BeginMessage(netlink.Header{Type: unix.RTM_NEWNETCONF})
	nc.Encode(e)
	e.EndMessage(m)
	st.multicast(unix.RTNLGRP_IPV4_NETCONF, e.Bytes())
}
