package rtnl

import (
	"syscall"

	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

var hGetNetconf = handlers{doit: getNetconf, dumpit: dumpNetconf, hdrLen: 1}

// getNetconf is inet_netconf_get_devconf.
func getNetconf(c *call) error {
	if c.family() != unix.AF_INET {
		return syscall.EOPNOTSUPP
	}
	var nc rtmsg.Netconf
	if err := nc.UnmarshalBinary(c.data()); err != nil {
		return decodeErr(err, "netconf get request")
	}
	if !nc.Attrs.Has(rtmsg.NetconfIfindex) {
		return errMsg(syscall.EINVAL, "ipv4: Invalid netconf get request")
	}
	idx := nc.Ifindex
	switch {
	case idx == rtmsg.NetconfIfindexAll || idx == rtmsg.NetconfIfindexDefault:
	case c.st.ns.Dev.ByIndex(int(idx)) == nil:
		return syscall.ENODEV
	}
	c.reply(unix.RTM_NEWNETCONF, func(e *netlink.AttributeEncoder) { fillNetconf(e, c.st.ns.IPv4, idx, false) })
	return nil
}

// dumpNetconf is inet_netconf_dump_devconf: every device, then "all" and
// "default".
func dumpNetconf(c *call) error {
	if c.s.strict {
		if len(c.data()) < 4 {
			// netconfmsg is one byte, padded: the kernel wants the
			// padded size.
			return errMsg(syscall.EINVAL, "ipv4: Invalid header for netconf dump request")
		}
		if len(c.data()) > 4 {
			return errMsg(syscall.EINVAL, "ipv4: Invalid data after header in netconf dump request")
		}
	}
	if !familyIncluded(c.family()) {
		return c.emptyDump()
	}
	for _, d := range c.st.ns.Dev.Devices() {
		idx := int32(d.Ifindex())
		c.dumpMsg(unix.RTM_NEWNETCONF, func(e *netlink.AttributeEncoder) { fillNetconf(e, c.st.ns.IPv4, idx, false) })
	}
	for _, idx := range []int32{rtmsg.NetconfIfindexAll, rtmsg.NetconfIfindexDefault} {
		c.dumpMsg(unix.RTM_NEWNETCONF, func(e *netlink.AttributeEncoder) { fillNetconf(e, c.st.ns.IPv4, idx, false) })
	}
	c.finishDump()
	return nil
}
