package vxlan

import (
	"errors"
	"math/rand/v2"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/usnet/usnet/drivers/veth"
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/stack"
)

// pair is two namespaces on one veth link (10.0.0.1, 10.0.0.2) with a
// vxlan device each (VNI 42, port 4789) carrying 192.168.0.1/.2.
type pair struct {
	s      *stack.Stack
	a, b   *stack.Namespace
	va, vb *Dev
}

func newPair(t testing.TB, learning bool) *pair {
	t.Helper()
	s, _ := stack.NewSim(5)
	a, _ := s.Add("a")
	b, _ := s.Add("b")
	_, _, err := veth.Create(veth.End{Table: a.Dev, Name: "eth0"}, veth.End{Table: b.Dev, Name: "eth0"})
	if err != nil {
		t.Fatal(err)
	}
	p := &pair{s: s, a: a, b: b}
	mk := func(ns *stack.Namespace, under, inner, remote string) *Dev {
		var v *Dev
		ns.Exec().Do(func() {
			eth := ns.Dev.ByName("eth0")
			eth.Up()
			ns.Lo.Up()
			up := netip.MustParsePrefix(under)
			if _, err = ns.IPv4.AddAddr(ipv4.IfAddr{Dev: eth, Local: up.Addr(), Prefix: up}); err != nil {
				return
			}
			vn := Attach(ns.Dev, ns.IPv4, ns.UDP)
			v, err = New(vn, "vx0", Config{VNI: 42, Port: IANAPort, Remote: netip.MustParseAddr(remote), Lower: eth, Learning: learning})
			if err != nil {
				return
			}
			v.dev.Up()
			ip := netip.MustParsePrefix(inner)
			_, err = ns.IPv4.AddAddr(ipv4.IfAddr{Dev: v.dev, Local: ip.Addr(), Prefix: ip})
		})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	p.va = mk(a, "10.0.0.1/24", "192.168.0.1/24", "10.0.0.2")
	p.vb = mk(b, "10.0.0.2/24", "192.168.0.2/24", "10.0.0.1")
	s.Sim.RunFor(time.Millisecond)
	return p
}

func (p *pair) ping(t testing.TB, seq uint16) bool {
	t.Helper()
	sk, err := p.a.Ping.NewSock(0)
	if err != nil {
		t.Fatal(err)
	}
	defer sk.Close()
	if err := sk.SendEcho(netip.MustParseAddr("192.168.0.2"), seq, make([]byte, 56), 0); err != nil {
		t.Fatal(err)
	}
	got := false
	end := p.s.Sim.Now() + time.Second
	p.s.Sim.RunWhile(func() bool {
		r, _, ok := sk.Recv()
		if ok && r.Buf != nil {
			r.Buf.Free()
		}
		got = ok
		return !ok && p.s.Sim.Now() < end
	})
	return got
}

func TestPingAndNoLeak(t *testing.T) {
	p := newPair(t, true)
	for i := uint16(1); i <= 5; i++ {
		if !p.ping(t, i) {
			t.Fatalf("ping %d", i)
		}
	}
	p.s.Sim.RunFor(time.Second)
	if n := p.va.FDBLen(); n != 2 {
		t.Fatalf("a's FDB: %+v", p.va.FDBDump())
	}
	p.s.Delete("a")
	p.s.Delete("b")
	if live := p.s.Pool().Live(); live != 0 {
		t.Fatalf("%d buffers leaked", live)
	}
}

// inject hands payload to b's tunnel socket as if it arrived from
// 10.0.0.1:sport.
func (p *pair) inject(payload []byte) {
	vn := p.vb.vn
	b := p.s.Pool().GetData(payload)
	vn.rcv(vn.socks[IANAPort], b, netip.MustParseAddrPort("10.0.0.1:5555"), netip.MustParseAddrPort("10.0.0.2:4789"), p.b.Dev.ByName("eth0"))
}

func hdr(flags uint32, vni uint32) []byte {
	h := make([]byte, 8, 8+60)
	h[0], h[1], h[2], h[3] = byte(flags>>24), byte(flags>>16), byte(flags>>8), byte(flags)
	w := vni << 8
	h[4], h[5], h[6], h[7] = byte(w>>24), byte(w>>16), byte(w>>8), byte(w)
	return h
}

func TestReceiveChecks(t *testing.T) {
	p := newPair(t, true)
	frame := make([]byte, 60)
	copy(frame[0:6], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	copy(frame[6:12], []byte{2, 9, 9, 9, 9, 9})
	frame[12], frame[13] = 0x88, 0xb5
	p.b.Exec().Do(func() {
		p.inject(append(hdr(flagI, 43), frame...))      // unknown VNI
		p.inject(append(hdr(flagI|1, 42), frame...))    // reserved flag bit
		p.inject(append(hdr(0, 42), frame...))          // no I flag
		p.inject(hdr(flagI, 42))                        // no inner frame
		p.inject(append(hdr(flagI, 42), frame[:10]...)) // short inner frame
	})
	if p.vb.Stats.RxBadHeader != 2 || p.vb.FDBLen() != 1 {
		t.Fatalf("stats %+v fdb %d", p.vb.Stats, p.vb.FDBLen())
	}
	// Our own MAC coming back is a loop.
	loop := append([]byte(nil), frame...)
	mac := p.vb.dev.Addr()
	copy(loop[6:12], mac[:])
	p.b.Exec().Do(func() { p.inject(append(hdr(flagI, 42), loop...)) })
	if p.vb.Stats.RxLoop != 1 {
		t.Fatalf("loop not detected: %+v", p.vb.Stats)
	}
	// A good one is learned and delivered.
	p.b.Exec().Do(func() { p.inject(append(hdr(flagI, 42), frame...)) })
	p.s.Sim.RunFor(time.Millisecond)
	if r := p.vb.FDBLookup([6]byte(frame[6:12])); len(r) != 1 || r[0].IP != netip.MustParseAddr("10.0.0.1") {
		t.Fatalf("not learned: %+v", r)
	}
	if p.vb.dev.Stats.RxPackets != 1 {
		t.Fatalf("rx %d", p.vb.dev.Stats.RxPackets)
	}
	// Random garbage never panics and never leaks.
	r := rand.New(rand.NewPCG(1, 2))
	p.b.Exec().Do(func() {
		for range 2000 {
			b := make([]byte, r.IntN(120))
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			if len(b) >= 8 && r.IntN(2) == 0 {
				copy(b, hdr(flagI, 42))
			}
			p.inject(b)
		}
	})
	p.s.Sim.RunFor(time.Second)
	p.s.Delete("a")
	p.s.Delete("b")
	if live := p.s.Pool().Live(); live != 0 {
		t.Fatalf("%d buffers leaked", live)
	}
}

func TestLearningBounded(t *testing.T) {
	p := newPair(t, true)
	p.vb.cfg.Limit = 10
	p.vb.fdb.limit = p.vb.limit()
	frame := make([]byte, 60)
	frame[12], frame[13] = 0x88, 0xb5
	p.b.Exec().Do(func() {
		for i := range 100 {
			frame[6], frame[10], frame[11] = 2, byte(i>>8), byte(i)
			p.inject(append(hdr(flagI, 42), frame...))
		}
	})
	if n := p.vb.FDBLen(); n != 10 {
		t.Fatalf("FDB grew to %d entries, limit 10", n)
	}
}

func TestSourcePortRange(t *testing.T) {
	p := newPair(t, true)
	p.va.cfg.PortMin, p.va.cfg.PortMax = 1000, 1010
	frame := make([]byte, 14+20+8)
	frame[12], frame[13] = 0x08, 0x00
	frame[14] = 0x45
	frame[23] = 17
	seen := map[uint16]bool{}
	for i := range 500 {
		frame[26+3] = byte(i) // source address
		frame[34] = byte(i >> 3)
		sp := p.va.srcPort(frame)
		if sp < 1000 || sp >= 1010 {
			t.Fatalf("source port %d outside 1000..1010", sp)
		}
		seen[sp] = true
		if p.va.srcPort(frame) != sp {
			t.Fatal("one flow, two ports")
		}
	}
	if len(seen) < 8 {
		t.Fatalf("only %d ports used", len(seen))
	}
	p.va.cfg.PortMin, p.va.cfg.PortMax = 0, 0
	lo, hi := p.a.IPv4.Sysctl.LocalPortLow, p.a.IPv4.Sysctl.LocalPortHigh
	if sp := p.va.srcPort(frame); sp < lo || sp > hi {
		t.Fatalf("default range: %d not in %d..%d", sp, lo, hi)
	}
}

func TestPortInUseAndDuplicateVNI(t *testing.T) {
	s, _ := stack.NewSim(1)
	ns, _ := s.Add("x")
	ns.Exec().Do(func() {
		vn := Attach(ns.Dev, ns.IPv4, ns.UDP)
		app := ns.UDP.NewSock()
		if err := app.Bind(netip.MustParseAddrPort("0.0.0.0:4789")); err != nil {
			t.Fatal(err)
		}
		v, err := New(vn, "vx0", Config{VNI: 1, Port: IANAPort})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := New(vn, "vx1", Config{VNI: 1, Port: IANAPort}); !errors.Is(err, syscall.EEXIST) {
			t.Fatalf("duplicate VNI: %v", err)
		}
		if err := v.dev.Up(); !errors.Is(err, syscall.EADDRINUSE) {
			t.Fatalf("up with the port taken: %v", err)
		}
		app.Close()
		if err := v.dev.Up(); err != nil {
			t.Fatal(err)
		}
		// A second device on the same port shares the socket.
		v2, _ := New(vn, "vx2", Config{VNI: 2, Port: IANAPort})
		if err := v2.dev.Up(); err != nil || len(vn.socks) != 1 || vn.socks[IANAPort].refs != 2 {
			t.Fatalf("shared socket: %v %+v", err, vn.socks)
		}
		v.dev.Down()
		v2.dev.Down()
		if len(vn.socks) != 0 {
			t.Fatal("socket not released")
		}
		if _, err := New(vn, "vx3", Config{VNI: MaxVNI + 1}); err == nil {
			t.Fatal("VNI 2^24 accepted")
		}
		if d, _ := New(vn, "vx4", Config{VNI: 4}); d.cfg.Port != DefaultPort || d.cfg.Ageing != DefaultAgeing || d.dev.MTU() != 1500 {
			t.Fatalf("defaults %+v mtu %d", d.cfg, d.dev.MTU())
		}
	})
}

// BenchmarkEncapDecap pings through the tunnel: per iteration one echo
// request and reply, each encapsulated and decapsulated once.
func BenchmarkEncapDecap(b *testing.B) {
	p := newPair(b, true)
	sk, _ := p.a.Ping.NewSock(0)
	dst := netip.MustParseAddr("192.168.0.2")
	payload := make([]byte, 56)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		sk.SendEcho(dst, uint16(i), payload, 0)
		p.s.Sim.RunWhile(func() bool {
			r, _, ok := sk.Recv()
			if ok && r.Buf != nil {
				r.Buf.Free()
			}
			return !ok
		})
	}
}
