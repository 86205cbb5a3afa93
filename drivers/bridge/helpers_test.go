package bridge_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/usnet/usnet/drivers/bridge"
	"github.com/usnet/usnet/drivers/veth"
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/ping"
	"github.com/usnet/usnet/stack"
)

// lan is a bridge in namespace "sw" with one host namespace per port,
// each joined by a veth pair (hN:eth0 — sw:pN).
type lan struct {
	s     *stack.Stack
	sw    *stack.Namespace
	br    *bridge.Bridge
	ports []*netdev.Device
	hosts []*stack.Namespace
	eths  []*netdev.Device
}

func hostAddr(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, 0, 0, byte(i + 1)}) }

var brAddr = netip.MustParseAddr("10.0.0.254")

func newLAN(t testing.TB, n int, stp bool) *lan {
	t.Helper()
	s, err := stack.NewSim(1)
	if err != nil {
		t.Fatal(err)
	}
	l := &lan{s: s}
	l.sw, _ = s.Add("sw")
	l.sw.Exec().Do(func() {
		l.br, err = bridge.New(l.sw.Dev, "br0")
		if err == nil {
			l.br.SetSTP(stp)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		h, err := s.Add("h" + string(rune('1'+i)))
		if err != nil {
			t.Fatal(err)
		}
		eth, p, err := veth.Create(veth.End{Table: h.Dev, Name: "eth0"}, veth.End{Table: l.sw.Dev, Name: "p%d"})
		if err != nil {
			t.Fatal(err)
		}
		ip := hostAddr(i)
		h.Exec().Do(func() {
			eth.Up()
			_, err = h.IPv4.AddAddr(ipv4.IfAddr{Dev: eth, Local: ip, Prefix: netip.PrefixFrom(ip, 24)})
		})
		if err != nil {
			t.Fatal(err)
		}
		l.sw.Exec().Do(func() {
			err = l.br.AddPort(p)
			p.Up()
		})
		if err != nil {
			t.Fatal(err)
		}
		l.hosts = append(l.hosts, h)
		l.eths = append(l.eths, eth)
		l.ports = append(l.ports, p)
	}
	l.sw.Exec().Do(func() {
		l.br.Device().Up()
		_, err = l.sw.IPv4.AddAddr(ipv4.IfAddr{Dev: l.br.Device(), Local: brAddr, Prefix: netip.PrefixFrom(brAddr, 24)})
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Sim.RunFor(10 * time.Millisecond)
	return l
}

// ping sends one echo from ns to dst and runs the simulation until the
// reply or the timeout.
func ping1(t testing.TB, s *stack.Stack, ns *stack.Namespace, dst netip.Addr, seq uint16, timeout time.Duration) bool {
	t.Helper()
	var sock *ping.Sock
	var err error
	ns.Exec().Do(func() { sock, err = ns.Ping.NewSock(0) })
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Exec().Do(func() { sock.Close() })
	ns.Exec().Do(func() { err = sock.SendEcho(dst, seq, make([]byte, 56), 0) })
	if err != nil {
		return false
	}
	got := false
	end := s.Sim.Now() + timeout
	s.Sim.RunWhile(func() bool {
		ns.Exec().Do(func() {
			var r ping.Reply
			var ok bool
			r, err, ok = sock.Recv()
			if ok && err == nil {
				got = true
				r.Buf.Free()
			}
		})
		return !got && s.Sim.Now() < end
	})
	return got
}
