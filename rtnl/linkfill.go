package rtnl

import (
	"encoding/binary"

	"github.com/usnet/usnet/addrconf"

	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netns"
	"golang.org/x/sys/unix"
)

// IFLA_* attributes newer than x/sys/unix names.
const (
	iflaMaxPacingOffloadHorizon = 66
	iflaNetnsImmutable          = 67
	iflaHeadroom                = 68
	iflaTailroom                = 69
	iflaStats                   = 7
)

// linkState overrides what a link message reports, for notifications
// sent before the device reaches the state they describe (the kernel
// reports a closing device as down before NETDEV_DOWN runs).
type linkState struct {
	down    bool // report the device as administratively down
	dellink bool // RTM_DELLINK: no per-family data
	// A device leaving for another namespace: IFLA_NEW_NETNSID (the
	// new namespace's nsid here) and IFLA_NEW_IFINDEX (0: not known).
	moved      bool
	newNetnsid int32
	newIfindex int32
	// report: the message answers the request being handled (the
	// device it created or deleted), so NLM_F_ECHO applies to it.
	report bool
}

// ifFlags is dev_get_flags: RUNNING and LOWER_UP only while up, and
// RUNNING exactly while the operational state is UP or UNKNOWN
// (netif_oper_up), not from the carrier: a DORMANT device with carrier
// is not RUNNING, and a device whose carrier went in this request is
// RUNNING without LOWER_UP until linkwatch recomputes its state.
func ifFlags(d *netdev.Device, ls linkState) uint32 {
	f := uint32(d.Flags()) &^ uint32(netdev.FlagRunning)
	if ls.down || !d.IsUp() {
		return f &^ uint32(netdev.FlagUp|netdev.FlagLowerUp|netdev.FlagDormant)
	}
	if o := d.OperState(); o == netdev.OperUp || o == netdev.OperUnknown {
		f |= uint32(netdev.FlagRunning)
	}
	return f
}

// fillLink appends the payload of an ifinfomsg message for d in the
// attribute order of rtnl_fill_ifinfo as Linux 6.18 sends it. It runs on
// d's executor.
func fillLink(e *netlink.AttributeEncoder, l4 *ipv4.Layer, d *netdev.Device, change uint32, ls linkState) {
	var ifi [unix.SizeofIfInfomsg]byte
	ne := binary.NativeEndian
	ne.PutUint16(ifi[2:], d.Type())
	ne.PutUint32(ifi[4:], uint32(d.Ifindex()))
	ne.PutUint32(ifi[8:], ifFlags(d, ls))
	ne.PutUint32(ifi[12:], change)
	e.Append(ifi[:])

	oper := uint8(d.OperState())
	if ls.down {
		oper = uint8(netdev.OperDown)
	}
	loop := d.Flags()&netdev.FlagLoopback != 0
	e.String(unix.IFLA_IFNAME, d.Name())
	e.Uint32(unix.IFLA_TXQLEN, uint32(d.TxQueueLen()))
	e.Uint8(unix.IFLA_OPERSTATE, oper)
	e.Uint8(unix.IFLA_LINKMODE, d.LinkMode())
	e.Uint8(iflaNetnsImmutable, b2u8(loop))
	e.Uint32(unix.IFLA_MTU, uint32(d.MTU()))
	e.Uint32(unix.IFLA_MIN_MTU, uint32(d.MinMTU()))
	maxMTU := uint32(d.MaxMTU())
	if maxMTU >= 1<<31-1 {
		maxMTU = 0 // unbounded (loopback), which the kernel reports as 0
	}
	e.Uint32(unix.IFLA_MAX_MTU, maxMTU)
	e.Uint32(unix.IFLA_GROUP, d.Group())
	e.Uint32(unix.IFLA_PROMISCUITY, uint32(d.Promiscuity()))
	e.Uint32(unix.IFLA_ALLMULTI, 0)
	e.Uint32(unix.IFLA_NUM_TX_QUEUES, uint32(d.NumTxQueues()))
	f := d.Features()
	gsoSegs, gsoSize := uint32(f.GSOMaxSegs), uint32(f.GSOMaxSize)
	if gsoSegs == 0 {
		gsoSegs = 65535
	}
	if gsoSize == 0 {
		gsoSize = 65536
	}
	e.Uint32(unix.IFLA_GSO_MAX_SEGS, gsoSegs)
	e.Uint32(unix.IFLA_GSO_MAX_SIZE, gsoSize)
	e.Uint32(unix.IFLA_GRO_MAX_SIZE, 65536)
	e.Uint32(unix.IFLA_GSO_IPV4_MAX_SIZE, gsoSize)
	e.Uint32(unix.IFLA_GRO_IPV4_MAX_SIZE, 65536)
	e.Uint32(unix.IFLA_TSO_MAX_SIZE, 524280)
	e.Uint32(unix.IFLA_TSO_MAX_SEGS, 65535)
	e.Uint32(iflaMaxPacingOffloadHorizon, 0)
	e.Uint32(unix.IFLA_NUM_RX_QUEUES, uint32(d.NumRxQueues()))
	if m := d.Master(); m != nil {
		e.Uint32(unix.IFLA_MASTER, uint32(m.Ifindex()))
	}
	e.Uint8(unix.IFLA_CARRIER, b2u8(d.Carrier()))
	ch := d.CarrierChanges()
	up, down := ch/2, ch/2
	if ch%2 == 1 {
		if d.Carrier() {
			up++
		} else {
			down++
		}
	}
	e.Uint32(unix.IFLA_CARRIER_CHANGES, ch)
	e.Uint32(unix.IFLA_CARRIER_UP_COUNT, up)
	e.Uint32(unix.IFLA_CARRIER_DOWN_COUNT, down)
	e.Uint16(iflaHeadroom, 0)
	e.Uint16(iflaTailroom, 0)
	e.Uint8(unix.IFLA_PROTO_DOWN, 0)
	a, b := d.Addr(), d.Broadcast()
	e.PutBytes(unix.IFLA_ADDRESS, a[:])
	e.PutBytes(unix.IFLA_BROADCAST, b[:])
	fillStats(e, &d.Stats)
	x := e.BeginNest(unix.IFLA_XDP)
	e.Uint8(unix.IFLA_XDP_ATTACHED, 0)
	e.EndNest(x)
	fillLinkInfo(e, d)
	link, lnet := d.Link()
	n, otherNet := lnet.(*netns.Net)
	if otherNet = otherNet && n != nil; otherNet {
		e.Int32(unix.IFLA_LINK_NETNSID, d.Table().Net().PeerIDAlloc(n)) // rtnl_fill_link_netnsid
	}
	// nla_put_iflink: forced with a link-netnsid, where equal ifindexes
	// in two namespaces mean nothing.
	if otherNet || link != d.Ifindex() && (link != 0 || d.Kind() == "veth") {
		e.Uint32(unix.IFLA_LINK, uint32(link))
	}
	if ls.moved {
		e.Int32(unix.IFLA_NEW_NETNSID, ls.newNetnsid)
		if ls.newIfindex != 0 {
			e.Int32(unix.IFLA_NEW_IFINDEX, ls.newIfindex)
		}
	}
	q := "noop"
	if d.Qdisc() != nil {
		q = d.Qdisc().Kind()
	} else if d.Activated() {
		q = "noqueue" // attached at the first open, kept while down
	}
	if ls.dellink {
		q = "noop"
	}
	e.String(unix.IFLA_QDISC, q)
	if a := d.Alias(); a != "" {
		e.String(unix.IFLA_IFALIAS, a) // nla_put_ifalias
	}
	af := e.BeginNest(unix.IFLA_AF_SPEC)
	if !ls.dellink && l4 != nil {
		in := e.BeginNest(unix.AF_INET)
		fillInetConf(e, l4.Effective(d.Ifindex()), loop)
		e.EndNest(in)
	}
	if !ls.dellink {
		in6 := e.BeginNest(unix.AF_INET6)
		fillInet6(e, d)
		e.EndNest(in6)
	}
	e.EndNest(af)
	var ifmap [32]byte
	e.PutBytes(unix.IFLA_MAP, ifmap[:])
	e.Flag(unix.IFLA_DEVLINK_PORT)
	e.Flag(unix.IFLA_DPLL_PIN)
}

// fillInet6 is inet6_fill_ifla6_attrs for a device whose IPv6 is
// disabled (usnet has no IPv6 layer, package addrconf): the flags (none:
// no router advertisement seen) and the address generation mode, which
// is what iproute2 and network daemons read. Linux also sends the
// devconf array, cache info, statistics and the token; usnet has no
// IPv6 state to fill them from and leaves them out.
func fillInet6(e *netlink.AttributeEncoder, d *netdev.Device) {
	e.Uint32(unix.IFLA_INET6_FLAGS, 0)
	e.Uint8(unix.IFLA_INET6_ADDR_GEN_MODE, uint8(addrconf.For(d.Table()).AddrGenMode(d)))
}

func b2u8(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

func b2u32(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

func fillStats(e *netlink.AttributeEncoder, s *netdev.Stats64) {
	v := [...]uint64{s.RxPackets, s.TxPackets, s.RxBytes, s.TxBytes, s.RxErrors, s.TxErrors,
		s.RxDropped, s.TxDropped, s.Multicast, s.Collisions, s.RxLengthErrors, s.RxOverErrors,
		s.RxCRCErrors, s.RxFrameErrors, s.RxFIFOErrors, s.RxMissedErrors, s.TxAbortedErrors,
		s.TxCarrierErrors, s.TxFIFOErrors, s.TxHeartbeatErrors, s.TxWindowErrors,
		s.RxCompressed, s.TxCompressed, s.RxNoHandler, s.RxOtherhostDropped}
	var b64 [25 * 8]byte
	var b32 [24 * 4]byte
	for i, x := range v {
		binary.NativeEndian.PutUint64(b64[8*i:], x)
		if i < 24 {
			binary.NativeEndian.PutUint32(b32[4*i:], uint32(x))
		}
	}
	e.PutBytes(unix.IFLA_STATS64, b64[:])
	e.PutBytes(iflaStats, b32[:])
}

// fillInetConf appends IFLA_INET_CONF: the IPV4_DEVCONF_* array (index
// i-1 holds setting i), with usnet's settings over a fresh namespace's
// defaults for the rest.
func fillInetConf(e *netlink.AttributeEncoder, c ipv4.DevConf, loop bool) {
	var v [33]uint32
	v[0] = b2u32(c.Forwarding)
	v[2] = b2u32(c.ProxyARP)
	v[3] = b2u32(c.AcceptRedirects)
	v[4] = 1 // secure_redirects
	v[5] = b2u32(c.SendRedirects)
	v[6] = 1 // shared_media
	v[7] = uint32(c.RPFilter)
	v[8] = b2u32(c.AcceptSourceRoute)
	v[10] = b2u32(c.LogMartians)
	v[12] = b2u32(c.ARPFilter)
	if loop {
		v[14], v[15] = 1, 1 // noxfrm, nopolicy
	}
	v[17] = uint32(c.ARPAnnounce)
	v[18] = uint32(c.ARPIgnore)
	v[19] = b2u32(c.PromoteSecondaries)
	v[20] = b2u32(c.ARPAccept)
	v[21] = b2u32(c.ARPNotify)
	v[22] = b2u32(c.AcceptLocal)
	v[26] = 10000 // igmpv2_unsolicited_report_interval
	v[27] = 1000  // igmpv3_unsolicited_report_interval
	v[28] = b2u32(c.IgnoreRoutesWithLinkdown)
	v[32] = 1 // arp_evict_nocarrier
	var b [33 * 4]byte
	for i, x := range v {
		binary.NativeEndian.PutUint32(b[4*i:], x)
	}
	e.PutBytes(unix.IFLA_INET_CONF, b[:])
}
