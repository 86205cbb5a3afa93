package iproute

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

func (s *session) cmdAddr(args []string) error {
	if len(args) == 0 {
		return s.addrShow(nil)
	}
	cmd, rest := args[0], args[1:]
	switch {
	case matches(cmd, "add"):
		return s.addrModify(unix.RTM_NEWADDR, unix.NLM_F_CREATE|unix.NLM_F_EXCL, rest)
	case matches(cmd, "change") || cmd == "chg":
		return s.addrModify(unix.RTM_NEWADDR, unix.NLM_F_REPLACE, rest)
	case matches(cmd, "replace"):
		return s.addrModify(unix.RTM_NEWADDR, unix.NLM_F_CREATE|unix.NLM_F_REPLACE, rest)
	case matches(cmd, "delete"):
		return s.addrModify(unix.RTM_DELADDR, 0, rest)
	case matches(cmd, "show") || matches(cmd, "lst") || matches(cmd, "list"):
		return s.addrShow(rest)
	case matches(cmd, "flush"):
		return s.addrFlush(rest)
	}
	return fail(exitUsage, "Command \"%s\" is unknown, try \"ip address help\".", cmd)
}

// parsePrefix parses ADDR[/LEN] (get_prefix); LEN defaults to the full
// address length. "default"/"any"/"all" are the zero prefix.
func parsePrefix(s string, family uint8) (netip.Prefix, bool) {
	switch s {
	case "default", "any", "all":
		if family == unix.AF_INET6 {
			return netip.PrefixFrom(netip.IPv6Unspecified(), 0), true
		}
		return netip.PrefixFrom(netip.IPv4Unspecified(), 0), true
	}
	addr, bits, slash := strings.Cut(s, "/")
	a, err := netip.ParseAddr(addr)
	if err != nil {
		// iproute2 accepts short IPv4 forms such as "10/8".
		if a, err = parseShortV4(addr); err != nil {
			return netip.Prefix{}, false
		}
	}
	if family == unix.AF_INET && !a.Is4() || family == unix.AF_INET6 && !a.Is6() {
		return netip.Prefix{}, false
	}
	n := a.BitLen()
	if slash {
		v, err := strconv.Atoi(bits)
		if err != nil || v < 0 || v > a.BitLen() {
			return netip.Prefix{}, false
		}
		n = v
	}
	return netip.PrefixFrom(a, n), true
}

func parseShortV4(s string) (netip.Addr, error) {
	parts := strings.Split(s, ".")
	if len(parts) == 0 || len(parts) > 4 {
		return netip.Addr{}, fmt.Errorf("bad")
	}
	var b [4]byte
	for i, p := range parts {
		v, err := strconv.ParseUint(p, 10, 8)
		if err != nil {
			return netip.Addr{}, err
		}
		b[i] = byte(v)
	}
	return netip.AddrFrom4(b), nil
}

func familyOf(a netip.Addr) uint8 {
	if a.Is4() {
		return unix.AF_INET
	}
	return unix.AF_INET6
}

func (s *session) addrModify(typ, flags uint16, args []string) error {
	var a rtmsg.Addr
	var dev, label string
	var local, peer netip.Prefix
	var brd string
	scopeSet := false
	ifaFlags := uint32(0)
	validLft, preferredLft := uint32(0xffffffff), uint32(0xffffffff)
	validSet, preferredSet := false, false
	for i := 0; i < len(args); i++ {
		arg := args[i]
		next := func() (string, error) {
			if i+1 >= len(args) {
				return "", incomplete()
			}
			i++
			return args[i], nil
		}
		switch {
		case arg == "peer" || arg == "remote":
			v, err := next()
			if err != nil {
				return err
			}
			p, ok := parsePrefix(v, s.family)
			if !ok {
				return fail(exitFail, "Error: any valid prefix is expected rather than \"%s\".", v)
			}
			peer = p
		case matches(arg, "broadcast") || arg == "brd":
			v, err := next()
			if err != nil {
				return err
			}
			brd = v
		case matches(arg, "label"):
			v, err := next()
			if err != nil {
				return err
			}
			label = v
		case matches(arg, "scope"):
			v, err := next()
			if err != nil {
				return err
			}
			sc, ok := parseScope(v)
			if !ok {
				return invarg("invalid scope value.", v)
			}
			a.Scope = sc
			scopeSet = true
		case arg == "dev":
			v, err := next()
			if err != nil {
				return err
			}
			dev = v
		case arg == "metric" || arg == "priority" || arg == "preference":
			v, err := next()
			if err != nil {
				return err
			}
			m, ok := parseU(v, 32)
			if !ok {
				return invarg("\"metric\" value is invalid\n", v)
			}
			a.RtPriority = uint32(m)
			a.Attrs.Set(unix.IFA_RT_PRIORITY)
		case matches(arg, "valid_lft") || matches(arg, "preferred_lft"):
			key, val, set := "valid_lft", &validLft, &validSet
			if matches(arg, "preferred_lft") {
				key, val, set = "preferred_lft", &preferredLft, &preferredSet
			}
			if *set {
				return fail(exitUsage, "Error: duplicate \"%s\": \"%s\" is the second value.", key, arg)
			}
			v, err := next()
			if err != nil {
				return err
			}
			*set = true
			if v != "forever" {
				n, ok := parseU(v, 32)
				if !ok {
					return invarg(key+" value", v)
				}
				*val = uint32(n)
			}
		case arg == "noprefixroute":
			ifaFlags |= unix.IFA_F_NOPREFIXROUTE
		case arg == "nodad":
			ifaFlags |= unix.IFA_F_NODAD
		case arg == "home":
			ifaFlags |= unix.IFA_F_HOMEADDRESS
		case arg == "mngtmpaddr":
			ifaFlags |= unix.IFA_F_MANAGETEMPADDR
		case arg == "autojoin":
			ifaFlags |= unix.IFA_F_MCAUTOJOIN
		default:
			if arg == "local" {
				v, err := next()
				if err != nil {
					return err
				}
				arg = v
			}
			if local.IsValid() {
				return garbage("local", arg)
			}
			p, ok := parsePrefix(arg, s.family)
			if !ok {
				return fail(exitFail, "Error: any valid prefix is expected rather than \"%s\".", arg)
			}
			local = p
		}
	}
	if dev == "" {
		return fail(exitFail, "Not enough information: \"dev\" argument is required.")
	}
	if !local.IsValid() {
		return fail(exitFail, "Not enough information: \"local\" argument is required.")
	}
	idx, err := s.mustIndex(dev)
	if err != nil {
		return err
	}
	if validSet || preferredSet {
		if validLft == 0 {
			return fail(exitFail, "valid_lft is zero")
		}
		if validLft < preferredLft {
			return fail(exitFail, "preferred_lft is greater than valid_lft")
		}
		a.Cacheinfo = &rtmsg.AddrCacheinfo{Valid: validLft, Preferred: preferredLft}
	}
	a.Family = familyOf(local.Addr())
	a.Index = uint32(idx)
	a.PrefixLen = uint8(local.Bits())
	a.Local = local.Addr()
	a.Address = local.Addr()
	if peer.IsValid() {
		a.Address = peer.Addr()
		a.PrefixLen = uint8(peer.Bits())
	}
	a.Label = label
	if brd != "" && a.Family == unix.AF_INET {
		switch brd {
		case "+", "-":
			if a.PrefixLen < 31 {
				b := local.Addr().As4()
				m := ^uint32(0) << (32 - uint(a.PrefixLen))
				if a.PrefixLen == 0 {
					m = 0
				}
				v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
				if brd == "+" {
					v |= ^m
				} else {
					v &= m
				}
				a.Broadcast = netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
			}
		default:
			b, err := netip.ParseAddr(brd)
			if err != nil || !b.Is4() {
				return invarg("invalid broadcast address", brd)
			}
			a.Broadcast = b
		}
	}
	if !scopeSet && a.Family == unix.AF_INET && local.Addr().As4()[0] == 127 {
		a.Scope = unix.RT_SCOPE_HOST
	}
	if ifaFlags <= 0xff {
		a.Flags8 = uint8(ifaFlags)
	} else {
		a.Flags = ifaFlags
	}
	c, err := s.rtnl()
	if err != nil {
		return err
	}
	b, err := a.MarshalBinary()
	if err != nil {
		return err
	}
	_, err = c.Do(typ, flags, b)
	return err
}

func (s *session) fillTxQLen() error {
	c, err := s.rtnl()
	if err != nil {
		return err
	}
	return c.Dump(unix.RTM_GETLINK, ifinfomsg(unix.AF_UNSPEC), func(h netlink.Header, data []byte) error {
		var full rtmsg.Link
		if h.Type != unix.RTM_NEWLINK || full.UnmarshalBinary(data) != nil {
			return nil
		}
		if l, ok := s.links[full.Index]; ok && !l.Attrs.Has(unix.IFLA_TXQLEN) {
			l.TxQLen = full.TxQLen
		}
		return nil
	})
}

// dumpAddrs returns the addresses of family (0: all) in dump order.
func (s *session) dumpAddrs(family uint8) ([]*rtmsg.Addr, error) {
	c, err := s.rtnl()
	if err != nil {
		return nil, err
	}
	var out []*rtmsg.Addr
	req := make([]byte, unix.SizeofIfAddrmsg)
	req[0] = family
	err = c.Dump(unix.RTM_GETADDR, req, func(h netlink.Header, data []byte) error {
		a := new(rtmsg.Addr)
		if h.Type != unix.RTM_NEWADDR || a.UnmarshalBinary(data) != nil {
			return nil
		}
		out = append(out, a)
		return nil
	})
	return out, err
}

func (s *session) addrShow(args []string) error {
	var dev string
	up := false
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "dev":
			if i+1 >= len(args) {
				return incomplete()
			}
			i++
			dev = args[i]
		case a == "up":
			up = true
		case a == "scope" || a == "label" || a == "to" || a == "type":
			i++ // accepted, not filtered on yet
		default:
			if dev != "" {
				return fail(exitUsage, "Error: either \"dev\" is duplicate, or \"%s\" is a garbage.", a)
			}
			dev = a
		}
	}
	if s.family == unix.AF_INET || s.family == unix.AF_INET6 {
		s.linkFamily = s.family
	}
	if err := s.loadLinks(); err != nil {
		return err
	}
	if s.linkFamily != 0 {
		// addrconf's link messages lack IFLA_TXQLEN, which iproute2
		// then reads with an ioctl; ask for the full messages instead.
		if err := s.fillTxQLen(); err != nil {
			return err
		}
	}
	var devIdx int32
	if dev != "" {
		if devIdx, _ = s.ifindex(dev); devIdx == 0 {
			return fail(exitFail, "Device \"%s\" does not exist.", dev)
		}
	}
	fam := s.family
	if fam == unix.AF_PACKET {
		fam = 0
	}
	var addrs []*rtmsg.Addr
	if s.family != unix.AF_PACKET {
		var err error
		if addrs, err = s.dumpAddrs(fam); err != nil {
			return err
		}
	}
	p := s.out
	p.openArray("")
	for _, i := range s.order {
		l := s.links[i]
		if devIdx != 0 && i != devIdx {
			continue
		}
		if up && l.Flags&unix.IFF_UP == 0 {
			// As iproute2: an empty JSON object for a filtered link.
			p.openObject("")
			p.closeObject()
			continue
		}
		var mine []*rtmsg.Addr
		for _, a := range addrs {
			if int32(a.Index) == i {
				mine = append(mine, a)
			}
		}
		if fam != 0 && len(mine) == 0 {
			continue
		}
		p.openObject("")
		s.printLink(l, false, true)
		if s.family != unix.AF_PACKET {
			p.openArray("addr_info")
			for _, a := range mine {
				p.openObject("")
				s.printAddr(a)
				p.closeObject()
			}
			p.closeArray()
		}
		p.closeObject()
	}
	p.closeArray()
	if p.json {
		p.b.WriteByte('\n')
	}
	return nil
}

// addrFlagNames is iproute2's order for IFA_F_* words.
var addrFlagNames = []struct {
	bit  uint32
	name string
}{
	{unix.IFA_F_SECONDARY, "secondary"}, {unix.IFA_F_NODAD, "nodad"},
	{unix.IFA_F_OPTIMISTIC, "optimistic"}, {unix.IFA_F_DADFAILED, "dadfailed"},
	{unix.IFA_F_HOMEADDRESS, "home"}, {unix.IFA_F_DEPRECATED, "deprecated"},
	{unix.IFA_F_TENTATIVE, "tentative"}, {unix.IFA_F_PERMANENT, "permanent"},
	{unix.IFA_F_MANAGETEMPADDR, "mngtmpaddr"}, {unix.IFA_F_NOPREFIXROUTE, "noprefixroute"},
	{unix.IFA_F_MCAUTOJOIN, "autojoin"}, {unix.IFA_F_STABLE_PRIVACY, "stable-privacy"},
}

func familyName(f uint8) string {
	switch f {
	case unix.AF_INET:
		return "inet"
	case unix.AF_INET6:
		return "inet6"
	case unix.AF_PACKET:
		return "link"
	case unix.AF_BRIDGE:
		return "bridge"
	case unix.AF_MPLS:
		return "mpls"
	}
	return strconv.Itoa(int(f))
}

func lifetime(v uint32) string {
	if v == 0xffffffff {
		return "forever"
	}
	return fmt.Sprintf("%dsec", v)
}

// printAddr prints one address (print_addrinfo).
func (s *session) printAddr(a *rtmsg.Addr) {
	p := s.out
	p.str(anyOut, "family", "    %s ", familyName(a.Family))
	local := a.Local
	if !local.IsValid() {
		local = a.Address
	}
	if local.IsValid() {
		p.str(anyOut, "local", "%s", local.String())
	}
	if a.Local.IsValid() && a.Address.IsValid() && a.Address != a.Local {
		p.str(anyOut, "address", " peer %s", a.Address.String())
	}
	p.uint(anyOut, "prefixlen", "/%d ", uint64(a.PrefixLen))
	if a.Broadcast.IsValid() {
		p.str(anyOut, "broadcast", "brd %s ", a.Broadcast.String())
	}
	if a.Attrs.Has(unix.IFA_RT_PRIORITY) {
		p.uint(anyOut, "metric", "metric %d ", uint64(a.RtPriority))
	}
	// IFA_PROTO is not printed: iproute2 6.1 predates it.
	p.str(anyOut, "scope", "scope %s ", scopeName(a.Scope))
	flags := a.AllFlags()
	for _, f := range addrFlagNames {
		if f.bit == unix.IFA_F_PERMANENT {
			if flags&f.bit == 0 {
				p.flag(anyOut, "dynamic", "dynamic ")
			}
		} else if flags&f.bit != 0 {
			name := f.name
			if f.bit == unix.IFA_F_SECONDARY && a.Family == unix.AF_INET6 {
				name = "temporary"
			}
			p.flag(anyOut, name, name+" ")
		}
		flags &^= f.bit
	}
	if flags != 0 {
		p.str(anyOut, "ifa_flags", "flags %s ", fmt.Sprintf("%02x", flags))
	}
	if a.Attrs.Has(unix.IFA_LABEL) {
		p.str(anyOut, "label", "%s", a.Label)
	}
	p.textRaw("\n")
	if c := a.Cacheinfo; c != nil {
		p.uint(jsonOnly, "valid_life_time", "", uint64(c.Valid))
		p.uint(jsonOnly, "preferred_life_time", "", uint64(c.Preferred))
		p.text("       valid_lft %s preferred_lft %s\n", lifetime(c.Valid), lifetime(c.Preferred))
	}
}

func (s *session) addrFlush(args []string) error {
	var dev string
	for i := 0; i < len(args); i++ {
		if args[i] == "dev" && i+1 < len(args) {
			i++
		}
		dev = args[i]
	}
	if dev == "" {
		return fail(exitFail, "Flush requires arguments.")
	}
	idx, err := s.ifindex(dev)
	if err != nil {
		return err
	}
	if idx == 0 {
		return fail(exitFail, "Device \"%s\" does not exist.", dev)
	}
	fam := s.family
	if fam == unix.AF_PACKET {
		fam = 0
	}
	// Delete in rounds like iproute2: deleting a primary may take its
	// secondaries with it, so re-dump until nothing is left.
	c, _ := s.rtnl()
	for round := 0; round < 10; round++ {
		addrs, err := s.dumpAddrs(fam)
		if err != nil {
			return err
		}
		n := 0
		for _, a := range addrs {
			if int32(a.Index) != idx {
				continue
			}
			n++
			b, err := a.MarshalBinary()
			if err != nil {
				return err
			}
			if _, err := c.Do(unix.RTM_DELADDR, 0, b); err != nil {
				if ne, ok := err.(*NetlinkError); ok && ne.Errno == unix.EADDRNOTAVAIL {
					continue
				}
				return fail(exitFail, "Failed to send flush request: %s", strerror(err))
			}
		}
		if n == 0 {
			return nil
		}
	}
	return nil
}
