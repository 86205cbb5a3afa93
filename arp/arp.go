package arp

import (
	"encoding/binary"
	"net/netip"

	"github.com/usnet/usnet/neigh"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
)

// EtherTypeARP is ETH_P_ARP.
const EtherTypeARP = 0x0806

// etherTypeIPv4 is ETH_P_IP.
const etherTypeIPv4 = 0x0800

// Route types (RTN_*) and scopes (RT_SCOPE_*) of include/uapi/linux/rtnetlink.h.
const (
	RTNUnspec    uint8 = 0
	RTNUnicast   uint8 = 1
	RTNLocal     uint8 = 2
	RTNBroadcast uint8 = 3
	RTNAnycast   uint8 = 4
	RTNMulticast uint8 = 5

	ScopeUniverse uint8 = 0
	ScopeLink     uint8 = 253
	ScopeHost     uint8 = 254
)

// ARP opcodes and hardware types.
const (
	opRequest   = 1
	opReply     = 2
	hrdEther    = 1 // ARPHRD_ETHER
	hrdIEEE802  = 6 // ARPHRD_IEEE802
	arpLen      = 28
	ethHdrLen   = 14
	frameLength = ethHdrLen + arpLen
)

// Conf is a device's effective ARP configuration: the "all" and device
// values of net.ipv4.conf combined as Linux's IN_DEV_* macros do
// (arp_ignore, arp_announce, arp_accept: the maximum; the booleans: OR,
// except forwarding, the device's own).
type Conf struct {
	Ignore         int  // arp_ignore: 0..3, 8
	Announce       int  // arp_announce: 0..2
	Accept         int  // arp_accept: 0..2
	Filter         bool // arp_filter
	Notify         bool // arp_notify
	ProxyARP       bool // proxy_arp
	Forwarding     bool // forwarding (proxy_arp needs it)
	DropGratuitous bool // drop_gratuitous_arp
}

// Addrs is what ARP needs to know of the namespace's IPv4 state. The
// methods are the Linux functions arp.c calls.
type Addrs interface {
	// AddrType is inet_addr_type_dev_table: the route type (RTN_LOCAL,
	// RTN_UNICAST, RTN_BROADCAST, RTN_MULTICAST...) of ip as seen from
	// dev's routing table.
	AddrType(dev *netdev.Device, ip netip.Addr) uint8
	// SelectSource is inet_select_addr: a primary address of dev of at
	// most scope, preferably in dst's subnet; ok false when there is none.
	SelectSource(dev *netdev.Device, dst netip.Addr, scope uint8) (netip.Addr, bool)
	// ConfirmAddr is inet_confirm_addr: whether an address local (any
	// when invalid) of scope at most scope exists on dev (any device when
	// dev is nil) in a subnet that also holds dst (when dst is valid).
	ConfirmAddr(dev *netdev.Device, dst, local netip.Addr, scope uint8) bool
	// OnLink is inet_addr_onlink: whether a and b share a subnet of one
	// of dev's addresses.
	OnLink(dev *netdev.Device, a, b netip.Addr) bool
	// DevAddrs returns dev's addresses (for gratuitous ARP).
	DevAddrs(dev *netdev.Device) []netip.Prefix
	// RouteInput is ip_route_input for a packet dst <- src arriving on
	// dev: the route type and output device; ok false when there is no
	// route.
	RouteInput(dev *netdev.Device, dst, src netip.Addr) (typ uint8, out *netdev.Device, ok bool)
	// RouteOutput is ip_route_output: the device a packet from src to
	// dst would leave by; ok false when there is no route.
	RouteOutput(dst, src netip.Addr) (out *netdev.Device, ok bool)
	// Conf returns dev's effective configuration.
	Conf(dev *netdev.Device) Conf
}

// Stats count what the handler did (Linux has only ARPFILTER; the rest
// are the drop reasons of arp_rcv and arp_process, kept apart).
type Stats struct {
	InFrames       uint64 // frames given to the handler
	InMalformed    uint64 // too short, bad lengths, types or opcode
	InOwnSender    uint64 // our own request or reply reflected back (our MAC and address)
	InBadSender    uint64 // multicast or broadcast sender hardware address
	InBadTarget    uint64 // request for a multicast or loopback target
	InIgnored      uint64 // NOARP device or gratuitous dropped by conf
	ARPFilter      uint64 // LINUX_MIB_ARPFILTER
	RequestsIn     uint64
	RepliesIn      uint64
	RequestsOut    uint64
	RepliesOut     uint64
	ProxyReplies   uint64
	GratuitousOut  uint64
	TxAllocFailure uint64
}

// ARP is the ARP state of one namespace.
type ARP struct {
	devs  *netdev.Table
	pool  *skb.Pool
	addrs Addrs
	tbl   *neigh.Table
	out   *skb.Batch
	// pendingNotify: devices that came up without carrier; their
	// arp_notify announcement goes out once they run.
	pendingNotify map[int]bool
	// Unreachable, if set, is given each packet dropped because its
	// next hop did not resolve (arp_error_report: the IPv4 layer sends
	// ICMP host unreachable). It takes ownership of b.
	Unreachable func(dev *netdev.Device, b *skb.Buf)
	Stats       Stats
}

// New creates the ARP layer and the IPv4 neighbour table of the namespace
// of devs and registers the 0x0806 handler. Call on the namespace
// executor.
func New(devs *netdev.Table, addrs Addrs) *ARP {
	a := &ARP{devs: devs, pool: devs.Pool(), addrs: addrs, out: skb.NewBatch(4), pendingNotify: map[int]bool{}}
	a.tbl = neigh.NewTable(devs, a)
	devs.AddProtocol(EtherTypeARP, a.rcv)
	devs.Subscribe(a.devEvent)
	return a
}

// Neigh returns the neighbour table (the ipv4.Neigh of the namespace).
func (a *ARP) Neigh() *neigh.Table { return a.tbl }

// EtherType is IPv4's: the table resolves next hops of IPv4 packets.
func (a *ARP) EtherType() uint16 { return etherTypeIPv4 }

// Construct is arp_constructor: multicast next hops map to their
// 01:00:5e MAC, NOARP and loopback devices use their own address, and
// broadcast next hops and point-to-point devices the broadcast address,
// all as NOARP entries; the rest start unresolved.
func (a *ARP) Construct(t *neigh.Table, e *neigh.Entry) {
	dev := e.Dev
	typ := a.addrs.AddrType(dev, e.Addr)
	switch {
	case typ == RTNMulticast:
		a.setNoARP(e, mcastMAC(e.Addr))
	case dev.Flags()&(netdev.FlagNoARP|netdev.FlagLoopback) != 0:
		a.setNoARP(e, dev.Addr())
	case typ == RTNBroadcast || dev.Flags()&netdev.FlagPointToPt != 0:
		a.setNoARP(e, dev.Broadcast())
	}
}

func (a *ARP) setNoARP(e *neigh.Entry, mac [6]byte) {
	e.State = neigh.StateNoARP
	e.LLAddr = mac
}

// mcastMAC is ip_eth_mc_map.
func mcastMAC(ip netip.Addr) [6]byte {
	v := as4(ip)
	return [6]byte{0x01, 0x00, 0x5e, v[1] & 0x7f, v[2], v[3]}
}

// ErrorReport is arp_error_report.
func (a *ARP) ErrorReport(t *neigh.Table, e *neigh.Entry, b *skb.Buf) {
	if a.Unreachable != nil {
		a.Unreachable(e.Dev, b)
		return
	}
	b.Free()
}

// Solicit is arp_solicit: choose the source by arp_announce and send a
// request, unicast to the cached address when probing.
func (a *ARP) Solicit(t *neigh.Table, e *neigh.Entry, unicast bool, queued *skb.Buf) {
	dev := e.Dev
	var src netip.Addr
	if queued != nil {
		if qs, ok := ipv4Source(queued); ok {
			switch a.addrs.Conf(dev).Announce {
			case 0: // any local address
				if a.addrs.AddrType(dev, qs) == RTNLocal {
					src = qs
				}
			case 1: // only one in the target's subnet
				if a.addrs.AddrType(dev, qs) == RTNLocal && a.addrs.OnLink(dev, e.Addr, qs) {
					src = qs
				}
			}
		}
		queued.Free()
	}
	if !src.IsValid() {
		s, ok := a.addrs.SelectSource(dev, e.Addr, ScopeLink)
		if ok {
			src = s
		} else {
			src = netip.IPv4Unspecified()
		}
	}
	var dst *[6]byte
	if unicast {
		ll := e.LLAddr
		dst = &ll
	}
	if a.send(opRequest, dev, e.Addr, src, dst, nil) {
		a.Stats.RequestsOut++
	}
}

// ipv4Source returns the source address of an IPv4 packet (b starts at
// the IP header).
func ipv4Source(b *skb.Buf) (netip.Addr, bool) {
	p := b.Bytes()
	if len(p) < 20 || p[0]>>4 != 4 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4([4]byte(p[12:16])), true
}

// send is arp_send_dst/arp_create: an Ethernet/IPv4 ARP frame to destHW
// (broadcast when nil), target hardware targetHW (zero when nil), from
// dev's address. It reports whether the frame went to the device.
func (a *ARP) send(op uint16, dev *netdev.Device, destIP, srcIP netip.Addr, destHW, targetHW *[6]byte) bool {
	if dev.Flags()&netdev.FlagNoARP != 0 || !destIP.Unmap().Is4() || !srcIP.Unmap().Is4() {
		return false
	}
	b := a.pool.Get(skb.DefaultHeadroom, frameLength)
	if b == nil {
		a.Stats.TxAllocFailure++
		return false
	}
	f := b.Put(frameLength)
	dst := dev.Broadcast()
	if destHW != nil {
		dst = *destHW
	}
	own := dev.Addr()
	copy(f[0:6], dst[:])
	copy(f[6:12], own[:])
	binary.BigEndian.PutUint16(f[12:14], EtherTypeARP)
	p := f[ethHdrLen:]
	binary.BigEndian.PutUint16(p[0:2], hrdEther)
	binary.BigEndian.PutUint16(p[2:4], etherTypeIPv4)
	p[4], p[5] = 6, 4
	binary.BigEndian.PutUint16(p[6:8], op)
	copy(p[8:14], own[:])
	s4 := as4(srcIP)
	copy(p[14:18], s4[:])
	var tha [6]byte
	if targetHW != nil {
		tha = *targetHW
	}
	copy(p[18:24], tha[:])
	d4 := as4(destIP)
	copy(p[24:28], d4[:])
	b.SetL2()
	b.Protocol = EtherTypeARP
	bt := a.out
	if bt.Len() != 0 { // re-entered from inside a transmit
		bt = skb.NewBatch(1)
	}
	bt.Add(b)
	dev.Xmit(bt)
	return true
}

// as4 returns the IPv4 bytes of ip (IPv4-mapped accepted), zero otherwise.
func as4(ip netip.Addr) [4]byte {
	if ip = ip.Unmap(); ip.Is4() {
		return ip.As4()
	}
	return [4]byte{}
}
