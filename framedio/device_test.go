package framedio_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/usnet/usnet/framedio"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
	"github.com/usnet/usnet/stack"
)

const etherTest = 0x88b5

type rig struct {
	s    *stack.Stack
	ns   *stack.Namespace
	dev  *netdev.Device
	far  *framedio.End
	got  atomic.Int64
	last atomic.Pointer[skb.Meta]
}

func newRig(t *testing.T, info framedio.Info) *rig { return newRigBacklog(t, info, 0) }

func newRigBacklog(t *testing.T, info framedio.Info, backlog int) *rig {
	t.Helper()
	s, err := stack.NewRealtime()
	if err != nil {
		t.Fatal(err)
	}
	ns, err := s.Add("fio")
	if err != nil {
		t.Fatal(err)
	}
	near, far := framedio.Pair(info)
	r := &rig{s: s, ns: ns, far: far}
	r.dev, err = framedio.NewDeviceConfig(ns.Dev, "fio%d", near, framedio.DeviceConfig{Backlog: backlog})
	if err != nil {
		t.Fatal(err)
	}
	ns.Exec().Do(func() {
		ns.Dev.AddProtocol(etherTest, func(_ *netdev.Device, bt *skb.Batch) {
			for _, b := range bt.Bufs() {
				m := b.Meta
				r.last.Store(&m)
			}
			r.got.Add(int64(bt.Len()))
			bt.Free()
		})
		if err := r.dev.Up(); err != nil {
			t.Error(err)
		}
	})
	t.Cleanup(func() { s.Delete("fio") })
	return r
}

func frame(dst [6]byte, n int) []byte {
	f := make([]byte, n)
	copy(f, dst[:])
	binary.BigEndian.PutUint16(f[12:], etherTest)
	return f
}

func (r *rig) stats() netdev.Stats64 {
	var s netdev.Stats64
	r.ns.Exec().Do(func() { s = r.dev.Stats })
	return s
}

func waitFor(t *testing.T, what string, f func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !f(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestDeviceReceive(t *testing.T) {
	r := newRig(t, framedio.Info{})
	if r.dev.Kind() != "framedio" || r.dev.MTU() != 1500 {
		t.Fatalf("kind %q mtu %d", r.dev.Kind(), r.dev.MTU())
	}
	w := &framedio.FrameIO{VecsPerFrame: 1}
	for i := range 100 {
		f := frame(r.dev.Addr(), 60+i)
		w.Vecs = append(w.Vecs, framedio.Vec{Buf: f, Len: len(f)})
	}
	if n, err := r.far.Write(w, framedio.Block); n != 100 || err != nil {
		t.Fatalf("write %d %v", n, err)
	}
	waitFor(t, "100 frames", func() bool { return r.got.Load() == 100 })
	if s := r.stats(); s.RxPackets != 100 || s.RxDropped != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// TestDeviceReceiveGSO: a 64 KiB frame with offload metadata spills into
// the second vector and arrives as one large segment with CsumPartial.
func TestDeviceReceiveGSO(t *testing.T) {
	r := newRig(t, framedio.Info{MaxFrame: 65536 + 14, Offload: true})
	f := frame(r.dev.Addr(), 65000)
	w := &framedio.FrameIO{VecsPerFrame: 1, Vecs: []framedio.Vec{{Buf: f, Len: len(f)}},
		Meta: []framedio.Meta{{Flags: framedio.MetaNeedsCsum, GSOType: skb.GSOTCPv4, GSOSize: 1448, HdrLen: 66, CsumStart: 34, CsumOffset: 16}}}
	if n, err := r.far.Write(w, framedio.Block); n != 1 || err != nil {
		t.Fatalf("write %d %v", n, err)
	}
	waitFor(t, "the large frame", func() bool { return r.got.Load() == 1 })
	m := r.last.Load()
	if m.Csum != skb.CsumPartial || m.GSOSize != 1448 || m.GSOType != skb.GSOTCPv4 || m.CsumStart-m.L2 != 34 || m.CsumOffset != 16 {
		t.Fatalf("meta %+v", *m)
	}
	if s := r.stats(); s.RxBytes != 65000 {
		t.Fatalf("rx bytes %d", s.RxBytes)
	}
}

func (r *rig) xmit(t *testing.T, n, size int, prep func(*skb.Buf)) {
	r.ns.Exec().Do(func() {
		bt := skb.NewBatch(n)
		for range n {
			b := r.ns.Dev.Pool().GetData(frame(netdev.BroadcastMAC, size))
			if prep != nil {
				prep(b)
			}
			bt.Add(b)
		}
		r.dev.Xmit(bt)
	})
}

// TestDeviceXmitFlowControl: frames beyond the txbuf bound are dropped
// and counted, never queued without bound and never lost silently.
func TestDeviceXmitFlowControl(t *testing.T) {
	r := newRig(t, framedio.Info{})
	if err := framedio.PortOf(r.dev).SetBufs(0, 10*1000); err != nil {
		t.Fatal(err)
	}
	r.xmit(t, 25, 1000, nil)
	s := r.stats()
	if s.TxPackets != 25 || s.TxDropped != 15 {
		t.Fatalf("tx %d dropped %d, want 25 15", s.TxPackets, s.TxDropped)
	}
	if fc := framedio.PortOf(r.dev).Stats().FlowControl; fc != 1 {
		t.Fatalf("flow-control events %d", fc)
	}
	rd := &framedio.FrameIO{VecsPerFrame: 1}
	for range 64 {
		rd.Vecs = append(rd.Vecs, framedio.Vec{Buf: make([]byte, 1514)})
	}
	if n, _ := r.far.Read(rd, framedio.NonBlock); n != 10 {
		t.Fatalf("peer read %d, want 10", n)
	}
}

// TestDeviceCompletesChecksum: a port without offload gets finished
// checksums; a GSO frame is refused and counted.
func TestDeviceCompletesChecksum(t *testing.T) {
	r := newRig(t, framedio.Info{})
	r.xmit(t, 1, 100, func(b *skb.Buf) {
		d := b.Bytes()
		for i := 20; i < 100; i++ {
			d[i] = byte(i)
		}
		d[40], d[41] = 0, 0
		b.Csum, b.CsumStart, b.CsumOffset = skb.CsumPartial, b.Pos()+34, 6
	})
	r.xmit(t, 1, 100, func(b *skb.Buf) { b.GSOSize, b.GSOType = 50, skb.GSOUDP })
	rd := &framedio.FrameIO{VecsPerFrame: 1, Vecs: []framedio.Vec{{Buf: make([]byte, 1514)}, {Buf: make([]byte, 1514)}}}
	n, _ := r.far.Read(rd, framedio.NonBlock)
	if n != 1 {
		t.Fatalf("read %d frames, want 1 (GSO refused)", n)
	}
	seg := rd.Vecs[0].Buf[34:100]
	var sum uint32
	for i := 0; i < len(seg); i += 2 {
		sum += uint32(seg[i])<<8 | uint32(seg[i+1])
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	if sum != 0xffff {
		t.Fatalf("checksum does not verify: %#x", sum)
	}
	if s := r.stats(); s.TxDropped != 1 {
		t.Fatalf("tx dropped %d", s.TxDropped)
	}
}

// TestDeviceDropAccounting floods the device past a tiny NAPI backlog:
// every frame sent is either received or counted as dropped.
func TestDeviceDropAccounting(t *testing.T) {
	r := newRigBacklog(t, framedio.Info{}, 8)
	const sent = 20000
	w := &framedio.FrameIO{VecsPerFrame: 1}
	for range 64 {
		f := frame(r.dev.Addr(), 60)
		w.Vecs = append(w.Vecs, framedio.Vec{Buf: f, Len: len(f)})
	}
	for n := 0; n < sent; {
		w2 := *w
		w2.Vecs = w.Vecs[:min(64, sent-n)]
		k, err := r.far.Write(&w2, framedio.Block)
		if err != nil {
			t.Fatal(err)
		}
		n += k
	}
	var s netdev.Stats64
	waitFor(t, "all frames accounted", func() bool {
		s = r.stats()
		return s.RxPackets+s.RxDropped == sent
	})
	if s.RxDropped == 0 {
		t.Logf("no drops: the executor kept up (rx %d)", s.RxPackets)
	}
	if uint64(r.got.Load()) != s.RxPackets {
		t.Fatalf("handler saw %d, rx_packets %d", r.got.Load(), s.RxPackets)
	}
	t.Logf("sent %d rx_packets %d rx_dropped %d", sent, s.RxPackets, s.RxDropped)
}

func backendGoroutines() int {
	buf := make([]byte, 1<<20)
	n := runtime.Stack(buf, true)
	return strings.Count(string(buf[:n]), "framedio.(*driver).rxLoop")
}

// TestUnregisterStopsBackend: no goroutine outlives its device, and the
// peer sees the port closed.
func TestUnregisterStopsBackend(t *testing.T) {
	// Earlier tests' devices end their backends in their cleanup, and a
	// backend may still be on its way out: let them go before counting.
	waitFor(t, "earlier tests' backends to end", func() bool { return backendGoroutines() == 0 })
	before := backendGoroutines()
	r := newRig(t, framedio.Info{})
	waitFor(t, "the backend goroutine", func() bool { return backendGoroutines() == before+1 })
	r.ns.Exec().Do(func() { r.ns.Dev.Unregister(r.dev) })
	// Uninit returns once rxLoop has closed done, which it does in its
	// last deferred call: the goroutine may still be on its way out, so
	// wait for it rather than sample once.
	waitFor(t, "the backend goroutine to end", func() bool { return backendGoroutines() == before })
	w := &framedio.FrameIO{VecsPerFrame: 1, Vecs: []framedio.Vec{{Buf: make([]byte, 60), Len: 60}}}
	if _, err := r.far.Write(w, framedio.NonBlock); !errors.Is(err, framedio.ErrClosed) {
		t.Fatalf("write after unregister: %v", err)
	}
}

// TestPeerCloseDropsCarrier: the far side going away is a link loss.
func TestPeerCloseDropsCarrier(t *testing.T) {
	r := newRig(t, framedio.Info{})
	var c bool
	r.ns.Exec().Do(func() { c = r.dev.Carrier() })
	if !c {
		t.Fatal("no carrier after up")
	}
	r.far.Close()
	waitFor(t, "carrier off", func() bool {
		var c bool
		r.ns.Exec().Do(func() { c = r.dev.Carrier() })
		return !c
	})
}

// TestCarrierLinkwatch: the device is a NIC on the host interface: its
// open raises the carrier as netif_carrier_on does, so the UP event
// already sees LOWER_UP but the state it had (DOWN, from registration),
// and linkwatch then brings UP; its stop drops the carrier, and the
// state it keeps while down is what linkwatch made of that (DOWN).
func TestCarrierLinkwatch(t *testing.T) {
	r := newRig(t, framedio.Info{})
	var log []string
	var mu sync.Mutex
	r.ns.Exec().Do(func() {
		r.ns.Dev.Subscribe(func(ev netdev.Event, d *netdev.Device) {
			if d == r.dev && (ev == netdev.EventUp || ev == netdev.EventChange) {
				mu.Lock()
				log = append(log, fmt.Sprintf("%v %v lower=%v", ev, d.OperState(), d.Flags()&netdev.FlagLowerUp != 0))
				mu.Unlock()
			}
		})
		r.dev.Down()
	})
	r.ns.Exec().Do(func() {}) // after the linkwatch run the stop posted
	mu.Lock()
	log = nil
	mu.Unlock()
	r.ns.Exec().Do(func() { r.dev.Up() })
	waitFor(t, "linkwatch after up", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(log) == 2
	})
	mu.Lock()
	got := strings.Join(log, ", ")
	mu.Unlock()
	if want := "UP DOWN lower=true, CHANGE UP lower=true"; got != want {
		t.Fatalf("up:\n got %s\nwant %s", got, want)
	}
}
