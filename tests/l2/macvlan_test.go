package l2

import (
	"fmt"
	"testing"
	"time"

	"github.com/usnet/usnet/drivers/macvlan"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
	"github.com/usnet/usnet/stack"
)

const mvEtherType = 0x88b5 // IEEE local experimental

// mvTopo: namespace a holds the lower eth0 and macvlans mv1, mv2 in one
// mode; namespace b holds the peer on the lower's link, which reflects
// every frame back (a VEPA hairpin switch) when hairpin is set.
type mvTopo struct {
	s           *stack.Stack
	a, b        *stack.Namespace
	lower, peer *netdev.Device
	mv1, mv2    *netdev.Device
	got         map[string][]string // receiving device -> payloads
}

func newMVTopo(t *testing.T, mode uint32, hairpin bool) *mvTopo {
	s, a, b, ea, eb := vlanPair(t, 7)
	m := &mvTopo{s: s, a: a, b: b, lower: ea, peer: eb, got: map[string][]string{}}
	var err error
	if m.mv1, err = macvlan.New(macvlan.Config{Name: "mv1", Lower: ea, Mode: mode}); err != nil {
		t.Fatal(err)
	}
	if m.mv2, err = macvlan.New(macvlan.Config{Name: "mv2", Lower: ea, Mode: mode}); err != nil {
		t.Fatal(err)
	}
	m.mv1.Up()
	m.mv2.Up()
	rec := func(dev *netdev.Device, bt *skb.Batch) {
		for _, p := range bt.Bufs() {
			m.got[dev.Name()] = append(m.got[dev.Name()], string(p.Bytes()))
			p.Free()
		}
		bt.Reset()
	}
	a.Dev.AddProtocol(mvEtherType, rec)
	b.Dev.AddProtocol(mvEtherType, func(dev *netdev.Device, bt *skb.Batch) {
		for _, p := range bt.Bufs() {
			m.got["peer"] = append(m.got["peer"], string(p.Bytes()))
			p.Free()
		}
		bt.Reset()
	})
	if hairpin {
		// A reflective relay: every frame goes back out the port it came
		// in by, and also up to the peer's own stack.
		one := skb.NewBatch(1)
		eb.SetRxHandler(func(d *netdev.Device, fr *skb.Buf) netdev.RxResult {
			c := fr.Clone()
			if !c.Unshare() {
				c.Free()
				return netdev.RxPass
			}
			one.Add(c)
			d.Xmit(one)
			return netdev.RxPass
		})
	}
	s.Sim.RunFor(time.Millisecond)
	return m
}

// send transmits one test frame from dev to dst and lets it settle.
func (m *mvTopo) send(from *netdev.Device, dst [6]byte, payload string) {
	b := m.s.Pool().Get(skb.DefaultHeadroom, 64)
	h := b.Put(14)
	src := from.Addr()
	copy(h[0:6], dst[:])
	copy(h[6:12], src[:])
	h[12], h[13] = mvEtherType>>8, mvEtherType&0xff
	b.Append([]byte(payload))
	bt := skb.NewBatch(1)
	bt.Add(b)
	from.Xmit(bt)
	m.s.Sim.RunFor(time.Millisecond)
}

// reach runs the unicast and broadcast matrix and returns, for each
// "sender>receiver", whether the receiver got a unicast frame, and for
// each "sender>*receiver" whether it got the sender's broadcast.
func (m *mvTopo) reach() map[string]bool {
	devs := map[string]*netdev.Device{"mv1": m.mv1, "mv2": m.mv2, "eth0": m.lower, "peer": m.peer}
	names := []string{"mv1", "mv2", "eth0", "peer"}
	out := map[string]bool{}
	for _, from := range names {
		for _, to := range names {
			if from == to {
				continue
			}
			p := fmt.Sprintf("u %s>%s", from, to)
			m.send(devs[from], devs[to].Addr(), p)
			out[from+">"+to] = m.has(to, p)
		}
		p := "b " + from
		m.send(devs[from], netdev.BroadcastMAC, p)
		for _, to := range names {
			if to != from {
				out[from+">*"+to] = m.has(to, p)
			}
		}
	}
	return out
}

func (m *mvTopo) has(dev, payload string) bool {
	for _, g := range m.got[dev] {
		if g == payload {
			return true
		}
	}
	return false
}

func checkReach(t *testing.T, name string, got map[string]bool, want map[string]bool) {
	t.Helper()
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %s = %v, want %v", name, k, got[k], w)
		}
	}
}

// TestMacvlanModeIsolation checks Linux's delivery rules per mode, with
// and without a hairpin switch on the lower's link.
func TestMacvlanModeIsolation(t *testing.T) {
	// Common to every mode: the peer reaches both macvlans and they reach
	// it; the lower device never reaches its macvlans directly.
	common := map[string]bool{
		"peer>mv1": true, "peer>mv2": true, "mv1>peer": true, "mv2>peer": true,
		"peer>*mv1": true, "peer>*mv2": true, "mv1>*peer": true,
		"peer>eth0": true, "eth0>peer": true,
	}
	noHairpin := map[string]bool{"eth0>mv1": false, "mv1>eth0": false, "eth0>*mv1": false, "mv1>*eth0": false}
	for k, v := range common {
		noHairpin[k] = v
	}
	cases := []struct {
		name    string
		mode    uint32
		hairpin bool
		want    map[string]bool
	}{
		{"bridge", macvlan.ModeBridge, false, map[string]bool{"mv1>mv2": true, "mv2>mv1": true, "mv1>*mv2": true}},
		{"private", macvlan.ModePrivate, false, map[string]bool{"mv1>mv2": false, "mv1>*mv2": false}},
		{"vepa", macvlan.ModeVEPA, false, map[string]bool{"mv1>mv2": false, "mv1>*mv2": false}},
		// With a hairpin switch: vepa reaches its sibling through it,
		// private still never gets the sibling's broadcasts (so ARP
		// never resolves), and the lower reaches its macvlans the long
		// way round.
		{"vepa+hairpin", macvlan.ModeVEPA, true, map[string]bool{"mv1>mv2": true, "mv1>*mv2": true, "eth0>mv1": true, "mv1>eth0": true}},
		{"private+hairpin", macvlan.ModePrivate, true, map[string]bool{"mv1>*mv2": false, "mv2>*mv1": false, "eth0>mv1": true}},
		{"bridge+hairpin", macvlan.ModeBridge, true, map[string]bool{"mv1>mv2": true, "mv1>*mv2": true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := newMVTopo(t, c.mode, c.hairpin)
			got := m.reach()
			if !c.hairpin {
				checkReach(t, c.name, got, noHairpin)
			} else {
				checkReach(t, c.name, got, common)
			}
			checkReach(t, c.name, got, c.want)
			if c.name == "bridge" && len(m.got["mv2"]) == 0 {
				t.Fatal("nothing delivered")
			}
			m.s.Sim.RunFor(time.Second)
			if live := m.s.Pool().Live(); live != 0 {
				t.Fatalf("%d packet buffers still live: a leak", live)
			}
		})
	}
}

// TestMacvlanPingPeer: IP through a bridge-mode macvlan to the peer on the
// lower's link, and the lower's MTU bounding the macvlan's.
func TestMacvlanPingPeer(t *testing.T) {
	s, a, b, ea, eb := vlanPair(t, 3)
	mv, err := macvlan.New(macvlan.Config{Name: "mv0", Lower: ea, Mode: macvlan.ModeBridge})
	if err != nil {
		t.Fatal(err)
	}
	if mv.MTU() != ea.MTU() || mv.Addr() == ea.Addr() {
		t.Fatalf("mtu %d addr %v", mv.MTU(), mv.Addr())
	}
	if err := mv.SetMTU(ea.MTU() + 1); err == nil {
		t.Fatal("MTU above the lower's accepted")
	}
	vlAddr(t, a, mv, "10.0.0.1/24")
	vlAddr(t, b, eb, "10.0.0.9/24")
	s.Sim.RunFor(time.Millisecond)
	if mv.OperState() != netdev.OperUp {
		t.Fatalf("operstate %v", mv.OperState())
	}
	if !vlPing(t, s, a, "10.0.0.9", 1) || !vlPing(t, s, b, "10.0.0.1", 2) {
		t.Fatal("no ping between the macvlan and the peer")
	}
	// A second macvlan with the first one's address cannot come up.
	dup, err := macvlan.New(macvlan.Config{Name: "dup", Lower: ea, Addr: mv.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	if err := dup.Up(); err == nil {
		t.Fatal("duplicate address came up")
	}
	// The lower losing its carrier leaves the macvlan LOWERLAYERDOWN.
	eb.Down()
	s.Sim.RunFor(time.Millisecond)
	if mv.OperState() != netdev.OperLowerLayerDown {
		t.Fatalf("lower without carrier: %v", mv.OperState())
	}
	// Passthru takes the lower device whole.
	if _, err := macvlan.New(macvlan.Config{Name: "pt", Lower: ea, Mode: macvlan.ModePassthru}); err == nil {
		t.Fatal("passthru accepted on a port with macvlans")
	}
	ea.Table().Unregister(ea)
	if a.Dev.ByName("mv0") != nil {
		t.Fatal("macvlan survived its lower")
	}
}
