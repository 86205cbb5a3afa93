package framedio

import (
	"fmt"
	"sync"
)

// End is one side of an in-memory pair of ports. What one end writes the
// other reads, in order, with its offload Meta. The frames in flight from
// A to B are bounded by min(A's txbuf, B's rxbuf) bytes: the pair never
// drops for lack of room, it pushes back on the writer (flow control), so
// the writer decides whether to wait or drop.
type End struct {
	p    *pair
	in   *queue // frames for this end to read
	out  *queue // frames this end writes
	peer *End

	rxbuf, txbuf int // guarded by p.mu
	closed       bool
	ctr          Counters
	info         Info
}

type pair struct {
	mu   sync.Mutex
	cond *sync.Cond
}

type qframe struct {
	data []byte
	meta Meta
}

// queue is one direction's FIFO, counted in bytes.
type queue struct {
	frames []qframe
	head   int
	bytes  int
	free   [][]byte // recycled frame storage
}

func (q *queue) empty() bool { return q.head == len(q.frames) }

func (q *queue) push(fio *FrameIO, i int) {
	var d []byte
	if n := len(q.free); n > 0 {
		d, q.free = q.free[n-1][:0], q.free[:n-1]
	}
	d = fio.Gather(d, i)
	f := qframe{data: d}
	if fio.Meta != nil {
		f.meta = fio.Meta[i]
	}
	if q.head > 0 && q.head >= len(q.frames)/2 {
		n := copy(q.frames, q.frames[q.head:])
		clear(q.frames[n:])
		q.frames, q.head = q.frames[:n], 0
	}
	q.frames = append(q.frames, f)
	q.bytes += len(d)
}

func (q *queue) pop() {
	f := q.frames[q.head]
	q.frames[q.head] = qframe{}
	q.head++
	q.bytes -= len(f.data)
	if len(q.free) < 256 {
		q.free = append(q.free, f.data)
	}
	if q.empty() {
		q.frames, q.head = q.frames[:0], 0
	}
}

// Pair returns two connected in-memory ports. info describes both ends to
// a device that bridges them (MaxFrame 0 means 1514, MTU 0 means 1500).
func Pair(info Info) (*End, *End) {
	if info.MaxFrame == 0 {
		info.MaxFrame = 1514
	}
	if info.MTU == 0 {
		info.MTU = 1500
	}
	if info.Kind == "" {
		info.Kind = "framedio"
	}
	p := &pair{}
	p.cond = sync.NewCond(&p.mu)
	ab, ba := &queue{}, &queue{}
	a := &End{p: p, in: ba, out: ab, rxbuf: DefaultBuf, txbuf: DefaultBuf, info: info}
	b := &End{p: p, in: ab, out: ba, rxbuf: DefaultBuf, txbuf: DefaultBuf, info: info}
	a.peer, b.peer = b, a
	return a, b
}

// Info returns the description given to Pair.
func (e *End) Info() Info { return e.info }

// Stats returns the end's counters.
func (e *End) Stats() Stats { return e.ctr.Snapshot() }

// SetBufs sets the end's rxbuf and txbuf (0 keeps one); ERANGE outside
// [MinBuf, MaxBuf]. Shrinking below what is queued drops nothing: writers
// wait until readers have drained below the new bound.
func (e *End) SetBufs(rx, tx int) error {
	for _, n := range []int{rx, tx} {
		if n != 0 {
			if err := CheckBuf(n); err != nil {
				return err
			}
		}
	}
	e.p.mu.Lock()
	defer e.p.mu.Unlock()
	if rx != 0 {
		e.rxbuf = rx
	}
	if tx != 0 {
		e.txbuf = tx
	}
	e.p.cond.Broadcast()
	return nil
}

// Bufs returns rxbuf and txbuf.
func (e *End) Bufs() (int, int) {
	e.p.mu.Lock()
	defer e.p.mu.Unlock()
	return e.rxbuf, e.txbuf
}

// Close closes the end: its calls return ErrClosed, the peer's writes
// return ErrClosed and the peer's reads drain what is queued first.
func (e *End) Close() error {
	e.p.mu.Lock()
	e.closed = true
	e.p.cond.Broadcast()
	e.p.mu.Unlock()
	return nil
}

// Write queues the frames of fio for the peer. A frame larger than the
// bound can never move: it is dropped and counted in TxDrops.
func (e *End) Write(fio *FrameIO, fc FlowControl) (int, error) {
	if err := fio.check(); err != nil {
		return 0, err
	}
	e.p.mu.Lock()
	defer e.p.mu.Unlock()
	n, waited := 0, false
	for n < fio.Frames() {
		if e.closed || e.peer.closed {
			return n, ErrClosed
		}
		l := fio.FrameLen(n)
		bound := min(e.txbuf, e.peer.rxbuf)
		if l > bound {
			e.ctr.TxDrops.Add(1)
			n++
			continue
		}
		if e.out.bytes+l > bound {
			if !waited {
				e.ctr.FlowControl.Add(1)
			}
			if fc == NonBlock {
				return n, ErrWouldBlock
			}
			if n > 0 {
				break
			}
			waited = true
			e.p.cond.Wait()
			continue
		}
		e.out.push(fio, n)
		e.ctr.TxFrames.Add(1)
		e.ctr.TxBytes.Add(uint64(l))
		n++
	}
	e.p.cond.Broadcast()
	return n, nil
}

// Read takes frames written by the peer. A frame that does not fit in its
// vectors is dropped and counted in RxErrors.
func (e *End) Read(fio *FrameIO, fc FlowControl) (int, error) {
	if err := fio.check(); err != nil {
		return 0, err
	}
	e.p.mu.Lock()
	defer e.p.mu.Unlock()
	for e.in.empty() {
		switch {
		case e.closed || e.peer.closed:
			return 0, ErrClosed
		case fc == NonBlock:
			return 0, ErrWouldBlock
		}
		e.p.cond.Wait()
	}
	if e.closed {
		return 0, ErrClosed
	}
	n, tooBig := 0, 0
	for n < fio.Frames() && !e.in.empty() {
		f := &e.in.frames[e.in.head]
		if !fio.Scatter(n, f.data) {
			e.ctr.RxErrors.Add(1)
			tooBig++
			e.in.pop()
			continue
		}
		if fio.Meta != nil {
			fio.Meta[n] = f.meta
		}
		e.ctr.RxFrames.Add(1)
		e.ctr.RxBytes.Add(uint64(len(f.data)))
		e.in.pop()
		n++
	}
	e.p.cond.Broadcast()
	if n == 0 && tooBig > 0 {
		return 0, fmt.Errorf("%w (%d frames)", ErrFrameTooBig, tooBig)
	}
	return n, nil
}

var _ Port = (*End)(nil)
