package ipv4

import "syscall"

// ConfField names a per-device setting by its IPV4_DEVCONF_* number, the
// index (plus one) of its value in IFLA_INET_CONF.
type ConfField int

// The settings DevConf models.
const (
	ConfForwarding               ConfField = 1
	ConfProxyARP                 ConfField = 3
	ConfAcceptRedirects          ConfField = 4
	ConfSendRedirects            ConfField = 6
	ConfRPFilter                 ConfField = 8
	ConfAcceptSourceRoute        ConfField = 9
	ConfLogMartians              ConfField = 11
	ConfARPFilter                ConfField = 13
	ConfARPAnnounce              ConfField = 18
	ConfARPIgnore                ConfField = 19
	ConfPromoteSecondaries       ConfField = 20
	ConfARPAccept                ConfField = 21
	ConfARPNotify                ConfField = 22
	ConfAcceptLocal              ConfField = 23
	ConfIgnoreRoutesWithLinkdown ConfField = 29
)

// ConfAll and ConfDefault are the ifindexes of the "all" and "default"
// sets in SetConf and in conf events (NETCONFA_IFINDEX_ALL, _DEFAULT).
const (
	ConfAll     = -1
	ConfDefault = -2
)

// ConfNotifier is told that setting f of a device (or of ConfAll,
// ConfDefault) changed through SetConf, in the order Linux emits its
// RTM_NEWNETCONF: only for the settings netconf carries (forwarding,
// rp_filter, proxy_arp, ignore_routes_with_linkdown).
type ConfNotifier func(ifindex int, f ConfField)

// SubscribeConf adds a conf notifier.
func (l *Layer) SubscribeConf(f ConfNotifier) { l.confNotify = append(l.confNotify, f) }

func (l *Layer) notifyConf(ifindex int, f ConfField) {
	for _, n := range l.confNotify {
		n(ifindex, f)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Get returns setting f as /proc/sys/net/ipv4/conf/*/ shows it (booleans
// 0 or 1), and false for a setting DevConf does not model.
func (c *DevConf) Get(f ConfField) (int, bool) {
	switch f {
	case ConfForwarding:
		return b2i(c.Forwarding), true
	case ConfProxyARP:
		return b2i(c.ProxyARP), true
	case ConfAcceptRedirects:
		return b2i(c.AcceptRedirects), true
	case ConfSendRedirects:
		return b2i(c.SendRedirects), true
	case ConfRPFilter:
		return c.RPFilter, true
	case ConfAcceptSourceRoute:
		return b2i(c.AcceptSourceRoute), true
	case ConfLogMartians:
		return b2i(c.LogMartians), true
	case ConfARPFilter:
		return b2i(c.ARPFilter), true
	case ConfARPAnnounce:
		return c.ARPAnnounce, true
	case ConfARPIgnore:
		return c.ARPIgnore, true
	case ConfPromoteSecondaries:
		return b2i(c.PromoteSecondaries), true
	case ConfARPAccept:
		return b2i(c.ARPAccept), true
	case ConfARPNotify:
		return b2i(c.ARPNotify), true
	case ConfAcceptLocal:
		return b2i(c.AcceptLocal), true
	case ConfIgnoreRoutesWithLinkdown:
		return b2i(c.IgnoreRoutesWithLinkdown), true
	}
	return 0, false
}

// set stores v (booleans: nonzero is on) and marks the setting as
// written, as ipv4_devconf_set does.
func (c *DevConf) set(f ConfField, v int) {
	on := v != 0
	switch f {
	case ConfForwarding:
		c.Forwarding = on
	case ConfProxyARP:
		c.ProxyARP = on
	case ConfAcceptRedirects:
		c.AcceptRedirects = on
	case ConfSendRedirects:
		c.SendRedirects = on
	case ConfRPFilter:
		c.RPFilter = v
	case ConfAcceptSourceRoute:
		c.AcceptSourceRoute = on
	case ConfLogMartians:
		c.LogMartians = on
	case ConfARPFilter:
		c.ARPFilter = on
	case ConfARPAnnounce:
		c.ARPAnnounce = v
	case ConfARPIgnore:
		c.ARPIgnore = v
	case ConfPromoteSecondaries:
		c.PromoteSecondaries = on
	case ConfARPAccept:
		c.ARPAccept = on
	case ConfARPNotify:
		c.ARPNotify = on
	case ConfAcceptLocal:
		c.AcceptLocal = on
	case ConfIgnoreRoutesWithLinkdown:
		c.IgnoreRoutesWithLinkdown = on
	}
	c.written |= 1 << uint(f)
}

// confSet returns the set an ifindex names: "all", "default" or a
// registered device's.
func (l *Layer) confSet(ifindex int) (*DevConf, error) {
	switch ifindex {
	case ConfAll:
		return &l.All, nil
	case ConfDefault:
		return &l.Deflt, nil
	}
	if l.devs.ByIndex(ifindex) == nil {
		return nil, syscall.ENODEV
	}
	return l.conf1(ifindex), nil
}

// ConfOf returns the settings of a device, of ConfAll or of ConfDefault
// (a copy); ENODEV for an unknown device.
func (l *Layer) ConfOf(ifindex int) (DevConf, error) {
	c, err := l.confSet(ifindex)
	if err != nil {
		return DevConf{}, err
	}
	return *c, nil
}

// SetConf writes setting f of a device or of ConfAll/ConfDefault as a
// write to /proc/sys/net/ipv4/conf/*/ does:
//
//   - forwarding (devinet_sysctl_forward): writing "all" also sets
//     "default" and every device and turns all.accept_redirects off
//     while forwarding (inet_forward_change); each change is notified,
//     "all" and "default" first, then the devices in list order;
//   - the others (devinet_conf_proc): a write to "default" reaches the
//     devices whose setting was never written (their own or, through
//     the copy a new device takes of "default", default's);
//     rp_filter, proxy_arp and ignore_routes_with_linkdown notify the
//     set written to.
//
// Nothing is notified when the value does not change. ENODEV for an
// unknown device, EINVAL for a setting DevConf does not model.
func (l *Layer) SetConf(ifindex int, f ConfField, v int) error {
	c, err := l.confSet(ifindex)
	if err != nil {
		return err
	}
	old, ok := c.Get(f)
	if !ok {
		return syscall.EINVAL
	}
	l.rxConf.valid = false
	// Cached routes go stale on every write: Linux flushes for some
	// settings only (forwarding, accept_local and route_localnet going
	// 0, the flushing entries); a superset costs a re-lookup, no more.
	l.confGen++
	if f == ConfForwarding {
		// devinet_sysctl_forward leaves the written bit alone.
		w := c.written
		c.set(f, v)
		c.written = w
		now, _ := c.Get(f)
		if now == old {
			return nil
		}
		switch ifindex {
		case ConfAll:
			l.forwardChange(c.Forwarding)
		default:
			l.notifyConf(ifindex, f)
		}
		return nil
	}
	c.set(f, v)
	if ifindex == ConfDefault {
		for _, d := range l.devs.Devices() {
			if dc := l.conf1(d.Ifindex()); dc.written&(1<<uint(f)) == 0 {
				w := dc.written
				dc.set(f, v)
				dc.written = w
			}
		}
	}
	if now, _ := c.Get(f); now != old {
		switch f {
		case ConfRPFilter, ConfProxyARP, ConfIgnoreRoutesWithLinkdown:
			l.notifyConf(ifindex, f)
		}
	}
	return nil
}

// forwardChange is inet_forward_change: "all" was just set to on.
func (l *Layer) forwardChange(on bool) {
	l.All.AcceptRedirects = !on
	l.Deflt.Forwarding = on
	l.notifyConf(ConfAll, ConfForwarding)
	l.notifyConf(ConfDefault, ConfForwarding)
	for _, d := range l.devs.Devices() {
		l.conf1(d.Ifindex()).set(ConfForwarding, b2i(on))
		l.notifyConf(d.Ifindex(), ConfForwarding)
	}
}
