package bridge_test

import (
	"testing"
	"time"

	"github.com/usnet/usnet/drivers/bridge"
	"github.com/usnet/usnet/netdev"
)

func TestForwardLearnAndAge(t *testing.T) {
	l := newLAN(t, 3, false)
	br := l.br
	if br.Device().OperState() != netdev.OperUp {
		t.Fatalf("bridge oper %v, want UP once ports forward", br.Device().OperState())
	}
	for i, p := range br.Ports() {
		if p.State() != bridge.StateForwarding {
			t.Fatalf("port %d state %s, want forwarding with STP off", i, bridge.StateName(p.State()))
		}
	}
	// Bridge MAC is the lowest port MAC.
	low := l.ports[0].Addr()
	for _, p := range l.ports {
		if a := p.Addr(); string(a[:]) < string(low[:]) {
			low = a
		}
	}
	if br.Device().Addr() != low {
		t.Fatalf("bridge MAC %s, want lowest port MAC %s", netdev.FormatMAC(br.Device().Addr()), netdev.FormatMAC(low))
	}
	if !ping1(t, l.s, l.hosts[0], hostAddr(1), 1, time.Second) {
		t.Fatal("h1 → h2 ping through the bridge failed")
	}
	// Both hosts' MACs are learned on their ports.
	for i := 0; i < 2; i++ {
		e, ok := br.Lookup(l.eths[i].Addr(), 0)
		if !ok || e.Port != l.ports[i] || e.Local || e.Static {
			t.Fatalf("FDB entry for h%d: %+v %v", i+1, e, ok)
		}
	}
	// After the ping the reply was unicast to h1's port: h3 saw only
	// the ARP broadcast.
	before := l.eths[2].Stats.RxPackets
	if !ping1(t, l.s, l.hosts[0], hostAddr(1), 2, time.Second) {
		t.Fatal("second ping failed")
	}
	if got := l.eths[2].Stats.RxPackets; got != before {
		t.Fatalf("h3 received %d frames of a known-unicast exchange", got-before)
	}
	// The bridge is an L3 interface.
	if !ping1(t, l.s, l.hosts[2], brAddr, 3, time.Second) {
		t.Fatal("ping to the bridge's own address failed")
	}
	// Ageing: 300 s by default.
	l.s.Sim.RunFor(200 * time.Second)
	if _, ok := br.Lookup(l.eths[0].Addr(), 0); !ok {
		t.Fatal("entry aged out before ageing_time")
	}
	l.s.Sim.RunFor(150 * time.Second)
	if _, ok := br.Lookup(l.eths[0].Addr(), 0); ok {
		t.Fatal("entry still there after ageing_time")
	}
	if n := br.Learned(); n != 0 {
		t.Fatalf("%d learned entries left", n)
	}
	// Local entries stay.
	if e, ok := br.Lookup(l.ports[0].Addr(), 0); !ok || !e.Local {
		t.Fatalf("local entry of p0: %+v %v", e, ok)
	}
}

func TestFloodFlagsAndHairpin(t *testing.T) {
	l := newLAN(t, 3, false)
	br := l.br
	// Learn h1 and h2.
	if !ping1(t, l.s, l.hosts[0], hostAddr(1), 1, time.Second) {
		t.Fatal("ping failed")
	}
	var p3 *bridge.Port
	l.sw.Exec().Do(func() {
		p3 = br.Port(l.ports[2])
		p3.SetFlags(0, bridge.FlagBcastFlood)
	})
	// h1 pings an unknown address: the ARP broadcasts must not reach h3.
	before := l.eths[2].Stats.RxPackets
	ping1(t, l.s, l.hosts[0], hostAddr(7), 2, 4*time.Second)
	if got := l.eths[2].Stats.RxPackets - before; got != 0 {
		t.Fatalf("h3 got %d broadcast frames with bcast_flood off", got)
	}
	// No reflection to the ingress port: h1's port saw none of its own
	// broadcasts come back.
	if n := l.eths[0].Stats.RxPackets; n > 10 {
		t.Fatalf("h1 received %d frames", n)
	}
	if !p3.Has(bridge.FlagFlood) || p3.Has(bridge.FlagBcastFlood) {
		t.Fatal("flags")
	}
}

func TestFDBBoundAndStatic(t *testing.T) {
	l := newLAN(t, 2, false)
	br := l.br
	var err error
	l.sw.Exec().Do(func() {
		br.SetMaxLearned(1)
		err = br.FDBAdd([6]byte{2, 0, 0, 0, 0, 9}, 0, l.ports[1], false, true, true, false)
	})
	if err != nil {
		t.Fatal(err)
	}
	if !ping1(t, l.s, l.hosts[0], hostAddr(1), 1, time.Second) {
		t.Fatal("ping failed")
	}
	if br.Learned() != 1 || br.Stats.LearnDrops == 0 {
		t.Fatalf("learned %d, drops %d: want the bound at 1", br.Learned(), br.Stats.LearnDrops)
	}
	l.s.Sim.RunFor(400 * time.Second)
	if e, ok := br.Lookup([6]byte{2, 0, 0, 0, 0, 9}, 0); !ok || !e.Static || e.Port != l.ports[1] {
		t.Fatalf("static entry after ageing: %+v %v", e, ok)
	}
}

func TestPortRemoval(t *testing.T) {
	l := newLAN(t, 2, false)
	var err error
	l.sw.Exec().Do(func() { err = l.br.DelPort(l.ports[1]) })
	if err != nil {
		t.Fatal(err)
	}
	if l.ports[1].Master() != nil || l.ports[1].Promiscuity() != 0 {
		t.Fatal("released port still enslaved")
	}
	if ping1(t, l.s, l.hosts[0], hostAddr(1), 1, 4*time.Second) {
		t.Fatal("ping through a removed port")
	}
	// Unregistering a port releases it.
	l.sw.Exec().Do(func() { l.sw.Dev.Unregister(l.ports[0]) })
	if len(l.br.Ports()) != 0 {
		t.Fatalf("%d ports left", len(l.br.Ports()))
	}
	if l.br.Device().Carrier() {
		t.Fatal("bridge without ports has carrier")
	}
}
