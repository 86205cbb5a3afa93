package rtnl

import (
	"net/netip"
	"syscall"

	"github.com/usnet/usnet/fib"
	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

const sizeofFibRuleHdr = 12

var (
	hNewRule = handlers{doit: newRule, hdrLen: sizeofFibRuleHdr}
	hDelRule = handlers{doit: delRule, hdrLen: sizeofFibRuleHdr}
	hGetRule = handlers{dumpit: dumpRules, hdrLen: sizeofFibRuleHdr}
)

// toFIBRule is fib_nl2rule.
func (c *call) toFIBRule(add bool) (fib.Rule, error) {
	if c.family() != unix.AF_INET {
		return fib.Rule{}, syscall.EAFNOSUPPORT
	}
	var rm rtmsg.Rule
	if err := rm.UnmarshalBinary(c.data()); err != nil {
		return fib.Rule{}, decodeErr(err, "rule request")
	}
	if rm.SrcLen > 32 || rm.DstLen > 32 {
		return fib.Rule{}, errMsg(syscall.EINVAL, "Invalid prefix length")
	}
	r := fib.Rule{Priority: rm.Priority, IIf: rm.IIFName, OIf: rm.OIFName, Mark: rm.FwMark, Mask: rm.FwMask,
		TOS: rm.TOS, IPProto: rm.IPProto, Action: rm.Action, Table: uint32(rm.Table8), Goto: rm.Goto,
		SuppressPrefixLen: -1, SuppressIfgroup: -1, Flags: rm.Flags, Protocol: rm.Protocol}
	if rm.Attrs.Has(unix.FRA_TABLE) {
		r.Table = rm.Table
	}
	if rm.Src.IsValid() || rm.SrcLen > 0 {
		if !rm.Src.Is4() {
			return fib.Rule{}, errMsg(syscall.EINVAL, "Invalid source address")
		}
		r.Src = netip.PrefixFrom(rm.Src, int(rm.SrcLen)).Masked()
	}
	if rm.Dst.IsValid() || rm.DstLen > 0 {
		if !rm.Dst.Is4() {
			return fib.Rule{}, errMsg(syscall.EINVAL, "Invalid destination address")
		}
		r.Dst = netip.PrefixFrom(rm.Dst, int(rm.DstLen)).Masked()
	}
	if rm.Attrs.Has(unix.FRA_FWMARK) && !rm.Attrs.Has(unix.FRA_FWMASK) && r.Mark != 0 {
		r.Mask = 0xffffffff
	}
	if rm.Attrs.Has(unix.FRA_SUPPRESS_PREFIXLEN) {
		r.SuppressPrefixLen = int(int32(rm.SuppressPrefixLen))
	}
	if rm.Attrs.Has(unix.FRA_SUPPRESS_IFGROUP) {
		r.SuppressIfgroup = int(int32(rm.SuppressIfGroup))
	}
	if rm.SPortRange != nil {
		r.Sport = fib.PortRange{Start: uint16(rm.SPortRange.Start), End: uint16(rm.SPortRange.End)}
	}
	if rm.DPortRange != nil {
		r.Dport = fib.PortRange{Start: uint16(rm.DPortRange.Start), End: uint16(rm.DPortRange.End)}
	}
	if add && !rm.Attrs.Has(unix.FRA_PRIORITY) {
		r.Priority = defaultRulePref(c.st.ns.FIB.Rules())
	}
	return r, nil
}

// defaultRulePref is fib_default_rule_pref: one below the second rule's
// preference, so a rule without one goes right after the first.
func defaultRulePref(rules []fib.Rule) uint32 {
	if len(rules) > 1 && rules[1].Priority > 0 {
		return rules[1].Priority - 1
	}
	return 0
}

func newRule(c *call) error {
	if c.st.ns.FIB == nil {
		return syscall.EOPNOTSUPP
	}
	r, err := c.toFIBRule(true)
	if err != nil {
		return err
	}
	return c.st.ns.FIB.AddRule(r, c.h.Flags, c.fibInfo())
}

func delRule(c *call) error {
	if c.st.ns.FIB == nil {
		return syscall.EOPNOTSUPP
	}
	r, err := c.toFIBRule(false)
	if err != nil {
		return err
	}
	return c.st.ns.FIB.DelRule(r, c.fibInfo())
}

// fillRule appends a fib_rule_hdr and attributes (fib_nl_fill_rule).
func fillRule(e *netlink.AttributeEncoder, r *fib.Rule) {
	rm := rtmsg.Rule{Family: unix.AF_INET, TOS: r.TOS, Action: r.Action, Flags: r.Flags,
		Table: r.Table, Protocol: r.Protocol, IIFName: r.IIf, OIFName: r.OIf, Priority: r.Priority,
		FwMark: r.Mark, Goto: r.Goto, IPProto: r.IPProto}
	rm.Table8 = unix.RT_TABLE_COMPAT
	if r.Table < 256 {
		rm.Table8 = uint8(r.Table)
	}
	rm.Attrs.Set(unix.FRA_TABLE)
	rm.Attrs.Set(unix.FRA_PROTOCOL)
	rm.SuppressPrefixLen = uint32(int32(r.SuppressPrefixLen))
	rm.Attrs.Set(unix.FRA_SUPPRESS_PREFIXLEN)
	if r.Mark != 0 || r.Mask != 0 {
		rm.FwMask = r.Mask
		rm.Attrs.Set(unix.FRA_FWMASK)
	}
	if r.SuppressIfgroup != -1 {
		rm.SuppressIfGroup = uint32(int32(r.SuppressIfgroup))
		rm.Attrs.Set(unix.FRA_SUPPRESS_IFGROUP)
	}
	if r.Sport != (fib.PortRange{}) {
		rm.SPortRange = &rtmsg.Range{Start: uint32(r.Sport.Start), End: uint32(r.Sport.End)}
	}
	if r.Dport != (fib.PortRange{}) {
		rm.DPortRange = &rtmsg.Range{Start: uint32(r.Dport.Start), End: uint32(r.Dport.End)}
	}
	if r.Src.IsValid() {
		rm.Src, rm.SrcLen = r.Src.Addr(), uint8(r.Src.Bits())
	}
	if r.Dst.IsValid() {
		rm.Dst, rm.DstLen = r.Dst.Addr(), uint8(r.Dst.Bits())
	}
	rm.Encode(e)
}

// dumpRules is fib_nl_dumprule.
func dumpRules(c *call) error {
	f := c.st.ns.FIB
	if !familyIncluded(c.family()) || f == nil {
		return c.emptyDump()
	}
	for _, r := range f.Rules() {
		c.dumpMsg(unix.RTM_NEWRULE, func(e *netlink.AttributeEncoder) { fillRule(e, &r) })
	}
	c.finishDump()
	return nil
}
