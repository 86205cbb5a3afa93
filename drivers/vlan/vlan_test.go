package vlan_test

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/usnet/usnet/drivers/veth"
	"github.com/usnet/usnet/drivers/vlan"
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
	"github.com/usnet/usnet/stack"
)

const etherTest = 0x88b5

type rig struct {
	s      *stack.Stack
	a, b   *stack.Namespace
	ea, eb *netdev.Device
	got    []*skb.Buf // frames of etherTest received in b, by any device
	devs   []string
}

func newRig(t testing.TB) *rig {
	s, _ := stack.NewSim(1)
	a, _ := s.Add("a")
	b, _ := s.Add("b")
	ea, eb, err := veth.Create(veth.End{Table: a.Dev, Name: "eth0"}, veth.End{Table: b.Dev, Name: "eth0"})
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{s: s, a: a, b: b, ea: ea, eb: eb}
	b.Dev.AddProtocol(etherTest, func(d *netdev.Device, bt *skb.Batch) {
		for _, p := range bt.Bufs() {
			r.got = append(r.got, p)
			r.devs = append(r.devs, d.Name())
		}
		bt.Reset()
	})
	ea.Up()
	eb.Up()
	s.Sim.RunFor(time.Millisecond)
	return r
}

func (r *rig) frame(dst [6]byte, prio uint32, payload string) *skb.Buf {
	b := r.s.Pool().Get(skb.DefaultHeadroom, 64)
	h := b.Put(14)
	copy(h[0:6], dst[:])
	src := r.ea.Addr()
	copy(h[6:12], src[:])
	binary.BigEndian.PutUint16(h[12:14], etherTest)
	b.Append([]byte(payload))
	b.Priority = prio
	return b
}

func (r *rig) free() {
	for _, b := range r.got {
		b.Free()
	}
	r.got, r.devs = nil, nil
}

// TestQoSMaps: egress maps packet priority to PCP (newest mapping first
// in its bucket, zero entries hidden from the dump); ingress maps PCP to
// the received packet's priority.
func TestQoSMaps(t *testing.T) {
	r := newRig(t)
	tx, err := vlan.New(vlan.Config{Name: "tx", Lower: r.ea, ID: 7,
		Egress: []vlan.QoSMapping{{From: 1, To: 3}, {From: 17, To: 6}, {From: 2, To: 0}}})
	if err != nil {
		t.Fatal(err)
	}
	rx, err := vlan.New(vlan.Config{Name: "rx", Lower: r.eb, ID: 7, Ingress: []vlan.QoSMapping{{From: 6, To: 42}}})
	if err != nil {
		t.Fatal(err)
	}
	tx.Up()
	rx.Up()
	r.s.Sim.RunFor(time.Millisecond)
	v, _ := vlan.Of(tx)
	eg := v.Egress()
	if len(eg) != 2 || eg[0] != (vlan.QoSMapping{From: 17, To: 6}) || eg[1] != (vlan.QoSMapping{From: 1, To: 3}) {
		t.Fatalf("egress dump order %v", eg)
	}
	var seen []uint16
	r.a.Dev.AddTap(r.ea, func(_ *netdev.Device, b *skb.Buf, dir netdev.Direction, _ int64) {
		if dir == netdev.DirOut {
			seen = append(seen, binary.BigEndian.Uint16(b.Bytes()[14:16]))
		}
	})
	bt := skb.NewBatch(2)
	bt.Add(r.frame(rx.Addr(), 17, "p17"))
	bt.Add(r.frame(rx.Addr(), 5, "p5"))
	tx.Xmit(bt)
	r.s.Sim.RunFor(time.Millisecond)
	if len(seen) != 2 || seen[0] != 6<<13|7 || seen[1] != 7 {
		t.Fatalf("TCIs on the wire %#x, want [0xc007 0x7]", seen)
	}
	if len(r.got) != 2 || r.devs[0] != "rx" || r.got[0].Priority != 42 || r.got[1].Priority != 0 {
		t.Fatalf("received on %v with priorities %d %d", r.devs, r.got[0].Priority, r.got[1].Priority)
	}
	r.free()
}

// TestPriorityTag: a frame tagged with VID 0 and no vlan 0 device is
// received untagged on the lower device (Linux's priority-tagged frames);
// an unknown VID is not delivered.
func TestPriorityTag(t *testing.T) {
	r := newRig(t)
	if _, err := vlan.New(vlan.Config{Name: "v9", Lower: r.eb, ID: 9}); err != nil {
		t.Fatal(err)
	}
	if _, err := vlan.New(vlan.Config{Name: "t0", Lower: r.ea, ID: 0}); err != nil {
		t.Fatal(err)
	}
	if _, err := vlan.New(vlan.Config{Name: "t5", Lower: r.ea, ID: 5}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"t0", "t5"} {
		d := r.a.Dev.ByName(n)
		d.Up()
		bt := skb.NewBatch(1)
		bt.Add(r.frame(r.eb.Addr(), 0, n))
		d.Xmit(bt)
	}
	r.s.Sim.RunFor(time.Millisecond)
	if len(r.got) != 1 || r.devs[0] != "eth0" || string(r.got[0].Bytes()) != "t0" {
		t.Fatalf("got %d frames on %v", len(r.got), r.devs)
	}
	if r.eb.Stats.RxNoHandler != 1 {
		t.Fatalf("unknown VID: rx_nohandler %d, want 1", r.eb.Stats.RxNoHandler)
	}
	r.free()
	if live := r.s.Pool().Live(); live != 0 {
		t.Fatalf("%d buffers live", live)
	}
}

func TestConfigErrors(t *testing.T) {
	r := newRig(t)
	cases := []vlan.Config{
		{Name: "x", ID: 1}, // no lower
		{Name: "x", Lower: r.ea, ID: 1, Protocol: 0x0800},             // bad protocol
		{Name: "x", Lower: r.ea, ID: 4095},                            // reserved VID
		{Name: "x", Lower: r.ea, ID: 1, MTU: 9000},                    // above the lower's
		{Name: "x", Lower: r.ea, ID: 1, Flags: 0x40, FlagsMask: 0x40}, // unknown flag
		{Name: "x", Lower: r.a.Lo, ID: 1},                             // not Ethernet
	}
	for i, c := range cases {
		if _, err := vlan.New(c); err == nil {
			t.Errorf("case %d accepted", i)
		}
	}
	d, err := vlan.New(vlan.Config{Name: "ok", Lower: r.ea, ID: 1, Flags: vlan.FlagLooseBinding, FlagsMask: vlan.FlagLooseBinding})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := vlan.Of(d); v.Flags() != vlan.FlagReorderHdr|vlan.FlagLooseBinding {
		t.Fatalf("flags %#x", v.Flags())
	}
	// Loose binding: the vlan stays up while its lower goes down.
	d.Up()
	r.ea.Down()
	if !d.IsUp() {
		t.Fatal("loose-binding vlan went down with its lower")
	}
}

// BenchmarkVLANRoundTrip sends batches of 64 frames through a vlan on one
// end of a veth pair, received by the vlan on the other end: tag, wire,
// untag, NAPI round of the vlan device, protocol handler.
func BenchmarkVLANRoundTrip(b *testing.B) {
	r := newRig(b)
	tx, _ := vlan.New(vlan.Config{Name: "tx", Lower: r.ea, ID: 7})
	rx, _ := vlan.New(vlan.Config{Name: "rx", Lower: r.eb, ID: 7})
	tx.Up()
	rx.Up()
	r.b.Dev.AddProtocol(etherTest, func(_ *netdev.Device, bt *skb.Batch) { bt.Free() })
	r.s.Sim.RunFor(time.Millisecond)
	bt := skb.NewBatch(64)
	dst := rx.Addr()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for range 64 {
			bt.Add(r.frame(dst, 0, "0123456789abcdef0123456789abcdef0123456789abcdef"))
		}
		tx.Xmit(bt)
		r.s.Sim.RunFor(time.Microsecond)
	}
	b.StopTimer()
	if rx.Stats.RxPackets != uint64(64*b.N) {
		b.Fatalf("received %d of %d", rx.Stats.RxPackets, 64*b.N)
	}
	b.ReportMetric(float64(64*b.N)/b.Elapsed().Seconds(), "frames/s")
}

// TestMovedVLANRealTime: a vlan moved into another namespace than its
// lower device still carries UDP both ways, each namespace on its own
// executor goroutine (run it with -race).
func TestMovedVLANRealTime(t *testing.T) {
	s, err := stack.NewRealtime()
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"h", "p", "c"}
	ns := map[string]*stack.Namespace{}
	for _, n := range names {
		ns[n], _ = s.Add(n)
	}
	defer func() {
		for _, n := range names {
			s.Delete(n)
		}
	}()
	eh, ep, err := veth.Create(veth.End{Table: ns["h"].Dev, Name: "eth0"}, veth.End{Table: ns["p"].Dev, Name: "eth0"})
	if err != nil {
		t.Fatal(err)
	}
	var vh, vp *netdev.Device
	ns["h"].Exec().Do(func() {
		eh.Up()
		vh, err = vlan.New(vlan.Config{Name: "eth0.10", Lower: eh, ID: 10})
	})
	if err != nil {
		t.Fatal(err)
	}
	ns["p"].Exec().Do(func() {
		ep.Up()
		vp, err = vlan.New(vlan.Config{Name: "eth0.10", Lower: ep, ID: 10})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := netdev.Move(vh, ns["c"].Dev); err != nil {
		t.Fatal(err)
	}
	addr := func(n string, d *netdev.Device, cidr string) {
		p := netip.MustParsePrefix(cidr)
		ns[n].Exec().Do(func() {
			if _, err = ns[n].IPv4.AddAddr(ipv4.IfAddr{Dev: d, Local: p.Addr(), Prefix: p}); err == nil {
				err = d.Up()
			}
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	addr("c", vh, "10.0.10.1/24")
	addr("p", vp, "10.0.10.2/24")
	srv, err := ns["p"].ListenPacket("udp", "10.0.10.2:7")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	go func() {
		buf := make([]byte, 1500)
		for {
			k, from, err := srv.ReadFrom(buf)
			if err != nil {
				return
			}
			srv.WriteTo(buf[:k], from)
		}
	}()
	c, err := ns["c"].Dial("udp", "10.0.10.2:7")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 64)
	for i := range 3 {
		c.Write([]byte("tagged"))
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		if n, err := c.Read(buf); err != nil || string(buf[:n]) != "tagged" {
			t.Fatalf("echo %d: %q %v", i, buf[:n], err)
		}
	}
}
