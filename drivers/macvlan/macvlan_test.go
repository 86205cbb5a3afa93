package macvlan_test

import (
	"testing"
	"time"

	"github.com/usnet/usnet/drivers/macvlan"
	"github.com/usnet/usnet/drivers/veth"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
	"github.com/usnet/usnet/stack"
)

func simPair(t testing.TB) (*stack.Stack, *stack.Namespace, *stack.Namespace, *netdev.Device, *netdev.Device) {
	s, _ := stack.NewSim(1)
	a, _ := s.Add("a")
	b, _ := s.Add("b")
	ea, eb, err := veth.Create(veth.End{Table: a.Dev, Name: "eth0"}, veth.End{Table: b.Dev, Name: "eth0"})
	if err != nil {
		t.Fatal(err)
	}
	ea.Up()
	eb.Up()
	s.Sim.RunFor(time.Millisecond)
	return s, a, b, ea, eb
}

func buf(s *stack.Stack, f []byte) *skb.Buf {
	b := s.Pool().Get(skb.DefaultHeadroom, len(f))
	b.Append(f)
	return b
}

// TestSourceMode: a source-mode macvlan receives copies of the frames
// sent from the addresses on its list, and the frames still reach their
// destination. (A copy whose destination is another host's unicast
// address is classified PACKET_OTHERHOST by the receiving core and
// dropped there, where Linux keeps the lower's classification; see the
// package notes.)
func TestSourceMode(t *testing.T) {
	s, a, _, ea, eb := simPair(t)
	src, err := macvlan.New(macvlan.Config{Name: "src", Lower: ea, Mode: macvlan.ModeSource})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := macvlan.Of(src)
	if err := v.ChangeSources(macvlan.MACAddrSet, [][6]byte{eb.Addr(), {2, 0, 0, 0, 0, 9}}); err != nil {
		t.Fatal(err)
	}
	if err := v.ChangeSources(macvlan.MACAddrDel, [][6]byte{{2, 0, 0, 0, 0, 9}}); err != nil {
		t.Fatal(err)
	}
	if l := v.Sources(); len(l) != 1 || l[0] != eb.Addr() {
		t.Fatalf("sources %v", l)
	}
	src.Up()
	got := map[string]int{}
	a.Dev.AddProtocol(etherTest, func(d *netdev.Device, bt *skb.Batch) {
		for range bt.Bufs() {
			got[d.Name()]++
		}
		bt.Free()
	})
	bt := skb.NewBatch(1)
	bt.Add(buf(s, testFrame(netdev.BroadcastMAC, eb.Addr(), "hello")))
	eb.Xmit(bt)
	s.Sim.RunFor(time.Millisecond)
	if got["src"] != 1 || got["eth0"] != 1 {
		t.Fatalf("deliveries %v, want one on src and one on eth0", got)
	}
	// Passthru on its own port takes the lower's address and promiscuity.
	s2, _, _, ea2, _ := simPair(t)
	pt, err := macvlan.New(macvlan.Config{Name: "pt", Lower: ea2, Mode: macvlan.ModePassthru})
	if err != nil {
		t.Fatal(err)
	}
	if pt.Addr() != ea2.Addr() {
		t.Fatal("passthru did not take the lower's address")
	}
	pt.Up()
	if ea2.Promiscuity() != 1 {
		t.Fatalf("lower promiscuity %d, want 1", ea2.Promiscuity())
	}
	pt.Down()
	if ea2.Promiscuity() != 0 {
		t.Fatalf("lower promiscuity %d after down", ea2.Promiscuity())
	}
	_ = s2
}

// BenchmarkMacvlanRx: batches of 64 frames from the peer, demultiplexed by
// destination MAC on the lower and received by one of 8 macvlans.
func BenchmarkMacvlanRx(b *testing.B) {
	s, a, _, ea, eb := simPair(b)
	var mvs []*netdev.Device
	for i := range 8 {
		d, err := macvlan.New(macvlan.Config{Name: "mv%d", Lower: ea, Mode: macvlan.ModeBridge, Addr: [6]byte{2, 0, 0, 0, 1, byte(i)}})
		if err != nil {
			b.Fatal(err)
		}
		d.Up()
		mvs = append(mvs, d)
	}
	a.Dev.AddProtocol(etherTest, func(_ *netdev.Device, bt *skb.Batch) { bt.Free() })
	s.Sim.RunFor(time.Millisecond)
	bt := skb.NewBatch(64)
	payload := make([]byte, 50)
	frames := make([][]byte, 8)
	for i, d := range mvs {
		frames[i] = testFrame(d.Addr(), eb.Addr(), string(payload))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for n := range b.N {
		for i := range 64 {
			bt.Add(buf(s, frames[(n+i)%8]))
		}
		eb.Xmit(bt)
		s.Sim.RunFor(time.Microsecond)
	}
	b.StopTimer()
	var rx uint64
	for _, d := range mvs {
		rx += d.Stats.RxPackets
	}
	if rx != uint64(64*b.N) {
		b.Fatalf("received %d of %d", rx, 64*b.N)
	}
	b.ReportMetric(float64(64*b.N)/b.Elapsed().Seconds(), "frames/s")
}
