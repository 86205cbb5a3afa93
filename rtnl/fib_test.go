package rtnl

import (
	"net/netip"

	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

// addRoute is `ip route add DST via GW [table T]`.
func addRoute(e *env, dst, gw string, table uint32) {
	p := netip.MustParsePrefix(dst)
	r := rtmsg.Route{Family: unix.AF_INET, DstLen: uint8(p.Bits()), Table8: unix.RT_TABLE_MAIN,
		Protocol: unix.RTPROT_BOOT, Scope: unix.RT_SCOPE_UNIVERSE, Type: unix.RTN_UNICAST,
		Dst: p.Addr(), Gateway: netip.MustParseAddr(gw)}
	if table != 0 {
		r.Table8, r.Table = uint8(table), table
		if table > 255 {
			r.Table8 = unix.RT_TABLE_COMPAT
		}
	}
	e.mustDo(unix.RTM_NEWROUTE, unix.NLM_F_CREATE|unix.NLM_F_EXCL, enc(&r))
}

// addRule is `ip rule add from SRC table T priority P`.
func addRule(e *env, src string, table, prio uint32) {
	p := netip.MustParsePrefix(src)
	r := rtmsg.Rule{Family: unix.AF_INET, SrcLen: uint8(p.Bits()), Table8: uint8(table), Action: unix.FR_ACT_TO_TBL,
		Src: p.Addr(), Priority: prio}
	if table > 255 {
		r.Table8, r.Table = unix.RT_TABLE_COMPAT, table
	}
	e.mustDo(unix.RTM_NEWRULE, unix.NLM_F_CREATE|unix.NLM_F_EXCL, enc(&r))
}
