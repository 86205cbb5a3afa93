package bench

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/skb"
)

func frameOf(pool *skb.Pool, n int) *skb.Buf {
	b := pool.Get(skb.DefaultHeadroom, n)
	b.Put(n)
	return b
}

// The limit counts frames waiting for the transmitter only: the one being
// serialised and those propagating are outside it, as in ns-3's
// point-to-point device.
func TestWireLimitCountsWaitingFramesOnly(t *testing.T) {
	pool := skb.NewPool()
	w := newWire(8_000_000, 10*time.Millisecond, 2, 1500, pool) // 1000 bytes = 1 ms
	var ok int
	for range 4 {
		if w.Enqueue(frameOf(pool, 1000), 0) {
			ok++
		}
	}
	if ok != 3 || w.Drops != 1 || w.Len() != 3 {
		t.Fatalf("accepted %d, drops %d, len %d; want 3, 1, 3", ok, w.Drops, w.Len())
	}
	if at, _ := w.Next(); at != 11*time.Millisecond {
		t.Fatalf("first departure %v, want 11ms", at)
	}
	if b := w.Dequeue(10 * time.Millisecond); b != nil {
		t.Fatal("dequeued before the departure time")
	}
	// At 1 ms the second frame is on the wire, the third waits: one slot.
	if !w.Enqueue(frameOf(pool, 1000), time.Millisecond) {
		t.Fatal("dropped with one frame waiting")
	}
	if w.Enqueue(frameOf(pool, 1000), time.Millisecond) {
		t.Fatal("accepted a third waiting frame")
	}
	var deps []time.Duration
	for now := time.Duration(0); now <= 20*time.Millisecond; now += 100 * time.Microsecond {
		for b := w.Dequeue(now); b != nil; b = w.Dequeue(now) {
			deps = append(deps, now)
			b.Free()
		}
	}
	want := []time.Duration{11, 12, 13, 14}
	if len(deps) != len(want) {
		t.Fatalf("departures %v", deps)
	}
	for i, d := range deps {
		if d != want[i]*time.Millisecond {
			t.Fatalf("departures %v, want %v ms", deps, want)
		}
	}
	if pool.Live() != 0 {
		t.Fatalf("%d buffers leaked", pool.Live())
	}
}

func TestWireResetFrees(t *testing.T) {
	pool := skb.NewPool()
	w := newWire(1_000_000, time.Second, 100, 1500, pool)
	for range 10 {
		w.Enqueue(frameOf(pool, 100), 0)
	}
	w.Reset()
	if w.Len() != 0 || pool.Live() != 0 {
		t.Fatalf("len %d, live %d after Reset", w.Len(), pool.Live())
	}
}

// A GSO super-packet is queued as MTU-sized frames, each serialised on its
// own, each with the Ethernet header of the original.
func TestWireSplitsGSO(t *testing.T) {
	pool := skb.NewPool()
	const payload, mss = 3000, 1000
	n := 14 + 20 + 20 + payload
	b := frameOf(pool, n)
	f := b.Bytes()
	copy(f[0:12], []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	binary.BigEndian.PutUint16(f[12:], 0x0800)
	ip := f[14:]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(20+20+payload))
	ip[8], ip[9] = 64, 6
	copy(ip[12:], []byte{10, 0, 0, 1, 10, 0, 0, 2})
	binary.BigEndian.PutUint16(ip[10:], header.Checksum(ip[:20]))
	tcp := ip[20:]
	binary.BigEndian.PutUint16(tcp[0:], 1000)
	binary.BigEndian.PutUint16(tcp[2:], 9)
	tcp[12] = 5 << 4
	tcp[13] = 0x10 // ACK
	b.GSOSize, b.GSOType = mss, skb.GSOTCPv4
	w := newWire(8_000_000, 0, 100, 1500, pool)
	if !w.Enqueue(b, 0) {
		t.Fatal("dropped")
	}
	if w.Len() != 3 {
		t.Fatalf("%d frames queued, want 3", w.Len())
	}
	seg := time.Duration(14+20+20+mss) * 8 * time.Microsecond / 8 // bytes at 1 byte/µs
	for i := range 3 {
		at, _ := w.Next()
		if want := seg * time.Duration(i+1); at != want {
			t.Fatalf("frame %d departs at %v, want %v", i, at, want)
		}
		s := w.Dequeue(at)
		if s.Len() != 14+20+20+mss || s.Bytes()[0] != 1 || binary.BigEndian.Uint16(s.Bytes()[12:]) != 0x0800 {
			t.Fatalf("segment %d: %d bytes, header % x", i, s.Len(), s.Bytes()[:14])
		}
		s.Free()
	}
	if pool.Live() != 0 {
		t.Fatalf("%d buffers leaked", pool.Live())
	}
}
