package ipv4

import (
	"net/netip"

	"golang.org/x/sys/unix"

	"github.com/usnet/usnet/executor"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
)

// FlowKey is what a route lookup is made from (struct flowi4).
type FlowKey struct {
	Dst, Src     netip.Addr
	Oif, Iif     int
	Mark         uint32
	TOS          uint8
	Proto        uint8
	Sport, Dport uint16
}

// Route is the result of a lookup (what a dst_entry/rtable tells IP).
type Route struct {
	Type    uint8          // RTN_UNICAST, RTN_LOCAL, RTN_BROADCAST, RTN_MULTICAST...
	Dev     *netdev.Device // output device (lo for local delivery)
	Gateway netip.Addr     // invalid: the destination is on-link
	Src     netip.Addr     // preferred source
	MTU     int            // route MTU metric or PMTU exception; 0: device MTU
	AdvMSS  int            // route advmss metric, the MSS TCP announces; 0: MTU - 40
	Scope   uint8
}

// NextHop returns the address to resolve for dst on this route.
func (r *Route) NextHop(dst netip.Addr) netip.Addr {
	if r.Gateway.IsValid() {
		return r.Gateway
	}
	return dst
}

// Router is the routing decision, provided by the FIB (see package fib).
// Errors are syscall.Errno values: ENETUNREACH, EHOSTUNREACH, EACCES
// (prohibit), EINVAL (blackhole), EXDEV (rp_filter).
type Router interface {
	RouteOutput(k *FlowKey) (Route, error)
	// RouteInput fills *rt (zero on error) rather than returning the
	// route: it runs per forwarded packet, and a Route is large.
	RouteInput(k *FlowKey, iif *netdev.Device, rt *Route) error
}

// RouteGenner is a Router that tells when its answers may have changed
// (rt_genid): a route looked up under one generation holds while the
// generation stays the same. Routers without it are never cached.
type RouteGenner interface {
	Genid() uint64
}

// Neigh resolves next hops and pushes link-layer headers (package neigh):
// on success b goes into out with its Ethernet header; otherwise the
// neighbour layer keeps b until resolution and sends it itself.
type Neigh interface {
	Output(dev *netdev.Device, nexthop netip.Addr, b *skb.Buf, out *skb.Batch)
}

// ProtoHandler receives locally delivered datagrams of one IP protocol
// (net_protocol.handler). b starts at the transport header, b.L3 marks the
// IP header. It takes ownership of b.
type ProtoHandler interface {
	Receive(b *skb.Buf, src, dst netip.Addr, dev *netdev.Device)
	// Error is told of an ICMP error about a datagram of this protocol
	// that we sent (err_handler): inner is the offending datagram's IP
	// header and at least 8 bytes of its payload.
	Error(typ, code uint8, info uint32, inner []byte)
}

// Layer is the IPv4 state of one namespace.
type Layer struct {
	devs   *netdev.Table
	exec   executor.Executor
	pool   *skb.Pool
	router Router
	neigh  Neigh
	// gen is router's generation, nil when it keeps none.
	gen RouteGenner
	// confGen counts the configuration changes after which Linux
	// flushes the route cache (devinet_conf_proc); see RouteGen.
	confGen uint64

	Sysctl Sysctl
	All    DevConf
	Deflt  DevConf
	conf   map[int]*DevConf
	addrs  map[int][]*IfAddr
	local  map[uint32]int // every local address (addrKey), with its count
	protos []protoEntry   // a handful: a slice beats a 4 KiB array per namespace

	addrNotify []AddrNotifier
	confNotify []ConfNotifier
	routes     RouteHooks
	// lft runs checkLifetimes while an address has a finite lifetime.
	lft *executor.Timer

	// Segment splits GSO super-packets for devices that cannot take them;
	// set by the TCP layer.
	Segment SegmentFunc

	ident uint32
	frags *reassembly
	// key is rcvOne's flow key: a field, so that passing it to the
	// Router does not allocate per packet.
	key FlowKey
	// demux is TCP's early demux (net_protocol.early_demux), nil until
	// the TCP table registers it.
	demux EarlyDemux
	// batchRT is the input route reused within a received batch.
	batchRT batchRoute
	// rxConf is the receiving device's effective configuration while a
	// batch is received.
	rxConf rxConf
	icmp   icmpState
	Stats  Stats

	// pending holds per-device output batches flushed once per executor
	// event (Linux's xmit_more): many segments, one device call.
	pending     map[*netdev.Device]*skb.Batch
	pendingList []*netdev.Device
	// pendingSpare is the other list of flushPending's double buffer.
	pendingSpare []*netdev.Device
	flush        *executor.Timer
}

// RouteHooks are how address changes reach the FIB: the kernel routes an
// address implies (fib_magic) and the silent flushes on address deletion
// and link down.
type RouteHooks interface {
	AddKernelRoute(r KernelRoute) error
	DelKernelRoute(r KernelRoute) error
	FlushDev(ifindex int)
	FlushPrefsrc(src netip.Addr)
}

// KernelRoute is a route the kernel adds for an address (proto kernel).
type KernelRoute struct {
	Table    uint32
	Type     uint8
	Dst      netip.Prefix
	Ifindex  int
	Prefsrc  netip.Addr
	Scope    uint8
	Priority uint32
}

// New creates the IPv4 layer of a namespace and registers it for
// EtherType 0x0800 on its device table. Call on the namespace executor.
func New(devs *netdev.Table, router Router, neigh Neigh, hooks RouteHooks) *Layer {
	n := devs.Net()
	l := &Layer{
		devs: devs, exec: n.Exec(), pool: n.Pool(), router: router, neigh: neigh, routes: hooks,
		Sysctl: defaultSysctl(), All: defaultDevConf(), Deflt: defaultDflt(),
		conf: map[int]*DevConf{}, addrs: map[int][]*IfAddr{}, local: map[uint32]int{},
		pending: map[*netdev.Device]*skb.Batch{},
	}
	l.gen, _ = router.(RouteGenner)
	l.ident = l.exec.Rand().Uint32()
	l.frags = newReassembly(l)
	l.icmp.init(l)
	l.flush = l.exec.NewTimer(l.flushPending)
	devs.AddProtocol(0x0800, l.rcv)
	devs.Subscribe(l.devEvent)
	n.OnExit(l.destroy)
	return l
}

// SetRouter and SetNeigh complete the wiring when the FIB or neighbour
// table is created after the layer.
func (l *Layer) SetRouter(r Router, hooks RouteHooks) {
	l.router, l.routes = r, hooks
	l.gen, _ = r.(RouteGenner)
	l.confGen++
}

// RouteGen returns the namespace's route generation and whether routes
// can be cached at all: a route that RouteOutput (or input routing)
// returned under generation g is still the answer while RouteGen
// returns g (dst_check against rt_genid).
func (l *Layer) RouteGen() (uint64, bool) {
	if l.gen == nil {
		return 0, false
	}
	// Both counters only grow: their sum changes when either does.
	return l.gen.Genid() + l.confGen, true
}

// SetNeigh sets the neighbour resolver.
func (l *Layer) SetNeigh(n Neigh) { l.neigh = n }

// Devices returns the namespace's device table.
func (l *Layer) Devices() *netdev.Table { return l.devs }

// Exec returns the namespace executor.
func (l *Layer) Exec() executor.Executor { return l.exec }

// Pool returns the buffer pool.
func (l *Layer) Pool() *skb.Pool { return l.pool }

// Register installs the handler of an IP protocol (inet_add_protocol).
func (l *Layer) Register(proto uint8, h ProtoHandler) {
	for i := range l.protos {
		if l.protos[i].proto == proto {
			l.protos[i].h = h
			return
		}
	}
	l.protos = append(l.protos, protoEntry{proto, h})
}

// EarlyDemux is a transport protocol's early demux (tcp_v4_early_demux),
// run before the input route lookup: h is the IP header and what
// follows, iif the receiving device, gen the route generation. It
// reports whether an established socket matches the packet and holds a
// valid input route for it (received on iif under generation gen): the
// packet then goes to local delivery without a lookup. It must not
// allocate, keep h or change any state.
type EarlyDemux func(h []byte, iif int, gen uint64) bool

// SetEarlyDemux installs TCP's early demux (net.ipv4.tcp_early_demux
// turns it on and off).
func (l *Layer) SetEarlyDemux(fn EarlyDemux) { l.demux = fn }

type protoEntry struct {
	proto uint8
	h     ProtoHandler
}

// handler returns the protocol's handler, or nil.
func (l *Layer) handler(proto uint8) ProtoHandler {
	for i := range l.protos {
		if l.protos[i].proto == proto {
			return l.protos[i].h
		}
	}
	return nil
}

// Conf returns the configuration of a device (created with the defaults on
// first use) for reading and writing.
func (l *Layer) Conf(ifindex int) *DevConf {
	// The caller may write through the pointer: the receive path's
	// snapshot must not outlive that.
	l.rxConf.valid = false
	l.confGen++ // as conservative for cached routes
	return l.conf1(ifindex)
}

// conf1 is Conf without dropping the receive path's snapshot.
func (l *Layer) conf1(ifindex int) *DevConf {
	c := l.conf[ifindex]
	if c == nil {
		d := l.Deflt
		c = &d
		l.conf[ifindex] = c
	}
	return c
}

// Effective returns a device's configuration combined with "all".
func (l *Layer) Effective(ifindex int) DevConf {
	if c := &l.rxConf; c.valid && c.ifindex == ifindex {
		return c.c
	}
	return effective(l.All, *l.conf1(ifindex))
}

// Forwarding reports whether forwarding is on for a device.
func (l *Layer) Forwarding(ifindex int) bool {
	if c := &l.rxConf; c.valid && c.ifindex == ifindex {
		return c.c.Forwarding
	}
	return l.conf1(ifindex).Forwarding
}

// SetForwarding sets net.ipv4.ip_forward (= conf.all.forwarding), which, as
// in Linux, also sets default and every device (SetConf).
func (l *Layer) SetForwarding(on bool) {
	l.SetConf(ConfAll, ConfForwarding, b2i(on))
}

func (l *Layer) devEvent(ev netdev.Event, d *netdev.Device) {
	switch ev {
	case netdev.EventRegister:
		// inetdev_init: the device copies "default" now, not when
		// first used.
		l.conf1(d.Ifindex())
	case netdev.EventUp:
		if d.Flags()&netdev.FlagLoopback != 0 {
			// ipv4_devconf_setall: once up, loopback's settings
			// count as written and no longer follow "default".
			l.conf1(d.Ifindex()).written = ^uint64(0)
		}
		if d.Flags()&netdev.FlagLoopback != 0 && len(l.addrs[d.Ifindex()]) == 0 {
			// inetdev_event: loopback gets 127.0.0.1/8 when it first
			// comes up without an address.
			lo := netip.AddrFrom4([4]byte{127, 0, 0, 1})
			l.AddAddr(IfAddr{Dev: d, Local: lo, Prefix: netip.PrefixFrom(lo, 8), Scope: unix.RT_SCOPE_HOST})
			return
		}
		for _, a := range l.addrs[d.Ifindex()] {
			l.addKernelRoutes(a)
		}
	case netdev.EventDown:
		if l.routes != nil {
			l.routes.FlushDev(d.Ifindex())
		}
		l.dropPending(d)
	case netdev.EventUnregister:
		for len(l.addrs[d.Ifindex()]) > 0 {
			l.removeAddr(d, l.addrs[d.Ifindex()][0], false)
		}
		delete(l.addrs, d.Ifindex())
		delete(l.conf, d.Ifindex())
		l.dropPending(d)
	}
}

func (l *Layer) dropPending(d *netdev.Device) {
	if bt := l.pending[d]; bt != nil {
		bt.Free()
	}
}

func (l *Layer) destroy() {
	l.flush.Stop()
	if l.lft != nil {
		l.lft.Stop()
	}
	for _, bt := range l.pending {
		bt.Free()
	}
	l.frags.destroy()
}
