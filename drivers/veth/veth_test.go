package veth_test

import (
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/usnet/usnet/drivers/veth"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
	"github.com/usnet/usnet/stack"
)

const etherTest = 0x88b5 // IEEE local experimental EtherType

func pair(t testing.TB, s *stack.Stack) (*stack.Namespace, *stack.Namespace, *netdev.Device, *netdev.Device) {
	t.Helper()
	a, err := s.Add("a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Add("b")
	if err != nil {
		t.Fatal(err)
	}
	da, db, err := veth.Create(veth.End{Table: a.Dev, Name: "eth0"}, veth.End{Table: b.Dev, Name: "eth0"})
	if err != nil {
		t.Fatal(err)
	}
	return a, b, da, db
}

func frame(pool *skb.Pool, dst, src [6]byte, payload string) *skb.Buf {
	b := pool.Get(skb.DefaultHeadroom, 14+len(payload))
	h := b.Put(14)
	copy(h[0:6], dst[:])
	copy(h[6:12], src[:])
	h[12], h[13] = etherTest>>8, etherTest&0xff
	b.Append([]byte(payload))
	return b
}

func TestCarrierFollowsPeer(t *testing.T) {
	s, _ := stack.NewSim(1)
	_, _, da, db := pair(t, s)
	if da.Ifindex() != 2 || db.Ifindex() != 2 {
		t.Fatalf("ifindex %d %d, want 2 2 (lo is 1 in each namespace)", da.Ifindex(), db.Ifindex())
	}
	if l, n := da.Link(); l != db.Ifindex() || n == nil {
		t.Fatalf("IFLA_LINK of a = %d %v", l, n)
	}
	if err := da.Up(); err != nil {
		t.Fatal(err)
	}
	s.Sim.RunFor(time.Millisecond)
	// Both ends have ifindex 2 in their own namespaces: Linux 6.18 looks
	// the peer up by index in the device's own namespace, finds itself and
	// reports DOWN (checked with ip link on this machine's kernel).
	if da.OperState() != netdev.OperDown || da.Carrier() {
		t.Fatalf("one end up: oper %v carrier %v, want DOWN false", da.OperState(), da.Carrier())
	}
	db.Up()
	s.Sim.RunFor(time.Millisecond)
	for _, d := range []*netdev.Device{da, db} {
		if d.OperState() != netdev.OperUp || d.Flags()&(netdev.FlagRunning|netdev.FlagLowerUp) != netdev.FlagRunning|netdev.FlagLowerUp {
			t.Fatalf("%s: oper %v flags %#x", d.Name(), d.OperState(), d.Flags())
		}
	}
	db.Down()
	s.Sim.RunFor(time.Millisecond)
	if da.OperState() != netdev.OperDown || db.OperState() != netdev.OperDown || da.Carrier() {
		t.Fatalf("peer down: a %v b %v", da.OperState(), db.OperState())
	}
	if da.CarrierChanges() != 2 {
		t.Fatalf("carrier changes %d, want 2", da.CarrierChanges())
	}
}

// TestOperStateSameNamespace: a pair inside one namespace has distinct
// ifindexes, and an up end whose peer is down is LOWERLAYERDOWN, as
// `ip link` shows on the kernel.
func TestOperStateSameNamespace(t *testing.T) {
	s, _ := stack.NewSim(1)
	a, _ := s.Add("a")
	x, y, err := veth.Create(veth.End{Table: a.Dev, Name: "x"}, veth.End{Table: a.Dev, Name: "y"})
	if err != nil {
		t.Fatal(err)
	}
	x.Up()
	s.Sim.RunFor(time.Millisecond)
	if x.OperState() != netdev.OperLowerLayerDown {
		t.Fatalf("x: %v, want LOWERLAYERDOWN", x.OperState())
	}
	y.Up()
	s.Sim.RunFor(time.Millisecond)
	if x.OperState() != netdev.OperUp || y.OperState() != netdev.OperUp {
		t.Fatalf("x %v y %v", x.OperState(), y.OperState())
	}
}

func TestFramesCrossNamespaces(t *testing.T) {
	s, _ := stack.NewSim(1)
	a, b, da, db := pair(t, s)
	var got []string
	var types []skb.PacketType
	b.Dev.AddProtocol(etherTest, func(dev *netdev.Device, bt *skb.Batch) {
		for _, p := range bt.Bufs() {
			got = append(got, string(p.Bytes()))
			types = append(types, p.PktType)
			p.Free()
		}
		bt.Reset()
	})
	da.Up()
	db.Up()
	s.Sim.RunFor(time.Millisecond)
	bt := skb.NewBatch(4)
	bt.Add(frame(s.Pool(), db.Addr(), da.Addr(), "unicast"))
	bt.Add(frame(s.Pool(), netdev.BroadcastMAC, da.Addr(), "broadcast"))
	bt.Add(frame(s.Pool(), [6]byte{2, 0, 0, 0, 0, 9}, da.Addr(), "otherhost"))
	bt.Add(frame(s.Pool(), [6]byte{1, 0, 0x5e, 0, 0, 1}, da.Addr(), "multicast"))
	a.Exec().Do(func() { da.Xmit(bt) })
	s.Sim.RunFor(time.Millisecond)
	if len(got) != 3 || got[0] != "unicast" || got[1] != "broadcast" || got[2] != "multicast" {
		t.Fatalf("received %q", got)
	}
	if types[0] != skb.PacketHost || types[1] != skb.PacketBroadcast || types[2] != skb.PacketMulticast {
		t.Fatalf("packet types %v", types)
	}
	if da.Stats.TxPackets != 4 || db.Stats.RxPackets != 4 || db.Stats.RxOtherhostDropped != 1 || db.Stats.Multicast != 1 {
		t.Fatalf("stats a %+v b %+v", da.Stats, db.Stats)
	}
	if s.Pool().Live() != 0 {
		t.Fatalf("%d buffers leaked", s.Pool().Live())
	}
}

func TestDownPeerDrops(t *testing.T) {
	s, _ := stack.NewSim(1)
	a, _, da, _ := pair(t, s)
	da.Up()
	s.Sim.RunFor(time.Millisecond)
	bt := skb.NewBatch(1)
	bt.Add(frame(s.Pool(), netdev.BroadcastMAC, da.Addr(), "x"))
	a.Exec().Do(func() { da.Xmit(bt) })
	if da.Stats.TxDropped != 1 || s.Pool().Live() != 0 {
		t.Fatalf("tx_dropped %d live %d", da.Stats.TxDropped, s.Pool().Live())
	}
}

func TestDeleteNamespaceDeletesPeer(t *testing.T) {
	s, _ := stack.NewSim(1)
	a, _, da, _ := pair(t, s)
	var events []netdev.Event
	a.Dev.Subscribe(func(ev netdev.Event, d *netdev.Device) {
		if d == da {
			events = append(events, ev)
		}
	})
	if err := s.Delete("b"); err != nil {
		t.Fatal(err)
	}
	s.Sim.RunFor(time.Millisecond)
	if a.Dev.ByName("eth0") != nil {
		t.Fatal("peer of a deleted veth end survived")
	}
	if len(events) == 0 || events[len(events)-1] != netdev.EventUnregister {
		t.Fatalf("events %v", events)
	}
	if s.Get("b") != nil {
		t.Fatal("namespace b still listed")
	}
	if err := s.Delete("b"); !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("second delete: %v", err)
	}
	if err := s.Delete("default"); !errors.Is(err, syscall.EBUSY) {
		t.Fatalf("delete default: %v", err)
	}
}

func TestMoveToNamespace(t *testing.T) {
	s, _ := stack.NewSim(1)
	a, b, da, db := pair(t, s)
	c, _ := s.Add("c")
	if err := netdev.Move(da, b.Dev); !errors.Is(err, syscall.EEXIST) {
		t.Fatalf("move onto a taken name: %v", err)
	}
	if err := netdev.Move(da, c.Dev); err != nil {
		t.Fatal(err)
	}
	s.Sim.RunFor(time.Millisecond)
	if a.Dev.ByName("eth0") != nil || c.Dev.ByName("eth0") != da || da.Table() != c.Dev {
		t.Fatal("device not moved")
	}
	got := 0
	b.Dev.AddProtocol(etherTest, func(dev *netdev.Device, bt *skb.Batch) { got += bt.Len(); bt.Free() })
	da.Up()
	db.Up()
	s.Sim.RunFor(time.Millisecond)
	bt := skb.NewBatch(1)
	bt.Add(frame(s.Pool(), db.Addr(), da.Addr(), "after move"))
	c.Exec().Do(func() { da.Xmit(bt) })
	s.Sim.RunFor(time.Millisecond)
	if got != 1 {
		t.Fatalf("received %d frames after move", got)
	}
}

func TestNames(t *testing.T) {
	s, _ := stack.NewSim(1)
	a, _ := s.Add("a")
	b, _ := s.Add("b")
	d1, _, err := veth.Create(veth.End{Table: a.Dev, Name: "veth%d"}, veth.End{Table: b.Dev, Name: "veth%d"})
	if err != nil || d1.Name() != "veth0" {
		t.Fatalf("template: %v %v", d1, err)
	}
	d2, _, _ := veth.Create(veth.End{Table: a.Dev, Name: "veth%d"}, veth.End{Table: b.Dev, Name: "p%d"})
	if d2.Name() != "veth1" {
		t.Fatalf("second template name %s", d2.Name())
	}
	for _, bad := range []string{"", "a/b", "a:b", "has space", "sixteen-chars-xx", ".", ".."} {
		if _, _, err := veth.Create(veth.End{Table: a.Dev, Name: bad}, veth.End{Table: b.Dev, Name: "ok"}); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("name %q: %v, want EINVAL", bad, err)
		}
	}
	if _, _, err := veth.Create(veth.End{Table: a.Dev, Name: "veth0"}, veth.End{Table: b.Dev, Name: "x"}); !errors.Is(err, syscall.EEXIST) {
		t.Errorf("duplicate: %v", err)
	}
	if b.Dev.ByName("x") != nil {
		t.Error("failed create left the peer behind")
	}
}

// TestRealtime runs the same exchange on real-time loops (run it with -race).
func TestRealtime(t *testing.T) {
	s, err := stack.NewRealtime()
	if err != nil {
		t.Fatal(err)
	}
	a, b, da, db := pair(t, s)
	got := make(chan int, 100)
	b.Exec().Do(func() {
		b.Dev.AddProtocol(etherTest, func(dev *netdev.Device, bt *skb.Batch) { got <- bt.Len(); bt.Free() })
		db.Up()
	})
	a.Exec().Do(func() { da.Up() })
	deadline := time.Now().Add(5 * time.Second)
	for {
		var up bool
		a.Exec().Do(func() { up = da.IsRunning() })
		if up {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("carrier never came up")
		}
		time.Sleep(time.Millisecond)
	}
	const n = 1000
	for i := 0; i < n; i += 10 {
		a.Exec().Do(func() {
			bt := skb.NewBatch(10)
			for range 10 {
				bt.Add(frame(s.Pool(), db.Addr(), da.Addr(), "rt"))
			}
			da.Xmit(bt)
		})
	}
	total := 0
	for total < n {
		select {
		case k := <-got:
			total += k
		case <-time.After(5 * time.Second):
			t.Fatalf("received %d of %d", total, n)
		}
	}
	s.Delete("a")
	s.Delete("b")
	if live := s.Pool().Live(); live != 0 {
		t.Fatalf("%d buffers leaked", live)
	}
}

// TestUnpair: once unpaired (veth_dellink clearing both peer pointers),
// unregistering one end leaves the other to its caller.
func TestUnpair(t *testing.T) {
	s, _ := stack.NewSim(1)
	a, b, da, db := pair(t, s)
	if p := veth.Unpair(da); p != db {
		t.Fatalf("Unpair returned %v, want the peer", p)
	}
	if veth.Peer(da) != nil || veth.Peer(db) != nil || veth.Unpair(db) != nil {
		t.Fatal("ends still paired")
	}
	a.Exec().Do(func() { a.Dev.Unregister(da) })
	s.Sim.RunFor(time.Millisecond)
	var left *netdev.Device
	b.Exec().Do(func() { left = b.Dev.ByName("eth0") })
	if left != db {
		t.Fatal("the unpaired peer went with its end")
	}
}
