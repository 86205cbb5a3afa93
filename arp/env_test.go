package arp_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/usnet/usnet/arp"
	"github.com/usnet/usnet/drivers/veth"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
	"github.com/usnet/usnet/stack"
)

// fakeAddrs is a namespace's IPv4 addresses with connected routes only.
type fakeAddrs struct {
	devs  *netdev.Table
	addrs map[*netdev.Device][]netip.Prefix
	conf  map[*netdev.Device]arp.Conf
}

func newFake(devs *netdev.Table) *fakeAddrs {
	return &fakeAddrs{devs: devs, addrs: map[*netdev.Device][]netip.Prefix{}, conf: map[*netdev.Device]arp.Conf{}}
}

func (f *fakeAddrs) add(d *netdev.Device, p string) {
	f.addrs[d] = append(f.addrs[d], netip.MustParsePrefix(p))
}

func bcast(p netip.Prefix) netip.Addr {
	v := p.Masked().Addr().As4()
	for i := p.Bits(); i < 32; i++ {
		v[i/8] |= 0x80 >> (i % 8)
	}
	return netip.AddrFrom4(v)
}

func (f *fakeAddrs) AddrType(dev *netdev.Device, ip netip.Addr) uint8 {
	switch {
	case ip.IsMulticast():
		return arp.RTNMulticast
	case ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return arp.RTNBroadcast
	}
	for _, d := range f.devs.Devices() {
		for _, p := range f.addrs[d] {
			if p.Addr() == ip {
				return arp.RTNLocal
			}
			if d == dev && bcast(p) == ip {
				return arp.RTNBroadcast
			}
		}
	}
	return arp.RTNUnicast
}

func (f *fakeAddrs) SelectSource(dev *netdev.Device, dst netip.Addr, scope uint8) (netip.Addr, bool) {
	for _, p := range f.addrs[dev] {
		if p.Masked().Contains(dst) {
			return p.Addr(), true
		}
	}
	if l := f.addrs[dev]; len(l) > 0 {
		return l[0].Addr(), true
	}
	return netip.Addr{}, false
}

func (f *fakeAddrs) ConfirmAddr(dev *netdev.Device, dst, local netip.Addr, scope uint8) bool {
	devs := []*netdev.Device{dev}
	if dev == nil {
		devs = f.devs.Devices()
	}
	for _, d := range devs {
		for _, p := range f.addrs[d] {
			if (!local.IsValid() || p.Addr() == local) && (!dst.IsValid() || p.Masked().Contains(dst)) {
				return true
			}
		}
	}
	return false
}

func (f *fakeAddrs) OnLink(dev *netdev.Device, a, b netip.Addr) bool {
	for _, p := range f.addrs[dev] {
		if p.Masked().Contains(a) && p.Masked().Contains(b) {
			return true
		}
	}
	return false
}

func (f *fakeAddrs) DevAddrs(dev *netdev.Device) []netip.Prefix { return f.addrs[dev] }

// route is a longest-prefix match over the connected routes.
func (f *fakeAddrs) route(dst netip.Addr) (*netdev.Device, bool) {
	var best *netdev.Device
	bits := -1
	for _, d := range f.devs.Devices() {
		for _, p := range f.addrs[d] {
			if p.Masked().Contains(dst) && p.Bits() > bits {
				best, bits = d, p.Bits()
			}
		}
	}
	return best, best != nil
}

func (f *fakeAddrs) RouteInput(dev *netdev.Device, dst, src netip.Addr) (uint8, *netdev.Device, bool) {
	if f.AddrType(dev, dst) == arp.RTNLocal {
		return arp.RTNLocal, f.devs.ByIndex(1), true
	}
	d, ok := f.route(dst)
	return arp.RTNUnicast, d, ok
}

func (f *fakeAddrs) RouteOutput(dst, src netip.Addr) (*netdev.Device, bool) { return f.route(dst) }

func (f *fakeAddrs) Conf(dev *netdev.Device) arp.Conf { return f.conf[dev] }

// host is one namespace with ARP.
type host struct {
	ns    *stack.Namespace
	addrs *fakeAddrs
	arp   *arp.ARP
	eth   *netdev.Device
	rx    []*skb.Buf // IPv4 packets received, copies kept until the test ends
	seen  []frame    // ARP frames seen when capturing
}

type frame struct {
	dst, src        [6]byte
	op              uint16
	sha, tha        [6]byte
	sip, tip        netip.Addr
	rawLen, ethType int
}

type world struct {
	s *stack.Stack
	h map[string]*host
}

func newWorld(t testing.TB, names ...string) *world {
	t.Helper()
	s, err := stack.NewSim(7)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{s: s, h: map[string]*host{}}
	for _, n := range names {
		ns, err := s.Add(n)
		if err != nil {
			t.Fatal(err)
		}
		h := &host{ns: ns, addrs: newFake(ns.Dev)}
		h.arp = arp.New(ns.Dev, h.addrs)
		ns.IPv4.SetNeigh(h.arp.Neigh())
		w.h[n] = h
	}
	return w
}

// link connects a and b with a veth pair named ethA (in a) and ethB (in
// b), MACs 02:00:00:00:00:xx.
func (w *world) link(t testing.TB, a, ethA string, macA byte, b, ethB string, macB byte) (*netdev.Device, *netdev.Device) {
	t.Helper()
	da, db, err := veth.Create(veth.End{Table: w.h[a].ns.Dev, Name: ethA, Addr: [6]byte{2, 0, 0, 0, 0, macA}},
		veth.End{Table: w.h[b].ns.Dev, Name: ethB, Addr: [6]byte{2, 0, 0, 0, 0, macB}})
	if err != nil {
		t.Fatal(err)
	}
	if w.h[a].eth == nil {
		w.h[a].eth = da
	}
	if w.h[b].eth == nil {
		w.h[b].eth = db
	}
	return da, db
}

func (w *world) up(devs ...*netdev.Device) {
	for _, d := range devs {
		d.Up()
	}
	w.run(time.Millisecond)
}

func (w *world) run(d time.Duration) { w.s.Sim.RunFor(d) }

// capture replaces h's ARP handler with a recorder, and its IPv4 one.
func (h *host) capture() {
	h.ns.Dev.AddProtocol(arp.EtherTypeARP, func(dev *netdev.Device, bt *skb.Batch) {
		for _, b := range bt.Bufs() {
			h.seen = append(h.seen, decode(b.From(b.L2)))
			b.Free()
		}
		bt.Reset()
	})
}

func (h *host) captureIPv4() {
	h.ns.Dev.AddProtocol(0x0800, func(dev *netdev.Device, bt *skb.Batch) {
		for _, b := range bt.Bufs() {
			h.rx = append(h.rx, b)
		}
		bt.Reset()
	})
}

func decode(p []byte) frame {
	f := frame{rawLen: len(p)}
	if len(p) < 42 {
		return f
	}
	copy(f.dst[:], p[0:6])
	copy(f.src[:], p[6:12])
	f.ethType = int(p[12])<<8 | int(p[13])
	a := p[14:]
	f.op = uint16(a[6])<<8 | uint16(a[7])
	copy(f.sha[:], a[8:14])
	f.sip = netip.AddrFrom4([4]byte(a[14:18]))
	copy(f.tha[:], a[18:24])
	f.tip = netip.AddrFrom4([4]byte(a[24:28]))
	return f
}

// arpFrame builds an Ethernet ARP frame.
func arpFrame(pool *skb.Pool, dst, src [6]byte, op uint16, sha [6]byte, sip string, tha [6]byte, tip string) *skb.Buf {
	b := pool.Get(skb.DefaultHeadroom, 42)
	p := b.Put(42)
	copy(p[0:6], dst[:])
	copy(p[6:12], src[:])
	p[12], p[13] = 0x08, 0x06
	a := p[14:]
	a[0], a[1], a[2], a[3], a[4], a[5] = 0, 1, 8, 0, 6, 4
	a[6], a[7] = byte(op>>8), byte(op)
	copy(a[8:14], sha[:])
	s := netip.MustParseAddr(sip).As4()
	copy(a[14:18], s[:])
	copy(a[18:24], tha[:])
	d := netip.MustParseAddr(tip).As4()
	copy(a[24:28], d[:])
	return b
}

// inject delivers raw frames to dev as if received.
func inject(dev *netdev.Device, bufs ...*skb.Buf) {
	bt := skb.NewBatch(len(bufs))
	for _, b := range bufs {
		bt.Add(b)
	}
	dev.Receive(bt)
}

// ipPacket is a minimal IPv4 header from src to dst with id.
func ipPacket(pool *skb.Pool, src, dst string, id byte) *skb.Buf {
	b := pool.Get(skb.DefaultHeadroom, 20)
	p := b.Put(20)
	clear(p)
	p[0] = 0x45
	p[3] = 20
	p[5] = id
	p[8] = 64
	s, d := netip.MustParseAddr(src).As4(), netip.MustParseAddr(dst).As4()
	copy(p[12:16], s[:])
	copy(p[16:20], d[:])
	return b
}

// send resolves nexthop on dev for a packet from src, as the IPv4 layer.
func (h *host) send(dev *netdev.Device, src, nexthop string, id byte) {
	out := skb.NewBatch(1)
	h.arp.Neigh().Output(dev, netip.MustParseAddr(nexthop), ipPacket(h.ns.Net.Pool(), src, nexthop, id), out)
	if out.Len() > 0 {
		dev.Xmit(out)
	}
}

var bcastMAC = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

func mac(x byte) [6]byte { return [6]byte{2, 0, 0, 0, 0, x} }
