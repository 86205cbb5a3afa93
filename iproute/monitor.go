package iproute

import (
	"encoding/binary"
	"errors"
	"slices"
	"time"

	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

// rtnetlink multicast groups (RTNLGRP_*).
const (
	grpLink        = 1
	grpNeigh       = 3
	grpIPv4Addr    = 5
	grpIPv4Route   = 7
	grpIPv4Rule    = 8
	grpIPv6Addr    = 9
	grpIPv6Route   = 11
	grpIPv4Netconf = 24
	grpIPv6Netconf = 25
	grpIPv6Rule    = 19
	grpNSID        = 28
)

// ErrNoSubscribe: the transport cannot deliver notifications.
var ErrNoSubscribe = errors.New("transport does not support multicast notifications")

func (s *session) cmdMonitor(args []string) error {
	var groups []uint32
	banner := false
	add := func(g ...uint32) { groups = append(groups, g...) }
	all := func() {
		add(grpLink, grpNeigh, grpIPv4Addr, grpIPv6Addr, grpIPv4Route, grpIPv6Route,
			grpIPv4Rule, grpIPv6Rule, grpIPv4Netconf, grpIPv6Netconf, grpNSID)
	}
	for _, a := range args {
		switch {
		case matches(a, "all"):
			banner = true
			all()
		case matches(a, "link"):
			add(grpLink)
		case matches(a, "address"):
			add(grpIPv4Addr, grpIPv6Addr)
		case matches(a, "route"):
			add(grpIPv4Route, grpIPv6Route)
		case matches(a, "rule"):
			add(grpIPv4Rule, grpIPv6Rule)
		case matches(a, "neigh"):
			add(grpNeigh)
		case matches(a, "netconf"):
			add(grpIPv4Netconf, grpIPv6Netconf)
		case matches(a, "nsid"):
			add(grpNSID)
		case a == "label":
		default:
			return fail(exitUsage, "Argument \"%s\" is unknown, try \"ip monitor help\".", a)
		}
	}
	if len(groups) == 0 {
		all()
	}
	// Link notifications are always taken, to keep device names known
	// (a route event may name a device created after the start and gone
	// by the time a lookup could ask); they print only when asked for.
	printLinks := slices.Contains(groups, grpLink)
	if !printLinks {
		groups = append(groups, grpLink)
	}
	c, err := s.rtnl()
	if err != nil {
		return err
	}
	// Name the peer namespaces now: once subscribed, a request on this
	// socket would race with the notifications.
	s.netnsName(-1)
	sub, ok := c.t.(Subscriber)
	if !ok {
		return fail(exitFail, "%s", ErrNoSubscribe)
	}
	if err := sub.Subscribe(groups...); err != nil {
		return fail(exitFail, "Cannot subscribe: %s", strerror(err))
	}
	_ = s.loadLinks()
	s.lookup = func(index int32) *rtmsg.Link {
		// A second socket: the subscribed one must not carry a dump.
		t, err := s.opt.Dial(s.ns)
		if err != nil {
			return nil
		}
		lc := NewConn(t)
		defer lc.Close()
		// RTM_GETLINK of the one index, as iproute2's ll_link_get does,
		// not a dump: under load, a dump taken while the kernel was
		// still creating the device once missed it (monitor printed
		// "if2" where iproute2 named it).
		req := ifinfomsg(unix.AF_UNSPEC)
		binary.NativeEndian.PutUint32(req[4:], uint32(index))
		var found *rtmsg.Link
		msgs, _ := lc.Do(unix.RTM_GETLINK, 0, req)
		for _, m := range msgs {
			l := new(rtmsg.Link)
			if m.Header.Type == unix.RTM_NEWLINK && l.UnmarshalBinary(m.Data) == nil && l.Index == index {
				found = l
			}
		}
		if found != nil {
			s.links[index] = found
			s.order = append(s.order, index)
		}
		return found
	}
	if rt, ok := c.t.(interface{ SetRecvTimeout(time.Duration) error }); ok && s.opt.Done != nil {
		if err := rt.SetRecvTimeout(100 * time.Millisecond); err != nil {
			return err
		}
	}
	for {
		select {
		case <-s.opt.Done:
			return nil
		default:
		}
		err := c.Recv(func(h netlink.Header, data []byte) error {
			if h.Type == unix.RTM_NEWLINK || h.Type == unix.RTM_DELLINK {
				if l := new(rtmsg.Link); l.UnmarshalBinary(data) == nil && s.links != nil {
					if _, known := s.links[l.Index]; !known {
						s.order = append(s.order, l.Index)
					}
					s.links[l.Index] = l
				}
				if !printLinks {
					return nil
				}
			}
			s.out.b.Reset()
			s.FormatNotification(h, data, banner)
			_, err := s.opt.Stdout.Write(s.out.b.Bytes())
			s.out.b.Reset()
			return err
		})
		if errors.Is(err, unix.EAGAIN) {
			continue // receive timeout: look at Done again
		}
		if err != nil {
			return err
		}
	}
}

// FormatNotification prints one rtnetlink notification as `ip monitor`
// does, with the [LINK]/[ADDR]/... banner when banner is set. Messages
// it does not understand print nothing; malformed ones never panic.
func (s *session) FormatNotification(h netlink.Header, data []byte, banner bool) {
	p := s.out
	tag := func(t string) {
		if banner {
			p.textRaw("[" + t + "]")
		}
	}
	switch h.Type {
	case unix.RTM_NEWLINK, unix.RTM_DELLINK:
		l := new(rtmsg.Link)
		if l.UnmarshalBinary(data) != nil {
			return
		}
		if s.links == nil {
			s.links = map[int32]*rtmsg.Link{}
		}
		tag("LINK")
		if h.Type == unix.RTM_DELLINK {
			p.null(anyOut, "deleted", "Deleted ")
			delete(s.links, l.Index)
		} else {
			if _, ok := s.links[l.Index]; !ok {
				s.order = append(s.order, l.Index)
			}
			s.links[l.Index] = l
		}
		s.printLink(l, false, false)
	case unix.RTM_NEWADDR, unix.RTM_DELADDR:
		a := new(rtmsg.Addr)
		if a.UnmarshalBinary(data) != nil {
			return
		}
		tag("ADDR")
		if h.Type == unix.RTM_DELADDR {
			p.textRaw("Deleted ")
		}
		p.text("%d: %s", a.Index, s.ifname(int32(a.Index)))
		s.printAddr(a)
	case unix.RTM_NEWROUTE, unix.RTM_DELROUTE:
		r := new(rtmsg.Route)
		if r.UnmarshalBinary(data) != nil {
			return
		}
		tag("ROUTE")
		s.printRoute(r, nil, h.Type == unix.RTM_DELROUTE)
	case unix.RTM_NEWNEIGH, unix.RTM_DELNEIGH:
		n := new(rtmsg.Neigh)
		if n.UnmarshalBinary(data) != nil {
			return
		}
		tag("NEIGH")
		s.printNeigh(n, false, h.Type == unix.RTM_DELNEIGH)
	case unix.RTM_NEWRULE, unix.RTM_DELRULE:
		r := new(rtmsg.Rule)
		if r.UnmarshalBinary(data) != nil {
			return
		}
		tag("RULE")
		s.printRule(r, h.Type == unix.RTM_DELRULE)
	case unix.RTM_NEWNETCONF, unix.RTM_DELNETCONF:
		n := new(rtmsg.Netconf)
		if n.UnmarshalBinary(data) != nil {
			return
		}
		tag("NETCONF")
		s.printNetconf(n, h.Type == unix.RTM_DELNETCONF)
	case unix.RTM_NEWNSID, unix.RTM_DELNSID:
		tag("NSID")
		s.printNsid(h, data, s.nsidMap())
	}
}

func (s *session) printNetconf(n *rtmsg.Netconf, deleted bool) {
	p := s.out
	if deleted {
		p.textRaw("Deleted ")
	}
	p.text("%s ", familyName(n.Family))
	if n.Attrs.Has(rtmsg.NetconfIfindex) {
		switch n.Ifindex {
		case rtmsg.NetconfIfindexAll:
			p.str(anyOut, "interface", "%s ", "all")
		case rtmsg.NetconfIfindexDefault:
			p.str(anyOut, "interface", "%s ", "default")
		default:
			p.str(anyOut, "interface", "%s ", s.ifname(n.Ifindex))
		}
	}
	onoff := func(t uint16, key string, v int32) {
		if n.Attrs.Has(t) {
			w := "off"
			if v != 0 {
				w = "on"
			}
			p.str(anyOut, key, key+" %s ", w)
		}
	}
	onoff(rtmsg.NetconfForwarding, "forwarding", n.Forwarding)
	if n.Attrs.Has(rtmsg.NetconfRPFilter) {
		w := "off"
		switch n.RPFilter {
		case 1:
			w = "strict"
		case 2:
			w = "loose"
		}
		p.str(anyOut, "rp_filter", "rp_filter %s ", w)
	}
	onoff(rtmsg.NetconfMCForwarding, "mc_forwarding", n.MCForwarding)
	onoff(rtmsg.NetconfProxyNeigh, "proxy_neigh", n.ProxyNeigh)
	onoff(rtmsg.NetconfIgnoreRoutesWithLinkdown, "ignore_routes_with_linkdown", n.IgnoreRoutesWithLinkdown)
	p.textRaw("\n")
}
