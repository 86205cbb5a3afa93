package client

import (
	"net/netip"

	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

// Rule is an IPv4 policy routing rule (`ip rule`).
type Rule struct {
	Priority uint32       // 0 on add: the server picks (one below the lowest)
	Src      netip.Prefix // from; invalid: all
	Dst      netip.Prefix // to; invalid: all
	Table    uint32       // lookup TABLE
	IIF, OIF string
	FwMark   uint32
	FwMask   uint32
	Action   uint8 // FR_ACT_*; 0 on add means FR_ACT_TO_TBL
	Invert   bool  // not

	Raw *rtmsg.Rule
}

func ruleFrom(m *rtmsg.Rule) Rule {
	r := Rule{
		Priority: m.Priority,
		Table:    m.Table,
		IIF:      m.IIFName,
		OIF:      m.OIFName,
		FwMark:   m.FwMark,
		FwMask:   m.FwMask,
		Action:   m.Action,
		Invert:   m.Flags&unix.FIB_RULE_INVERT != 0,
		Raw:      m,
	}
	if r.Table == 0 {
		r.Table = uint32(m.Table8)
	}
	if m.Src.IsValid() {
		r.Src = netip.PrefixFrom(m.Src, int(m.SrcLen))
	}
	if m.Dst.IsValid() {
		r.Dst = netip.PrefixFrom(m.Dst, int(m.DstLen))
	}
	return r
}

// Rules lists the IPv4 rules in priority order (`ip rule show`).
func (n *Namespace) Rules() ([]Rule, error) {
	var out []Rule
	hdr := rtmsg.Rule{Family: unix.AF_INET}
	p, _ := hdr.MarshalBinary()
	err := n.request(func(c *conn) error {
		return c.dump(unix.RTM_GETRULE, p, func(h netlink.Header, data []byte) error {
			if h.Type != unix.RTM_NEWRULE {
				return nil
			}
			m := new(rtmsg.Rule)
			if err := m.UnmarshalBinary(data); err != nil {
				return err
			}
			out = append(out, ruleFrom(m))
			return nil
		})
	})
	return out, wrap("rule show", err)
}

// AddRule adds r (`ip rule add`): EEXIST when an identical rule exists.
func (n *Namespace) AddRule(r Rule) error {
	return n.ruleReq("rule add", unix.RTM_NEWRULE, unix.NLM_F_CREATE|unix.NLM_F_EXCL, r)
}

// DelRule deletes the first rule matching r's set fields (`ip rule del`).
func (n *Namespace) DelRule(r Rule) error {
	return n.ruleReq("rule del", unix.RTM_DELRULE, 0, r)
}

func (n *Namespace) ruleReq(op string, typ, flags uint16, r Rule) error {
	m := rtmsg.Rule{
		Family:   unix.AF_INET,
		Action:   r.Action,
		Table:    r.Table,
		Priority: r.Priority,
		IIFName:  r.IIF,
		OIFName:  r.OIF,
		FwMark:   r.FwMark,
		FwMask:   r.FwMask,
	}
	if m.Action == 0 && typ == unix.RTM_NEWRULE {
		m.Action = unix.FR_ACT_TO_TBL
	}
	if r.Table != 0 {
		m.Table8 = uint8(r.Table)
		if r.Table > 255 {
			m.Table8 = unix.RT_TABLE_COMPAT
		}
	}
	if r.Invert {
		m.Flags |= unix.FIB_RULE_INVERT
	}
	if r.Src.IsValid() {
		m.Family = family(r.Src.Addr())
		m.Src, m.SrcLen = r.Src.Masked().Addr(), uint8(r.Src.Bits())
	}
	if r.Dst.IsValid() {
		m.Family = family(r.Dst.Addr())
		m.Dst, m.DstLen = r.Dst.Masked().Addr(), uint8(r.Dst.Bits())
	}
	p, err := m.MarshalBinary()
	if err != nil {
		return wrap(op, err)
	}
	return wrap(op, n.request(func(c *conn) error { return c.do(typ, flags, p, nil) }))
}
