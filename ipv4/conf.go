package ipv4

// DevConf is a device's IPv4 configuration (net.ipv4.conf.DEV.*), with
// Linux's defaults.
type DevConf struct {
	Forwarding               bool
	RPFilter                 int // 0 off, 1 strict, 2 loose
	AcceptLocal              bool
	AcceptRedirects          bool
	SendRedirects            bool
	AcceptSourceRoute        bool
	LogMartians              bool
	PromoteSecondaries       bool
	ARPIgnore                int
	ARPAnnounce              int
	ARPFilter                bool
	ARPAccept                bool
	ARPNotify                bool
	ProxyARP                 bool
	IgnoreRoutesWithLinkdown bool

	// written has bit f set once setting f was written (the kernel's
	// ipv4_devconf.state): a write to "default" then no longer reaches
	// it. A new device copies default's bits with its values.
	written uint64
}

// defaultDevConf is net.ipv4.conf.all.* of a fresh namespace.
func defaultDevConf() DevConf {
	return DevConf{AcceptRedirects: true, SendRedirects: true}
}

// defaultDflt is net.ipv4.conf.default.*, what a new device copies: the
// kernel's ipv4_devconf_dflt differs from "all" in accepting source
// routes (which all's 0 vetoes: the effective value is the AND).
func defaultDflt() DevConf {
	c := defaultDevConf()
	c.AcceptSourceRoute = true
	return c
}

// Sysctl holds the namespace-wide IPv4 settings (net.ipv4.*).
type Sysctl struct {
	DefaultTTL                  uint8
	IPFragHighThresh            int    // bytes of fragments held before new ones are dropped
	IPFragTime                  int64  // reassembly timeout in ns (ipfrag_time, 30 s)
	ICMPRateLimit               int64  // ns between rate-limited ICMP errors (1000 ms)
	ICMPRateMask                uint32 // bit per ICMP type subject to the limit
	ICMPEchoIgnoreAll           bool
	ICMPEchoIgnoreBroadcasts    bool
	LocalPortLow, LocalPortHigh uint16 // ip_local_port_range
	IPNoPMTUDisc                int
	FwdUseMTU                   bool // ip_forward_use_pmtu
	// UnprivilegedPortStart is ip_unprivileged_port_start: binding a
	// lower port needs CAP_NET_BIND_SERVICE (1024). The stack itself
	// runs with every capability; the daemon's socket proxy enforces it
	// for clients it does not trust.
	UnprivilegedPortStart uint16
	// PingGroupLow and PingGroupHigh are ping_group_range: the groups
	// that may open ICMP datagram sockets ("1 0", nobody, not even root).
	PingGroupLow, PingGroupHigh uint32
	// TCPEarlyDemux is tcp_early_demux: established TCP segments take
	// their socket's cached input route instead of a lookup (on).
	TCPEarlyDemux bool
}

func defaultSysctl() Sysctl {
	return Sysctl{
		DefaultTTL:               64,
		IPFragHighThresh:         4 << 20,
		IPFragTime:               30e9,
		ICMPRateLimit:            1e9,
		ICMPRateMask:             0x1818, // dest unreachable, source quench, time exceeded, parameter problem
		ICMPEchoIgnoreBroadcasts: true,
		LocalPortLow:             32768,
		LocalPortHigh:            60999,
		UnprivilegedPortStart:    1024,
		PingGroupLow:             1,
		PingGroupHigh:            0,
		TCPEarlyDemux:            true,
	}
}

// effective combines the "all" and per-device settings the way Linux's
// IN_DEV_* macros do: some are ORed, rp_filter and arp_ignore take the
// maximum, forwarding is the device's own value.
func effective(all, dev DevConf) DevConf {
	e := dev
	e.RPFilter = max(all.RPFilter, dev.RPFilter)
	e.AcceptLocal = all.AcceptLocal || dev.AcceptLocal
	e.LogMartians = all.LogMartians || dev.LogMartians
	e.SendRedirects = all.SendRedirects || dev.SendRedirects
	e.AcceptSourceRoute = all.AcceptSourceRoute && dev.AcceptSourceRoute
	e.ARPIgnore = max(all.ARPIgnore, dev.ARPIgnore)
	e.ARPAnnounce = max(all.ARPAnnounce, dev.ARPAnnounce)
	e.ARPFilter = all.ARPFilter || dev.ARPFilter
	e.ARPAccept = all.ARPAccept || dev.ARPAccept
	e.ARPNotify = all.ARPNotify || dev.ARPNotify
	e.ProxyARP = all.ProxyARP || dev.ProxyARP
	e.PromoteSecondaries = all.PromoteSecondaries || dev.PromoteSecondaries
	e.IgnoreRoutesWithLinkdown = all.IgnoreRoutesWithLinkdown || dev.IgnoreRoutesWithLinkdown
	return e
}
