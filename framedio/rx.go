package framedio

import (
	"errors"

	"github.com/usnet/usnet/skb"
)

// smallCap is what a default-class packet buffer holds behind its
// headroom: every frame up to this size is read straight into the buffer
// it will travel in; only larger ones (GSO frames, jumbo frames) land in
// a spill vector and are copied once into a buffer of their size.
const smallCap = 2048 - skb.DefaultHeadroom

// rxLoop is the device's backend goroutine, the only goroutine on its
// receive path: it reads batches from the port, wraps them in packet
// buffers and hands them to the NAPI queue of the device's executor. It
// never touches protocol state. It returns when the port is closed.
func (dr *driver) rxLoop() {
	defer close(dr.done)
	vpf := 1
	if dr.info.MaxFrame > smallCap {
		vpf = 2
	}
	slots := make([]*skb.Buf, rxBatch)
	var spill [][]byte
	if vpf == 2 {
		spill = make([][]byte, rxBatch)
		for i := range spill {
			spill[i] = make([]byte, dr.info.MaxFrame-smallCap)
		}
	}
	fio := &FrameIO{VecsPerFrame: vpf, Vecs: make([]Vec, rxBatch*vpf)}
	if dr.info.Offload {
		fio.Meta = make([]Meta, rxBatch)
	}
	defer func() {
		for _, b := range slots {
			if b != nil {
				b.Free()
			}
		}
	}()
	bt := skb.NewBatch(rxBatch)
	var seen Stats
	for {
		for i := range slots {
			b := slots[i]
			if b == nil {
				b = dr.pool.Get(skb.DefaultHeadroom, smallCap)
				slots[i] = b
			}
			b.Trim(0)
			fio.Vecs[i*vpf] = Vec{Buf: b.Put(b.Tailroom())}
			if vpf == 2 {
				fio.Vecs[i*vpf+1] = Vec{Buf: spill[i]}
			}
			if fio.Meta != nil {
				fio.Meta[i] = Meta{}
			}
		}
		n, err := dr.port.Read(fio, Block)
		for i := 0; i < n; i++ {
			b := dr.take(fio, slots, i)
			if b == nil {
				dr.rxDrops.Add(1)
				continue
			}
			if fio.Meta != nil {
				ApplyMeta(b, fio.Meta[i])
			}
			bt.Add(b)
		}
		kick := false
		if bt.Len() > 0 {
			if d := dr.napi.Enqueue(bt); d > 0 {
				dr.rxDrops.Add(uint64(d))
				kick = true
			}
		}
		if s := dr.port.Stats(); s.RxDrops != seen.RxDrops || s.RxErrors != seen.RxErrors {
			seen, kick = s, true
		}
		if err != nil && !errors.Is(err, ErrFrameTooBig) && !errors.Is(err, ErrWouldBlock) {
			// Closed by Uninit, by the peer, or failed: either way
			// there is nothing more to read.
			dr.lost.Store(true)
			dr.kick()
			return
		}
		if kick {
			dr.kick()
		}
	}
}

// take returns the Buf for frame i: the slot's own buffer when the frame
// fit in it (the slot is then refilled), or a copy of a spilled frame;
// nil when no buffer is available.
func (dr *driver) take(fio *FrameIO, slots []*skb.Buf, i int) *skb.Buf {
	vs := fio.Frame(i)
	b := slots[i]
	if len(vs) == 1 || vs[1].Len == 0 {
		b.Trim(vs[0].Len)
		slots[i] = nil
		return b
	}
	big := dr.pool.Get(skb.DefaultHeadroom, vs[0].Len+vs[1].Len)
	if big == nil {
		return nil
	}
	big.Append(vs[0].Buf[:vs[0].Len])
	big.Append(vs[1].Buf[:vs[1].Len])
	return big
}
