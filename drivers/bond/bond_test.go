package bond_test

import (
	"encoding/binary"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/usnet/usnet/drivers/bond"
	"github.com/usnet/usnet/drivers/veth"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
	"github.com/usnet/usnet/stack"
)

// frame builds an Ethernet/IPv4/UDP header for the hash tests.
func frame(src, dst [4]byte, sport, dport uint16, proto uint8) []byte {
	f := make([]byte, 14+20+8)
	copy(f[0:6], []byte{2, 0, 0, 0, 0, 2})
	copy(f[6:12], []byte{2, 0, 0, 0, 0, 1})
	binary.BigEndian.PutUint16(f[12:14], 0x0800)
	ip := f[14:]
	ip[0], ip[9] = 0x45, proto
	copy(ip[12:16], src[:])
	copy(ip[16:20], dst[:])
	binary.BigEndian.PutUint16(ip[20:22], sport)
	binary.BigEndian.PutUint16(ip[22:24], dport)
	return f
}

// TestHashKernelValues: bond_xmit_hash worked by hand from the kernel's
// formulas (ports and addresses read as little-endian words on x86).
func TestHashKernelValues(t *testing.T) {
	f := frame([4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, 20000, 9000, 17)
	// layer3+4: port bytes 4e 20 23 28 -> 0x2823204e; saddr^daddr =
	// 0x0100000a^0x0200000a = 0x03000000; 0x2b23204e, folded: ^>>16
	// 0x2b230b6d, ^>>8 0x2b082866, >>1 0x15841433.
	if h := bond.Hash(bond.HashLayer34, f); h != 0x15841433 {
		t.Fatalf("layer3+4 hash %#x, want 0x15841433", h)
	}
	// layer2: dst[5]^src[5]^proto = 2^1^0x0800.
	if h := bond.Hash(bond.HashLayer2, f); h != 0x803 {
		t.Fatalf("layer2 hash %#x, want 0x803", h)
	}
	// layer2+3: 0x803 ^ 0x03000000 = 0x03000803, ^>>16 0x03000b03,
	// ^>>8 0x03030b08 (no final shift).
	if h := bond.Hash(bond.HashLayer23, f); h != 0x03030b08 {
		t.Fatalf("layer2+3 hash %#x, want 0x03030b08", h)
	}
	// A fragment: layer3+4 ignores the ports.
	f[14+6] = 0x20 // MF
	// 0x03000000 -> 0x03000300 -> 0x03030303 -> >>1.
	if h := bond.Hash(bond.HashLayer34, f); h != 0x01818181 {
		t.Fatalf("fragment hash %#x", h)
	}
	// Not IPv4 (ARP): layer2's formula.
	arp := make([]byte, 42)
	arp[5], arp[11], arp[12], arp[13] = 7, 1, 0x08, 0x06
	if h := bond.Hash(bond.HashLayer34, arp); h != 7^1^0x0806 {
		t.Fatalf("ARP hash %#x", h)
	}
	if bond.Hash(bond.HashLayer34, []byte{1, 2}) != 0 {
		t.Fatal("short frame")
	}
}

type rig struct {
	s      *stack.Stack
	a, b   *stack.Namespace
	bd     *netdev.Device
	slaves [2]*netdev.Device
	peers  [2]*netdev.Device
}

func newRig(t testing.TB, p bond.Params) *rig {
	s, err := stack.NewSim(1)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{s: s}
	r.a, _ = s.Add("a")
	r.b, _ = s.Add("b")
	for i, n := range []string{"eth0", "eth1"} {
		x, y, err := veth.Create(veth.End{Table: r.a.Dev, Name: n}, veth.End{Table: r.b.Dev, Name: n})
		if err != nil {
			t.Fatal(err)
		}
		r.slaves[i], r.peers[i] = x, y
		y.Up()
	}
	r.bd, err = bond.New(r.a.Dev, "bond0", p)
	if err != nil {
		t.Fatal(err)
	}
	for _, sd := range r.slaves {
		if err := bond.FromDevice(r.bd).Enslave(sd); err != nil {
			t.Fatal(err)
		}
	}
	r.bd.Up()
	s.Sim.RunFor(time.Second)
	return r
}

// TestEnslaveRules: the kernel's refusals, and what release restores.
func TestEnslaveRules(t *testing.T) {
	p := bond.DefaultParams()
	p.Mode = bond.ModeActiveBackup
	p.Miimon = 100
	r := newRig(t, p)
	b := bond.FromDevice(r.bd)
	errno := func(err error) syscall.Errno {
		var e syscall.Errno
		errors.As(err, &e)
		return e
	}
	if e := errno(b.Enslave(r.bd)); e != syscall.EPERM {
		t.Fatalf("enslave itself: %v", e)
	}
	if e := errno(b.Enslave(r.slaves[0])); e != syscall.EBUSY {
		t.Fatalf("enslave twice: %v", e)
	}
	d, _, _ := veth.Create(veth.End{Table: r.a.Dev, Name: "eth9"}, veth.End{Table: r.b.Dev, Name: "eth9"})
	d.Up()
	if e := errno(b.Enslave(d)); e != syscall.EPERM {
		t.Fatalf("enslave an up device: %v", e)
	}
	perm := b.SlaveOf(r.slaves[1]).PermAddr()
	if r.slaves[1].Addr() != r.bd.Addr() {
		t.Fatal("slave does not carry the bond's MAC")
	}
	r.slaves[1].SetMTU(1500)
	if err := r.bd.SetMTU(9000); err != nil || r.slaves[0].MTU() != 9000 || r.slaves[1].MTU() != 9000 {
		t.Fatalf("bond mtu: %v, slaves %d %d", err, r.slaves[0].MTU(), r.slaves[1].MTU())
	}
	if err := b.Release(r.slaves[1]); err != nil {
		t.Fatal(err)
	}
	if r.slaves[1].Addr() != perm || r.slaves[1].MTU() != 1500 || r.slaves[1].Master() != nil || r.slaves[1].IsUp() || r.slaves[1].Flags()&netdev.FlagSlave != 0 {
		t.Fatalf("released slave: addr %x mtu %d master %v up %v", r.slaves[1].Addr(), r.slaves[1].MTU(), r.slaves[1].Master(), r.slaves[1].IsUp())
	}
	// Mode changes: ENOTEMPTY with slaves, EBUSY while up.
	m := bond.ModeBalanceRR
	if e := errno(b.Apply(&bond.Options{Mode: &m})); e != syscall.ENOTEMPTY {
		t.Fatalf("mode with slaves: %v", e)
	}
	b.Release(r.slaves[0])
	if e := errno(b.Apply(&bond.Options{Mode: &m})); e != syscall.EBUSY {
		t.Fatalf("mode while up: %v", e)
	}
	r.bd.Down()
	if err := b.Apply(&bond.Options{Mode: &m}); err != nil {
		t.Fatal(err)
	}
	var ms uint32 = 250
	if e := errno(b.Apply(&bond.Options{UpDelay: &ms})); e != 0 || b.Params().UpDelay != 2 {
		t.Fatalf("updelay 250 with miimon 100: %v, %d intervals (want 2: rounded down)", e, b.Params().UpDelay)
	}
	// Deleting a slave's peer namespace side removes the slave.
	b.Enslave(r.slaves[0])
	r.a.Dev.Unregister(r.slaves[0])
	if len(b.Slaves()) != 0 {
		t.Fatal("an unregistered slave stayed in the bond")
	}
}

// TestXmitNoAlloc: the transmit path allocates nothing.
func TestXmitNoAlloc(t *testing.T) {
	p := bond.DefaultParams()
	p.Mode = bond.ModeBalanceXOR
	p.Miimon = 100
	p.XmitHashPolicy = bond.HashLayer34
	r := newRig(t, p)
	r.b.Dev.AddProtocol(0x0800, func(_ *netdev.Device, bt *skb.Batch) { bt.Free() })
	pool := r.s.Pool()
	bt := skb.NewBatch(64)
	hdr := frame([4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, 1, 2, 17)
	copy(hdr[0:6], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	send := func() {
		for i := range 64 {
			b := pool.Get(skb.DefaultHeadroom, 100)
			f := b.Put(100)
			copy(f, hdr)
			binary.BigEndian.PutUint16(f[34:36], uint16(i))
			bt.Add(b)
		}
		r.bd.Xmit(bt)
		r.s.Sim.RunFor(time.Millisecond)
	}
	send()
	if n := testing.AllocsPerRun(50, send); n != 0 {
		t.Fatalf("%v allocations per 64-frame batch", n)
	}
	if r.slaves[0].Stats.TxPackets == 0 || r.slaves[1].Stats.TxPackets == 0 {
		t.Fatalf("tx %d %d", r.slaves[0].Stats.TxPackets, r.slaves[1].Stats.TxPackets)
	}
	if live := pool.Live(); live != 0 {
		t.Fatalf("%d buffers leaked", live)
	}
}

// BenchmarkBondXmitXOR64: batches of 64 1500-byte frames through a
// balance-xor bond (layer3+4) over two veth slaves into another
// namespace. ns/op is per batch.
func BenchmarkBondXmitXOR64(b *testing.B) {
	p := bond.DefaultParams()
	p.Mode = bond.ModeBalanceXOR
	p.Miimon = 100
	p.XmitHashPolicy = bond.HashLayer34
	r := newRig(b, p)
	r.b.Dev.AddProtocol(0x0800, func(_ *netdev.Device, bt *skb.Batch) { bt.Free() })
	pool := r.s.Pool()
	bt := skb.NewBatch(64)
	hdr := frame([4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, 1, 2, 17)
	copy(hdr[0:6], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	b.ReportAllocs()
	b.SetBytes(64 * 1500)
	for b.Loop() {
		for i := range 64 {
			x := pool.Get(skb.DefaultHeadroom, 1500)
			f := x.Put(1500)
			copy(f, hdr)
			binary.BigEndian.PutUint16(f[34:36], uint16(i))
			bt.Add(x)
		}
		r.bd.Xmit(bt)
		r.s.Sim.RunFor(time.Millisecond)
	}
	b.ReportMetric(float64(b.N)*64/b.Elapsed().Seconds(), "frames/s")
}

// BenchmarkBondRx64: the receive side, frames arriving on a slave and
// delivered through the bond's rx handler, one frame at a time.
func BenchmarkBondRx64(b *testing.B) {
	p := bond.DefaultParams()
	p.Mode = bond.ModeActiveBackup
	p.Miimon = 100
	r := newRig(b, p)
	r.a.Dev.AddProtocol(0x88b5, func(_ *netdev.Device, bt *skb.Batch) { bt.Free() })
	pool := r.s.Pool()
	bt := skb.NewBatch(64)
	dst := r.bd.Addr()
	b.ReportAllocs()
	b.SetBytes(64 * 1500)
	for b.Loop() {
		for range 64 {
			x := pool.Get(skb.DefaultHeadroom, 1500)
			f := x.Put(1500)
			copy(f[0:6], dst[:])
			f[12], f[13] = 0x88, 0xb5
			bt.Add(x)
		}
		r.peers[0].Xmit(bt)
		r.s.Sim.RunFor(time.Millisecond)
	}
	if r.bd.Stats.RxPackets == 0 {
		b.Fatal("nothing received by the bond")
	}
	b.ReportMetric(float64(b.N)*64/b.Elapsed().Seconds(), "frames/s")
}

// TestLACPBadInput: garbage slow-protocols frames of every length reach
// an 802.3ad bond without panics or leaks and are counted as illegal.
func TestLACPBadInput(t *testing.T) {
	p := bond.DefaultParams()
	p.Mode = bond.Mode8023AD
	r := newRig(t, p)
	b := bond.FromDevice(r.bd)
	pool := r.s.Pool()
	rnd := r.a.Exec().Rand()
	bt := skb.NewBatch(1)
	for i := 0; i < 2000; i++ {
		n := 15 + rnd.IntN(140)
		x := pool.Get(skb.DefaultHeadroom, n)
		f := x.Put(n)
		for j := range f {
			f[j] = byte(rnd.Uint32())
		}
		copy(f[0:6], []byte{0x01, 0x80, 0xc2, 0, 0, 2})
		f[12], f[13] = 0x88, 0x09
		if i%2 == 0 && n > 16 {
			f[14] = 1 // subtype LACP, to reach the TLV checks
		}
		bt.Add(x)
		r.peers[0].Xmit(bt)
		r.s.Sim.RunFor(time.Millisecond)
	}
	r.s.Sim.RunFor(5 * time.Second)
	if b.Stats.LACPDUIllegalRx == 0 {
		t.Fatal("no illegal LACPDU counted")
	}
	if live := pool.Live(); live != 0 {
		t.Fatalf("%d buffers leaked", live)
	}
}
