package macvlan

import (
	"errors"
	"sync"

	"github.com/usnet/usnet/executor"
	"github.com/usnet/usnet/framedio"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
)

// A macvtap (drivers/net/macvtap.c) is a macvlan whose frames go to a
// program instead of the stack: what the macvlan receives is read from a
// framed I/O port, and what the program writes to the port leaves by the
// macvlan, under the same mode rules. Linux hands the program a character
// device (/dev/tapN); usnet hands it the program's end of a
// framedio.Pair, which TapPort returns.
//
// The macvtap's own side of the pair is served by one backend goroutine
// (as for every framedio device): it reads what the program writes and
// hands it to the executor through a bounded queue and a kicked timer.
// Packets the stack itself sends on a macvtap device leave by the lower
// device, as on Linux. The port carries no virtio-net header: checksums
// are finished before a frame is handed over, and frames larger than the
// lower's MTU plus 18 bytes (GSO super-packets) are dropped. A macvtap
// stays in its lower device's namespace.

// tapBacklog bounds the frames written by the program and not yet sent.
const tapBacklog = netdev.DefaultBacklog

type tapState struct {
	port  *framedio.End // the macvtap's end
	user  *framedio.End // the program's end
	wio   framedio.FrameIO
	timer *executor.Timer
	bt    *skb.Batch

	mu    sync.Mutex
	queue []*skb.Buf // written by the program, not yet sent
	done  chan struct{}
}

// NewTap creates a macvtap, a macvlan on c.Lower whose frames are
// exchanged with a program through the returned port instead of the stack
// (`ip link add link LOWER name NAME type macvtap mode MODE`). Call it on
// the lower device's executor.
func NewTap(c Config) (*netdev.Device, framedio.Port, error) {
	d, err := New(c)
	if err != nil {
		return nil, nil, err
	}
	v := d.Driver().(*Dev)
	maxFrame := c.Lower.MTU() + 18
	mine, user := framedio.Pair(framedio.Info{Kind: "macvtap", MaxFrame: maxFrame, MTU: d.MTU(), Addr: d.Addr()})
	ts := &tapState{
		port: mine, user: user, bt: skb.NewBatch(netdev.NAPIWeight),
		wio:  framedio.FrameIO{VecsPerFrame: 1, Vecs: make([]framedio.Vec, 1)},
		done: make(chan struct{}),
	}
	ex := d.Table().Net().Exec()
	ts.timer = ex.NewTimer(func() { ts.flush(v) })
	v.tap = func(b *skb.Buf) { ts.deliver(v, b) }
	v.ts = ts
	go ts.readLoop(d.Table().Pool(), ex, maxFrame)
	return d, user, nil
}

// TapPort returns the program's port of a macvtap, nil for other devices.
func TapPort(d *netdev.Device) framedio.Port {
	v, ok := Of(d)
	if !ok {
		return nil
	}
	if v.ts != nil {
		return v.ts.user
	}
	return nil
}

// deliver writes one received frame to the program, dropping it when the
// program does not keep up (the port never blocks the executor).
func (ts *tapState) deliver(v *Dev, b *skb.Buf) {
	d := v.dev
	if !d.IsUp() {
		d.Stats.RxDropped++
		b.Free()
		return
	}
	if b.Csum == skb.CsumPartial {
		// The program gets finished checksums (no virtio-net header).
		if !b.Unshare() {
			d.Stats.RxDropped++
			b.Free()
			return
		}
		netdev.CompleteChecksum(b.Bytes(), int(b.CsumStart-b.Pos()), int(b.CsumOffset))
		b.Csum = skb.CsumNone
	}
	ts.wio.Vecs[0] = framedio.Vec{Buf: b.Bytes(), Len: b.Len()}
	n, _ := ts.port.Write(&ts.wio, framedio.NonBlock)
	if n == 1 {
		d.Stats.RxPackets++
		d.Stats.RxBytes += uint64(b.Len())
	} else {
		d.Stats.RxDropped++
	}
	ts.wio.Vecs[0] = framedio.Vec{}
	b.Free()
}

// readLoop is the backend goroutine: it reads the program's frames into
// packet buffers and queues them for the executor. It returns when the
// port is closed.
func (ts *tapState) readLoop(pool *skb.Pool, ex executor.Executor, maxFrame int) {
	defer close(ts.done)
	const batch = netdev.NAPIWeight
	bufs := make([][]byte, batch)
	fio := &framedio.FrameIO{VecsPerFrame: 1, Vecs: make([]framedio.Vec, batch)}
	for i := range bufs {
		bufs[i] = make([]byte, maxFrame)
	}
	for {
		for i := range fio.Vecs {
			fio.Vecs[i] = framedio.Vec{Buf: bufs[i]}
		}
		n, err := ts.port.Read(fio, framedio.Block)
		kick := false
		ts.mu.Lock()
		for i := 0; i < n; i++ {
			vec := fio.Vecs[i]
			if len(ts.queue) >= tapBacklog || vec.Len < 14 {
				continue
			}
			b := pool.Get(skb.DefaultHeadroom, vec.Len)
			if b == nil {
				continue
			}
			b.Append(vec.Buf[:vec.Len])
			kick = kick || len(ts.queue) == 0
			ts.queue = append(ts.queue, b)
		}
		ts.mu.Unlock()
		if kick {
			ex.Kick(ts.timer)
		}
		if err != nil && !errors.Is(err, framedio.ErrWouldBlock) && !errors.Is(err, framedio.ErrFrameTooBig) {
			return
		}
	}
}

// flush runs on the executor: the program's frames leave by the macvtap
// (through its qdisc slot and counters, then the macvlan rules).
func (ts *tapState) flush(v *Dev) {
	ts.mu.Lock()
	k := min(len(ts.queue), netdev.NAPIWeight)
	for _, b := range ts.queue[:k] {
		ts.bt.Add(b)
	}
	n := copy(ts.queue, ts.queue[k:])
	clear(ts.queue[n:])
	ts.queue = ts.queue[:n]
	more := n > 0
	ts.mu.Unlock()
	if ts.bt.Len() > 0 {
		v.dev.Xmit(ts.bt)
	}
	if more {
		v.dev.Table().Net().Exec().Kick(ts.timer)
	}
}

// closeTap ends the port and frees what is queued (device unregister).
func closeTap(v *Dev) {
	ts := v.ts
	if ts == nil {
		return
	}
	v.ts = nil
	ts.port.Close()
	ts.timer.Stop()
	ts.mu.Lock()
	for _, b := range ts.queue {
		b.Free()
	}
	ts.queue = nil
	ts.mu.Unlock()
}
