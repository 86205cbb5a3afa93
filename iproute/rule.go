package iproute

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

func (s *session) cmdRule(args []string) error {
	if len(args) == 0 {
		return s.ruleList(nil)
	}
	cmd, rest := args[0], args[1:]
	switch {
	case matches(cmd, "add"):
		return s.ruleModify(unix.RTM_NEWRULE, unix.NLM_F_CREATE|unix.NLM_F_EXCL, rest)
	case matches(cmd, "delete"):
		return s.ruleModify(unix.RTM_DELRULE, 0, rest)
	case matches(cmd, "show") || matches(cmd, "list") || matches(cmd, "lst"):
		return s.ruleList(rest)
	}
	return fail(exitUsage, "Command \"%s\" is unknown, try \"ip rule help\".", cmd)
}

func parsePortRange(s string) (*rtmsg.Range, bool) {
	lo, hi, dash := strings.Cut(s, "-")
	a, err := strconv.ParseUint(lo, 10, 16)
	if err != nil {
		return nil, false
	}
	b := a
	if dash {
		if b, err = strconv.ParseUint(hi, 10, 16); err != nil {
			return nil, false
		}
	}
	return &rtmsg.Range{Start: uint32(a), End: uint32(b)}, true
}

// parseRule parses rule selectors and actions; it is shared by add, del
// and the show filter.
func (s *session) parseRule(args []string, r *rtmsg.Rule) (tableSet bool, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() (string, error) {
			if i+1 >= len(args) {
				return "", incomplete()
			}
			i++
			return args[i], nil
		}
		var v string
		switch {
		case a == "not":
			r.Flags |= unix.FIB_RULE_INVERT
		case a == "from" || a == "to":
			if v, err = next(); err != nil {
				return
			}
			p, ok := parsePrefix(v, r.Family)
			if !ok {
				return false, invarg(fmt.Sprintf("invalid %s address\n", a), v)
			}
			if r.Family == 0 {
				r.Family = familyOf(p.Addr())
			}
			if a == "from" {
				r.SrcLen = uint8(p.Bits())
				if v != "all" {
					r.Src = p.Addr()
				}
			} else {
				r.DstLen = uint8(p.Bits())
				if v != "all" {
					r.Dst = p.Addr()
				}
			}
		case matches(a, "preference") || matches(a, "order") || matches(a, "priority"):
			if v, err = next(); err != nil {
				return
			}
			n, ok := parseU(v, 32)
			if !ok {
				return false, invarg("preference value is invalid\n", v)
			}
			r.Priority = uint32(n)
			r.Attrs.Set(unix.FRA_PRIORITY)
		case a == "tos" || matches(a, "dsfield"):
			if v, err = next(); err != nil {
				return
			}
			n, ok := parseU(v, 8)
			if !ok {
				return false, invarg("TOS value is invalid\n", v)
			}
			r.TOS = uint8(n)
		case matches(a, "fwmark"):
			if v, err = next(); err != nil {
				return
			}
			mark, mask, slash := strings.Cut(v, "/")
			m, ok := parseU(mark, 32)
			if !ok {
				return false, invarg("fwmark value is invalid\n", mark)
			}
			r.FwMark = uint32(m)
			r.Attrs.Set(unix.FRA_FWMARK)
			if slash {
				k, ok := parseU(mask, 32)
				if !ok {
					return false, invarg("fwmask value is invalid\n", mask)
				}
				r.FwMask = uint32(k)
				r.Attrs.Set(unix.FRA_FWMASK)
			}
		case matches(a, "realms"):
			if _, err = next(); err != nil {
				return
			}
		case matches(a, "table") || matches(a, "lookup"):
			if v, err = next(); err != nil {
				return
			}
			t, ok := parseTable(v)
			if !ok {
				return false, invarg("invalid table ID\n", v)
			}
			if t < 256 {
				r.Table8 = uint8(t)
			} else {
				r.Table8 = unix.RT_TABLE_UNSPEC
				r.Table = t
			}
			r.Action = unix.FR_ACT_TO_TBL
			tableSet = true
		case matches(a, "suppress_prefixlength"):
			if v, err = next(); err != nil {
				return
			}
			n, err2 := strconv.ParseInt(v, 0, 32)
			if err2 != nil {
				return false, invarg("suppress_prefixlength value is invalid\n", v)
			}
			r.SuppressPrefixLen = uint32(int32(n))
			r.Attrs.Set(unix.FRA_SUPPRESS_PREFIXLEN)
		case matches(a, "suppress_ifgroup"):
			if v, err = next(); err != nil {
				return
			}
			n, ok := parseU(v, 32)
			if !ok {
				return false, invarg("Invalid \"suppress_ifgroup\" value\n", v)
			}
			r.SuppressIfGroup = uint32(n)
			r.Attrs.Set(unix.FRA_SUPPRESS_IFGROUP)
		case a == "dev" || a == "iif":
			if v, err = next(); err != nil {
				return
			}
			r.IIFName = v
		case a == "oif":
			if v, err = next(); err != nil {
				return
			}
			r.OIFName = v
		case a == "l3mdev":
			r.L3MDev = 1
		case a == "ipproto":
			if v, err = next(); err != nil {
				return
			}
			p, ok := parseIPProto(v)
			if !ok {
				return false, invarg("Invalid \"ipproto\" value\n", v)
			}
			r.IPProto = p
			r.Attrs.Set(unix.FRA_IP_PROTO)
		case a == "sport" || a == "dport":
			if v, err = next(); err != nil {
				return
			}
			rg, ok := parsePortRange(v)
			if !ok {
				return false, invarg(fmt.Sprintf("invalid %s\n", a), v)
			}
			if a == "sport" {
				r.SPortRange = rg
			} else {
				r.DPortRange = rg
			}
		case matches(a, "protocol"):
			if v, err = next(); err != nil {
				return
			}
			p, ok := parseProto(v)
			if !ok {
				return false, invarg("\"protocol\" value is invalid\n", v)
			}
			r.Protocol = p
			r.Attrs.Set(unix.FRA_PROTOCOL)
		case a == "goto":
			if v, err = next(); err != nil {
				return
			}
			n, ok := parseU(v, 32)
			if !ok {
				return false, invarg("invalid target\n", v)
			}
			r.Goto = uint32(n)
			r.Action = unix.FR_ACT_GOTO
		case a == "nop":
			r.Action = unix.FR_ACT_NOP
		case a == "blackhole":
			r.Action = unix.FR_ACT_BLACKHOLE
		case a == "unreachable":
			r.Action = unix.FR_ACT_UNREACHABLE
		case a == "prohibit":
			r.Action = unix.FR_ACT_PROHIBIT
		default:
			if a == "type" {
				if v, err = next(); err != nil {
					return
				}
				a = v
				if t, ok := parseRouteType(a); ok {
					r.Action = t
					break
				}
			}
			return false, fail(exitUsage, "Error: argument \"%s\" is wrong: Failed to parse rule type", a)
		}
	}
	return
}

func (s *session) ruleModify(typ, flags uint16, args []string) error {
	var r rtmsg.Rule
	r.Family = s.family
	if r.Family == unix.AF_PACKET {
		r.Family = 0
	}
	tableSet, err := s.parseRule(args, &r)
	if err != nil {
		return err
	}
	if r.Family == 0 {
		r.Family = unix.AF_INET
	}
	if typ == unix.RTM_NEWRULE && !tableSet && r.Action == unix.FR_ACT_UNSPEC {
		r.Action = unix.FR_ACT_TO_TBL
		r.Table8 = unix.RT_TABLE_MAIN
	}
	c, err := s.rtnl()
	if err != nil {
		return err
	}
	b, err := r.MarshalBinary()
	if err != nil {
		return err
	}
	_, err = c.Do(typ, flags, b)
	return err
}

func ruleTable(r *rtmsg.Rule) uint32 {
	if r.Attrs.Has(unix.FRA_TABLE) {
		return r.Table
	}
	return uint32(r.Table8)
}

func (s *session) ruleList(args []string) error {
	var f rtmsg.Rule
	f.Family = s.family
	if _, err := s.parseRule(args, &f); err != nil {
		return err
	}
	family := s.family
	if family == 0 || family == unix.AF_PACKET {
		family = unix.AF_INET
	}
	c, err := s.rtnl()
	if err != nil {
		return err
	}
	req := make([]byte, 12)
	req[0] = family
	var rules []*rtmsg.Rule
	err = c.Dump(unix.RTM_GETRULE, req, func(h netlink.Header, data []byte) error {
		r := new(rtmsg.Rule)
		if h.Type != unix.RTM_NEWRULE || r.UnmarshalBinary(data) != nil || r.Family != family {
			return nil
		}
		if f.Attrs.Has(unix.FRA_PRIORITY) && r.Priority != f.Priority ||
			f.Src.IsValid() && (r.Src != f.Src || r.SrcLen != f.SrcLen) ||
			f.Dst.IsValid() && (r.Dst != f.Dst || r.DstLen != f.DstLen) ||
			f.Action == unix.FR_ACT_TO_TBL && ruleTable(r) != ruleTable(&f) ||
			f.IIFName != "" && r.IIFName != f.IIFName || f.OIFName != "" && r.OIFName != f.OIFName ||
			f.Attrs.Has(unix.FRA_FWMARK) && r.FwMark != f.FwMark {
			return nil
		}
		rules = append(rules, r)
		return nil
	})
	if err != nil {
		return err
	}
	p := s.out
	p.openArray("")
	for _, r := range rules {
		p.openObject("")
		s.printRule(r, false)
		p.closeObject()
	}
	p.closeArray()
	if p.json {
		p.b.WriteByte('\n')
	}
	return nil
}

// printRule prints one policy rule as print_rule does.
func (s *session) printRule(r *rtmsg.Rule, deleted bool) {
	p := s.out
	if deleted {
		p.null(anyOut, "deleted", "Deleted ")
	}
	p.uint(anyOut, "priority", "%d:\t", uint64(r.Priority))
	if r.Flags&unix.FIB_RULE_INVERT != 0 {
		p.null(anyOut, "not", "not ")
	}
	hl := hostLen(r.Family)
	switch {
	case r.Src.IsValid():
		p.textRaw("from ")
		p.str(anyOut, "src", "%s", r.Src.String())
		if r.SrcLen != hl {
			p.uint(anyOut, "srclen", "/%d", uint64(r.SrcLen))
		}
	case r.SrcLen != 0:
		p.str(anyOut, "src", "from %s", "0")
		p.uint(anyOut, "srclen", "/%d", uint64(r.SrcLen))
	default:
		p.str(anyOut, "src", "from %s", "all")
	}
	switch {
	case r.Dst.IsValid():
		p.textRaw(" to ")
		p.str(anyOut, "dst", "%s", r.Dst.String())
		if r.DstLen != hl {
			p.uint(anyOut, "dstlen", "/%d", uint64(r.DstLen))
		}
	case r.DstLen != 0:
		p.str(anyOut, "dst", " to %s", "0")
		p.uint(anyOut, "dstlen", "/%d", uint64(r.DstLen))
	}
	if r.TOS != 0 {
		p.str(anyOut, "tos", " tos %s", fmt.Sprintf("0x%02x", r.TOS))
	}
	if r.Attrs.Has(unix.FRA_FWMARK) || r.Attrs.Has(unix.FRA_FWMASK) {
		mask := uint32(0xffffffff)
		if r.Attrs.Has(unix.FRA_FWMASK) {
			mask = r.FwMask
		}
		p.str(anyOut, "fwmark", " fwmark %s", hex0x(r.FwMark))
		if mask != 0xffffffff {
			p.str(anyOut, "fwmask", "/%s", hex0x(mask))
		}
	}
	if r.Attrs.Has(unix.FRA_IIFNAME) {
		p.str(anyOut, "iif", " iif %s", r.IIFName)
		if r.Flags&unix.FIB_RULE_IIF_DETACHED != 0 {
			p.null(anyOut, "iif_detached", " [detached]")
		}
	}
	if r.Attrs.Has(unix.FRA_OIFNAME) {
		p.str(anyOut, "oif", " oif %s", r.OIFName)
		if r.Flags&unix.FIB_RULE_OIF_DETACHED != 0 {
			p.null(anyOut, "oif_detached", " [detached]")
		}
	}
	if r.Attrs.Has(unix.FRA_L3MDEV) && r.L3MDev != 0 {
		p.null(anyOut, "l3mdev", " lookup [l3mdev-table]")
	}
	if u := r.UIDRange; u != nil {
		p.uint(anyOut, "uid_start", " uidrange %d", uint64(u.Start))
		p.uint(anyOut, "uid_end", "-%d", uint64(u.End))
	}
	if r.Attrs.Has(unix.FRA_IP_PROTO) {
		p.str(anyOut, "ipproto", " ipproto %s", ipProtoName(r.IPProto))
	}
	for _, pr := range []struct {
		name string
		rg   *rtmsg.Range
	}{{"sport", r.SPortRange}, {"dport", r.DPortRange}} {
		if pr.rg == nil {
			continue
		}
		if pr.rg.Start == pr.rg.End {
			p.uint(anyOut, pr.name, " "+pr.name+" %d", uint64(pr.rg.Start))
		} else {
			p.uint(anyOut, pr.name+"_start", " "+pr.name+" %d", uint64(pr.rg.Start))
			p.uint(anyOut, pr.name+"_end", "-%d", uint64(pr.rg.End))
		}
	}
	if t := ruleTable(r); t != 0 {
		p.str(anyOut, "table", " lookup %s", tableName(t))
		if r.Attrs.Has(unix.FRA_SUPPRESS_PREFIXLEN) && int32(r.SuppressPrefixLen) != -1 {
			p.int(anyOut, "suppress_prefixlen", " suppress_prefixlength %d", int64(int32(r.SuppressPrefixLen)))
		}
		if r.Attrs.Has(unix.FRA_SUPPRESS_IFGROUP) && int32(r.SuppressIfGroup) != -1 {
			p.str(anyOut, "suppress_ifgroup", " suppress_ifgroup %s", strconv.FormatUint(uint64(r.SuppressIfGroup), 10))
		}
	}
	switch r.Action {
	case unix.FR_ACT_GOTO:
		if r.Attrs.Has(unix.FRA_GOTO) {
			p.uint(anyOut, "goto", " goto %d", uint64(r.Goto))
		} else {
			p.str(anyOut, "goto", " goto %s", "none")
		}
		if r.Flags&unix.FIB_RULE_UNRESOLVED != 0 {
			p.null(anyOut, "unresolved", " [unresolved]")
		}
	case unix.FR_ACT_NOP:
		p.null(anyOut, "nop", " nop")
	case unix.FR_ACT_TO_TBL:
	default:
		p.str(anyOut, "action", " %s", typeName(r.Action))
	}
	// iproute2 hides the kernel's own default rules' protocol.
	if r.Attrs.Has(unix.FRA_PROTOCOL) && (r.Protocol != 0 && r.Protocol != unix.RTPROT_KERNEL || s.details) {
		p.str(anyOut, "protocol", " proto %s", protoName(r.Protocol))
	}
	p.textRaw("\n")
}

func hex0x(v uint32) string {
	if v == 0 {
		return "0"
	}
	return fmt.Sprintf("%#x", v)
}
