package iproute

import (
	"net/netip"

	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

func (s *session) cmdNeigh(args []string) error {
	if len(args) == 0 {
		return s.neighList(nil, false)
	}
	cmd, rest := args[0], args[1:]
	switch {
	case matches(cmd, "add"):
		return s.neighModify(unix.RTM_NEWNEIGH, unix.NLM_F_CREATE|unix.NLM_F_EXCL, rest)
	case matches(cmd, "change") || cmd == "chg":
		return s.neighModify(unix.RTM_NEWNEIGH, unix.NLM_F_REPLACE, rest)
	case matches(cmd, "replace"):
		return s.neighModify(unix.RTM_NEWNEIGH, unix.NLM_F_CREATE|unix.NLM_F_REPLACE, rest)
	case matches(cmd, "delete"):
		return s.neighModify(unix.RTM_DELNEIGH, 0, rest)
	case matches(cmd, "show") || matches(cmd, "list") || matches(cmd, "lst"):
		return s.neighList(rest, false)
	case matches(cmd, "flush"):
		return s.neighList(rest, true)
	}
	return fail(exitUsage, "Command \"%s\" is unknown, try \"ip neigh help\".", cmd)
}

func (s *session) neighModify(typ, flags uint16, args []string) error {
	n := rtmsg.Neigh{Family: s.family, State: unix.NUD_PERMANENT}
	if n.Family == unix.AF_PACKET {
		n.Family = 0
	}
	var dev string
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
		case a == "lladdr":
			if v, err = next(); err != nil {
				return err
			}
			mac, ok := parseMAC(v)
			if !ok {
				return invarg("\"lladdr\" value is invalid\n", v)
			}
			n.LLAddr = mac
		case a == "nud":
			if v, err = next(); err != nil {
				return err
			}
			st, ok := parseNud(v)
			if !ok {
				return invarg("nud state is bad", v)
			}
			n.State = st
		case a == "proxy":
			n.Flags |= unix.NTF_PROXY
			if v, err = next(); err != nil {
				return err
			}
			if err := s.neighDst(&n, v); err != nil {
				return err
			}
		case a == "router":
			n.Flags |= unix.NTF_ROUTER
		case a == "extern_learn":
			n.Flags |= unix.NTF_EXT_LEARNED
		case a == "dev":
			if dev, err = next(); err != nil {
				return err
			}
		default:
			if a == "to" {
				if a, err = next(); err != nil {
					return err
				}
			}
			if n.Dst.IsValid() {
				return garbage("to", a)
			}
			if err := s.neighDst(&n, a); err != nil {
				return err
			}
		}
	}
	if dev == "" || !n.Dst.IsValid() {
		return fail(exitUsage, "Device and destination are required arguments.")
	}
	idx, err := s.mustIndex(dev)
	if err != nil {
		return err
	}
	n.Index = idx
	c, err := s.rtnl()
	if err != nil {
		return err
	}
	b, err := n.MarshalBinary()
	if err != nil {
		return err
	}
	_, err = c.Do(typ, flags, b)
	return err
}

func (s *session) neighDst(n *rtmsg.Neigh, v string) error {
	a, err := netip.ParseAddr(v)
	if err != nil || n.Family != 0 && familyOf(a) != n.Family {
		return fail(exitFail, "Error: any valid address is expected rather than \"%s\".", v)
	}
	n.Dst = a
	n.Family = familyOf(a)
	return nil
}

func (s *session) neighList(args []string, flush bool) error {
	var devIdx int32
	state := uint16(0xff &^ unix.NUD_NOARP)
	if flush {
		state = 0xff &^ (unix.NUD_PERMANENT | unix.NUD_NOARP)
	}
	stateSet := false
	proxy := false
	var dst netip.Prefix
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "dev":
			if i+1 >= len(args) {
				return incomplete()
			}
			i++
			idx, err := s.ifindex(args[i])
			if err != nil {
				return err
			}
			if idx == 0 {
				return fail(exitFail, "Cannot find device \"%s\"", args[i])
			}
			devIdx = idx
		case a == "nud":
			if i+1 >= len(args) {
				return incomplete()
			}
			i++
			st, ok := parseNud(args[i])
			if !ok {
				return invarg("nud state is bad", args[i])
			}
			if !stateSet {
				state = 0
				stateSet = true
			}
			state |= st
			if args[i] == "all" {
				state = 0xff
			}
		case a == "proxy":
			proxy = true
		case a == "unused" || a == "nomaster" || a == "master" || a == "vrf":
			if a != "unused" && a != "nomaster" {
				i++
			}
		default:
			if a == "to" && i+1 < len(args) {
				i++
				a = args[i]
			}
			p, ok := parsePrefix(a, s.family)
			if !ok {
				return fail(exitFail, "Error: any valid prefix is expected rather than \"%s\".", a)
			}
			dst = p
		}
	}
	if flush && devIdx == 0 && !dst.IsValid() {
		return fail(exitFail, "Flush requires arguments.")
	}
	c, err := s.rtnl()
	if err != nil {
		return err
	}
	if err := s.loadLinks(); err != nil {
		return err
	}
	req := make([]byte, unix.SizeofNdMsg)
	req[0] = s.family
	if s.family == unix.AF_PACKET {
		req[0] = 0
	}
	if proxy {
		req[10] = unix.NTF_PROXY
	}
	var list []*rtmsg.Neigh
	var raws [][]byte
	err = c.Dump(unix.RTM_GETNEIGH, req, func(h netlink.Header, data []byte) error {
		n := new(rtmsg.Neigh)
		if h.Type != unix.RTM_NEWNEIGH || n.UnmarshalBinary(data) != nil {
			return nil
		}
		if n.Family != unix.AF_INET && n.Family != unix.AF_INET6 {
			return nil
		}
		if proxy != (n.Flags&unix.NTF_PROXY != 0) {
			return nil
		}
		if devIdx != 0 && n.Index != devIdx || dst.IsValid() && (!n.Dst.IsValid() || !dst.Contains(n.Dst)) {
			return nil
		}
		if !proxy && n.State&state == 0 && n.Flags&unix.NTF_EXT_LEARNED == 0 {
			return nil
		}
		list = append(list, n)
		raws = append(raws, append([]byte(nil), data...))
		return nil
	})
	if err != nil {
		return err
	}
	if flush {
		for _, b := range raws {
			if _, err := c.Do(unix.RTM_DELNEIGH, 0, b); err != nil {
				if ne, ok := err.(*NetlinkError); ok && ne.Errno == unix.ENOENT {
					continue
				}
				return fail(exitFail, "Failed to send flush request: %s", strerror(err))
			}
		}
		return nil
	}
	p := s.out
	p.openArray("")
	for _, n := range list {
		p.openObject("")
		s.printNeigh(n, devIdx != 0, false)
		p.closeObject()
	}
	p.closeArray()
	if p.json {
		p.b.WriteByte('\n')
	}
	return nil
}

// printNeigh prints one neighbour entry as print_neigh does.
func (s *session) printNeigh(n *rtmsg.Neigh, devFiltered, deleted bool) {
	p := s.out
	if deleted {
		p.null(anyOut, "deleted", "Deleted ")
	}
	if n.Dst.IsValid() {
		p.str(anyOut, "dst", "%s ", n.Dst.String())
	}
	if !devFiltered && n.Index != 0 {
		p.str(anyOut, "dev", "dev %s ", s.ifname(n.Index))
	}
	if n.Attrs.Has(unix.NDA_LLADDR) {
		p.str(anyOut, "lladdr", "lladdr %s ", formatMAC(n.LLAddr))
	}
	if n.Flags&unix.NTF_ROUTER != 0 {
		p.null(anyOut, "router", "router ")
	}
	if n.Flags&unix.NTF_PROXY != 0 {
		p.null(anyOut, "proxy", "proxy ")
	}
	if n.Flags&unix.NTF_EXT_LEARNED != 0 {
		p.null(anyOut, "extern_learn", "extern_learn ")
	}
	if n.Flags&unix.NTF_OFFLOADED != 0 {
		p.null(anyOut, "offload", "offload ")
	}
	if s.stats > 0 && n.Cacheinfo != nil {
		c := n.Cacheinfo
		hz := uint32(100) // USER_HZ, as iproute2 divides by
		p.textRaw(" used ")
		p.uint(anyOut, "used", "%d", uint64(c.Used/hz))
		p.uint(anyOut, "confirmed", "/%d", uint64(c.Confirmed/hz))
		p.uint(anyOut, "updated", "/%d", uint64(c.Updated/hz))
	}
	if s.stats > 0 && n.Attrs.Has(unix.NDA_PROBES) {
		p.uint(anyOut, "probes", "probes %d ", uint64(n.Probes))
	}
	if n.State != 0 {
		p.openArray("state")
		for _, st := range nudNames {
			if n.State&st.v != 0 {
				p.str(anyOut, "", "%s ", st.name)
			}
		}
		p.closeArray()
	}
	p.textRaw("\n")
}
