package iproute

import (
	"fmt"

	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

func (s *session) routeGet(args []string) error {
	var r rtmsg.Route
	r.Family = s.family
	if r.Family == unix.AF_PACKET {
		r.Family = 0
	}
	fibmatch := false
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
		var err error
		switch {
		case a == "from":
			if v, err = next(); err != nil {
				return err
			}
			pf, ok := parsePrefix(v, r.Family)
			if !ok {
				return fail(exitFail, "Error: any valid prefix is expected rather than \"%s\".", v)
			}
			r.Src, r.SrcLen = pf.Addr(), uint8(pf.Bits())
			r.Family = familyOf(pf.Addr())
		case a == "iif" || a == "oif" || a == "dev":
			if v, err = next(); err != nil {
				return err
			}
			idx, err := s.mustIndex(v)
			if err != nil {
				return err
			}
			if a == "iif" {
				r.IIF = uint32(idx)
				r.Attrs.Set(unix.RTA_IIF)
			} else {
				r.OIF = uint32(idx)
				r.Attrs.Set(unix.RTA_OIF)
			}
		case a == "mark":
			if v, err = next(); err != nil {
				return err
			}
			m, ok := parseU(v, 32)
			if !ok {
				return invarg("invalid mark value", v)
			}
			r.Mark = uint32(m)
		case a == "tos" || matches(a, "dsfield"):
			if v, err = next(); err != nil {
				return err
			}
			t, ok := parseU(v, 8)
			if !ok {
				return invarg("TOS value is invalid\n", v)
			}
			r.TOS = uint8(t)
		case a == "uid":
			if v, err = next(); err != nil {
				return err
			}
			u, ok := parseU(v, 32)
			if !ok {
				return invarg("invalid UID\n", v)
			}
			r.UID = uint32(u)
			r.Attrs.Set(unix.RTA_UID)
		case a == "fibmatch":
			fibmatch = true
		case a == "connected":
		case a == "ipproto":
			if v, err = next(); err != nil {
				return err
			}
			pr, ok := parseIPProto(v)
			if !ok {
				return invarg("Invalid \"ipproto\" value\n", v)
			}
			r.IPProto = pr
		case a == "sport" || a == "dport":
			if v, err = next(); err != nil {
				return err
			}
			port, ok := parseU(v, 16)
			if !ok {
				return invarg(fmt.Sprintf("invalid %s\n", a), v)
			}
			if a == "sport" {
				r.SPort = uint16(port)
			} else {
				r.DPort = uint16(port)
			}
		default:
			if a == "to" {
				if v, err = next(); err != nil {
					return err
				}
				a = v
			}
			pf, ok := parsePrefix(a, r.Family)
			if !ok {
				return fail(exitFail, "Error: any valid prefix is expected rather than \"%s\".", a)
			}
			r.Dst, r.DstLen = pf.Addr(), uint8(pf.Bits())
			r.Family = familyOf(pf.Addr())
		}
	}
	if !r.Dst.IsValid() {
		return fail(exitFail, "need at least a destination address")
	}
	// As iproute2: ask the kernel to report the table the lookup used.
	r.Flags |= unix.RTM_F_LOOKUP_TABLE
	if fibmatch {
		r.Flags |= unix.RTM_F_FIB_MATCH
	}
	c, err := s.rtnl()
	if err != nil {
		return err
	}
	b, err := r.MarshalBinary()
	if err != nil {
		return err
	}
	msgs, err := c.Do(unix.RTM_GETROUTE, 0, b)
	if err != nil {
		return err
	}
	p := s.out
	p.openArray("")
	for _, m := range msgs {
		var rr rtmsg.Route
		if m.Header.Type != unix.RTM_NEWROUTE || rr.UnmarshalBinary(m.Data) != nil {
			continue
		}
		p.openObject("")
		s.printRoute(&rr, nil, false)
		p.closeObject()
	}
	p.closeArray()
	if p.json {
		p.b.WriteByte('\n')
	}
	return nil
}
