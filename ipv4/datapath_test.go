package ipv4_test

import (
	"encoding/binary"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/usnet/usnet/drivers/veth"
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
	"github.com/usnet/usnet/stack"
)

// fakeRouter routes local addresses to lo and everything else by a static
// table of prefixes; it stands in for the FIB in these unit tests.
type fakeRouter struct {
	l      *ipv4.Layer
	lo     *netdev.Device
	routes []fakeRoute
	inputs int // RouteInput calls
}

type fakeRoute struct {
	p   netip.Prefix
	dev *netdev.Device
	gw  netip.Addr
	mtu int
}

func (r *fakeRouter) RouteOutput(k *ipv4.FlowKey) (ipv4.Route, error) {
	if r.l.IsLocal(k.Dst) {
		return ipv4.Route{Type: unix.RTN_LOCAL, Dev: r.lo, Src: k.Dst, Scope: unix.RT_SCOPE_HOST}, nil
	}
	for _, rt := range r.routes {
		if rt.p.Contains(k.Dst) {
			return ipv4.Route{Type: unix.RTN_UNICAST, Dev: rt.dev, Gateway: rt.gw, MTU: rt.mtu}, nil
		}
	}
	return ipv4.Route{}, syscall.ENETUNREACH
}

func (r *fakeRouter) RouteInput(k *ipv4.FlowKey, iif *netdev.Device, rt *ipv4.Route) error {
	r.inputs++
	*rt = ipv4.Route{}
	if r.l.IsLocal(k.Dst) {
		*rt = ipv4.Route{Type: unix.RTN_LOCAL, Dev: r.lo}
		return nil
	}
	if !r.l.Forwarding(iif.Ifindex()) {
		return syscall.EHOSTUNREACH
	}
	var err error
	*rt, err = r.RouteOutput(k)
	return err
}

// fakeNeigh knows every neighbour's MAC up front (no ARP).
type fakeNeigh struct{ macs map[netip.Addr][6]byte }

func (n *fakeNeigh) Output(dev *netdev.Device, nh netip.Addr, b *skb.Buf, out *skb.Batch) {
	mac, ok := n.macs[nh]
	if dev.Flags()&netdev.FlagLoopback != 0 {
		mac, ok = [6]byte{}, true
	}
	if !ok {
		b.Free()
		return
	}
	h := b.Push(14)
	src := dev.Addr()
	copy(h[0:6], mac[:])
	copy(h[6:12], src[:])
	h[12], h[13] = 0x08, 0x00
	out.Add(b)
}

type host struct {
	ns *stack.Namespace
	ip *ipv4.Layer
	rt *fakeRouter
}

// chain builds h1 —veth— r —veth— h2 with static routes; r forwards.
// Link r–h2 has MTU mtu2.
func chain(t *testing.T, mtu2 int) (s *stack.Stack, h1, r, h2 *host) {
	s, _ = stack.NewSim(7)
	neigh := &fakeNeigh{macs: map[netip.Addr][6]byte{}}
	mk := func(name string) *host {
		ns, _ := s.Add(name)
		h := &host{ns: ns}
		h.rt = &fakeRouter{lo: ns.Lo}
		h.ip = ipv4.New(ns.Dev, h.rt, neigh, nil)
		h.rt.l = h.ip
		ns.Lo.Up()
		return h
	}
	h1, r, h2 = mk("h1"), mk("r"), mk("h2")
	a1, r0, _ := veth.Create(veth.End{Table: h1.ns.Dev, Name: "eth0"}, veth.End{Table: r.ns.Dev, Name: "eth0"})
	r1, a2, _ := veth.Create(veth.End{Table: r.ns.Dev, Name: "eth1", MTU: mtu2}, veth.End{Table: h2.ns.Dev, Name: "eth0", MTU: mtu2})
	addr := func(h *host, d *netdev.Device, cidr string) netip.Addr {
		p := netip.MustParsePrefix(cidr)
		if _, err := h.ip.AddAddr(ipv4.IfAddr{Dev: d, Local: p.Addr(), Prefix: p}); err != nil {
			t.Fatal(err)
		}
		neigh.macs[p.Addr()] = d.Addr()
		d.Up()
		return p.Addr()
	}
	addr(h1, a1, "10.0.1.2/24")
	rA := addr(r, r0, "10.0.1.1/24")
	rB := addr(r, r1, "10.0.2.1/24")
	addr(h2, a2, "10.0.2.2/24")
	h1.rt.routes = []fakeRoute{{p: netip.MustParsePrefix("0.0.0.0/0"), dev: a1, gw: rA}}
	h2.rt.routes = []fakeRoute{{p: netip.MustParsePrefix("0.0.0.0/0"), dev: a2, gw: rB}}
	r.rt.routes = []fakeRoute{
		{p: netip.MustParsePrefix("10.0.1.0/24"), dev: r0},
		{p: netip.MustParsePrefix("10.0.2.0/24"), dev: r1},
	}
	r.ip.SetForwarding(true)
	s.Sim.RunFor(time.Millisecond)
	return s, h1, r, h2
}

// udpSink records UDP payloads delivered to a layer.
type udpSink struct {
	got  [][]byte
	errs []uint8
}

func (u *udpSink) Receive(b *skb.Buf, src, dst netip.Addr, dev *netdev.Device) {
	u.got = append(u.got, append([]byte(nil), b.Bytes()[8:]...))
	b.Free()
}
func (u *udpSink) Error(typ, code uint8, info uint32, inner []byte) {
	u.errs = append(u.errs, typ<<4|code)
}

func sendUDP(t *testing.T, h *host, dst string, payload []byte, ttl uint8, df bool) error {
	d := netip.MustParseAddr(dst)
	rt, err := h.ip.RouteOutput(&ipv4.FlowKey{Dst: d, Proto: 17})
	if err != nil {
		return err
	}
	b := h.ip.Pool().Get(skb.DefaultHeadroom, 8+len(payload))
	u := b.Put(8)
	binary.BigEndian.PutUint16(u[0:], 1000)
	binary.BigEndian.PutUint16(u[2:], 2000)
	binary.BigEndian.PutUint16(u[4:], uint16(8+len(payload)))
	b.Append(payload)
	binary.BigEndian.PutUint16(u[6:], ipv4.TransportChecksum(rt.Src, d, 17, b.Bytes()))
	return h.ip.Output(b, rt.Src, d, 17, &rt, ipv4.SendOpts{TTL: ttl, DF: df})
}

func TestForwardThroughRouter(t *testing.T) {
	s, h1, r, h2 := chain(t, 1500)
	sink := &udpSink{}
	h2.ip.Register(17, sink)
	if err := sendUDP(t, h1, "10.0.2.2", []byte("hello"), 0, true); err != nil {
		t.Fatal(err)
	}
	s.Sim.RunFor(time.Millisecond)
	if len(sink.got) != 1 || string(sink.got[0]) != "hello" {
		t.Fatalf("h2 got %q", sink.got)
	}
	if r.ip.Stats.ForwDatagrams != 1 {
		t.Fatalf("router forwarded %d", r.ip.Stats.ForwDatagrams)
	}
}

func TestTTLExpiry(t *testing.T) {
	s, h1, r, h2 := chain(t, 1500)
	sink, src := &udpSink{}, &udpSink{}
	h2.ip.Register(17, sink)
	h1.ip.Register(17, src)
	sendUDP(t, h1, "10.0.2.2", []byte("x"), 1, false)
	s.Sim.RunFor(time.Millisecond)
	if len(sink.got) != 0 {
		t.Fatal("TTL 1 datagram was forwarded")
	}
	if r.ip.Stats.IcmpOutTimeExcds != 1 || len(src.errs) != 1 || src.errs[0] != 11<<4 {
		t.Fatalf("time exceeded: sent %d, sender saw %v", r.ip.Stats.IcmpOutTimeExcds, src.errs)
	}
}

func TestFragmentationAndPMTU(t *testing.T) {
	s, h1, r, h2 := chain(t, 1000)
	sink, src := &udpSink{}, &udpSink{}
	h2.ip.Register(17, sink)
	h1.ip.Register(17, src)
	big := make([]byte, 3000)
	for i := range big {
		big[i] = byte(i * 7)
	}
	// Without DF the router fragments for the 1000-byte link.
	sendUDP(t, h1, "10.0.2.2", big, 0, false)
	s.Sim.RunFor(time.Millisecond)
	if len(sink.got) != 1 || string(sink.got[0]) != string(big) {
		t.Fatalf("reassembled %d datagrams", len(sink.got))
	}
	if r.ip.Stats.FragCreates != 4 || h2.ip.Stats.ReasmOKs != 1 {
		t.Fatalf("frag creates %d reasm oks %d", r.ip.Stats.FragCreates, h2.ip.Stats.ReasmOKs)
	}
	// With DF the router answers frag-needed with the next-hop MTU.
	var pmtu []int
	h1.ip.SetPMTU(pmtuFunc(func(d netip.Addr, mtu int) { pmtu = append(pmtu, mtu) }))
	sendUDP(t, h1, "10.0.2.2", big[:1400], 0, true)
	s.Sim.RunFor(time.Millisecond)
	if len(pmtu) != 1 || pmtu[0] != 1000 || len(src.errs) != 1 || src.errs[0] != 3<<4|4 {
		t.Fatalf("pmtu %v errs %v", pmtu, src.errs)
	}
	if len(sink.got) != 1 {
		t.Fatal("DF datagram over the MTU was delivered")
	}
}

type pmtuFunc func(netip.Addr, int)

func (f pmtuFunc) UpdatePMTU(d netip.Addr, mtu int, _ time.Duration) { f(d, mtu) }

// frag builds a raw IPv4 fragment from h1 to h2 (proto 17).
func frag(id uint16, off int, mf bool, payload []byte) []byte {
	p := make([]byte, 20+len(payload))
	fo := uint16(off / 8)
	if mf {
		fo |= 0x2000
	}
	p[0] = 0x45
	binary.BigEndian.PutUint16(p[2:], uint16(len(p)))
	binary.BigEndian.PutUint16(p[4:], id)
	binary.BigEndian.PutUint16(p[6:], fo)
	p[8], p[9] = 64, 17
	copy(p[12:], []byte{10, 0, 1, 2})
	copy(p[16:], []byte{10, 0, 2, 2})
	binary.BigEndian.PutUint16(p[10:], ipv4.Checksum(p[:20]))
	copy(p[20:], payload)
	return p
}

// inject delivers raw IP packets to h2's eth0 as if received.
func inject(s *stack.Stack, h *host, pkts ...[]byte) {
	d := h.ns.Dev.ByName("eth0")
	bt := skb.NewBatch(len(pkts))
	for _, p := range pkts {
		b := s.Pool().Get(skb.DefaultHeadroom, 14+len(p))
		e := b.Put(14)
		mac := d.Addr()
		copy(e[0:6], mac[:])
		e[12], e[13] = 8, 0
		b.Append(p)
		bt.Add(b)
	}
	d.Receive(bt)
	s.Sim.RunFor(time.Millisecond)
}

func udpPayload(n int) []byte {
	u := make([]byte, 8+n)
	binary.BigEndian.PutUint16(u[4:], uint16(8+n))
	for i := 8; i < len(u); i++ {
		u[i] = byte(i)
	}
	return u
}

func TestReassemblyEdgeCases(t *testing.T) {
	s, _, _, h2 := chain(t, 1500)
	sink := &udpSink{}
	h2.ip.Register(17, sink)
	u := udpPayload(40) // 48 bytes: fragments of 16
	// Out of order and duplicated: delivered once.
	inject(s, h2, frag(1, 32, false, u[32:]), frag(1, 0, true, u[:16]), frag(1, 0, true, u[:16]), frag(1, 16, true, u[16:32]))
	if len(sink.got) != 1 {
		t.Fatalf("in-order set: %d delivered", len(sink.got))
	}
	// Overlap: the whole datagram is discarded (Linux since 4.19).
	fails := h2.ip.Stats.ReasmFails
	inject(s, h2, frag(2, 0, true, u[:24]), frag(2, 16, true, u[16:32]), frag(2, 32, false, u[32:]))
	if len(sink.got) != 1 || h2.ip.Stats.ReasmFails != fails+1 {
		t.Fatalf("overlap: delivered %d, fails %d", len(sink.got), h2.ip.Stats.ReasmFails-fails)
	}
	// Missing fragment: times out after ipfrag_time with ICMP time exceeded.
	inject(s, h2, frag(3, 0, true, u[:16]), frag(3, 32, false, u[32:]))
	// Pending: datagram 3, and a fresh queue for datagram 2 that its last
	// fragment opened after the overlap killed the first one (as Linux).
	if q, _ := h2.ip.FragsPending(); q != 2 {
		t.Fatalf("pending queues %d", q)
	}
	s.Sim.RunFor(31 * time.Second)
	if q, mem := h2.ip.FragsPending(); q != 0 || mem != 0 || h2.ip.Stats.ReasmTimeout != 2 {
		t.Fatalf("after timeout: queues %d mem %d timeouts %d", q, mem, h2.ip.Stats.ReasmTimeout)
	}
	// Only the queue holding a first fragment sends time exceeded.
	if h2.ip.Stats.IcmpOutTimeExcds != 1 {
		t.Fatalf("reassembly timeout ICMP: %d", h2.ip.Stats.IcmpOutTimeExcds)
	}
	if live := s.Pool().Live(); live != 0 {
		t.Fatalf("%d buffers leaked", live)
	}
}

func TestMalformedHeadersCounted(t *testing.T) {
	s, _, _, h2 := chain(t, 1500)
	good := frag(9, 0, false, udpPayload(4))
	badSum := append([]byte(nil), good...)
	badSum[10] ^= 0xff
	short := good[:12]
	badLen := append([]byte(nil), good...)
	binary.BigEndian.PutUint16(badLen[2:], 4000)
	badLen[10], badLen[11] = 0, 0
	binary.BigEndian.PutUint16(badLen[10:], ipv4.Checksum(badLen[:20]))
	badVer := append([]byte(nil), good...)
	badVer[0] = 0x65
	inject(s, h2, badSum, short, badLen, badVer)
	st := h2.ip.Stats
	if st.InHdrErrors != 3 || st.InTruncatedPkts != 1 || st.InDelivers != 0 {
		t.Fatalf("stats %+v", st)
	}
	if live := s.Pool().Live(); live != 0 {
		t.Fatalf("%d buffers leaked", live)
	}
}
