package socket

import (
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/usnet/usnet/executor"
)

// signal is a level-free wake-up: the executor side calls raise, a waiting
// goroutine wakes once. A missed raise is impossible because waiters
// re-check the endpoint state after every wake-up.
type signal chan struct{}

func newSignal() signal { return make(signal, 1) }

func (s signal) raise() {
	select {
	case s <- struct{}{}:
	default:
	}
}

// deadline is one direction's deadline with its own wake-up, as the net
// package's pollDesc has.
type deadline struct {
	mu    sync.Mutex
	t     time.Time
	timer *time.Timer
	ch    chan struct{} // closed when the deadline passes
}

func newDeadline() *deadline { return &deadline{ch: make(chan struct{})} }

// set arms the deadline; the zero time clears it.
func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	select {
	case <-d.ch:
		d.ch = make(chan struct{})
	default:
	}
	d.t = t
	if t.IsZero() {
		return
	}
	if dur := time.Until(t); dur <= 0 {
		close(d.ch)
	} else {
		ch := d.ch
		d.timer = time.AfterFunc(dur, func() { close(ch) })
	}
}

// done returns the channel closed at the deadline.
func (d *deadline) done() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ch
}

func (d *deadline) expired() bool {
	select {
	case <-d.done():
		return true
	default:
		return false
	}
}

// opError wraps err as the net package does for a kernel socket.
func opError(op, network string, src, dst net.Addr, syscallName string, err error) error {
	if err == nil {
		return nil
	}
	if err == os.ErrDeadlineExceeded || err == net.ErrClosed {
		return &net.OpError{Op: op, Net: network, Source: src, Addr: dst, Err: err}
	}
	if syscallName != "" {
		err = os.NewSyscallError(syscallName, err)
	}
	return &net.OpError{Op: op, Net: network, Source: src, Addr: dst, Err: err}
}

// endpoint is the goroutine-side state every socket type shares: the
// executor, the readiness signal its endpoint raises, the deadlines and
// the closed state.
type endpoint struct {
	exec     executor.Executor
	readable signal
	// idle is set on the executor when a read would find nothing, and
	// cleared there before readable is raised: waitRead then waits for
	// the signal instead of asking the executor first. Endpoints that
	// never set it ask every time.
	idle    atomic.Bool
	rd, wd  *deadline
	closed  atomic.Bool
	closeCh chan struct{}
}

func newEndpoint(exec executor.Executor) endpoint {
	return endpoint{exec: exec, readable: newSignal(), rd: newDeadline(), wd: newDeadline(), closeCh: make(chan struct{})}
}

// waitRead runs try on the executor until it reports that it got something
// (or an error), waiting between tries for readiness, the read deadline or
// Close. It returns net.ErrClosed or os.ErrDeadlineExceeded when those
// end the wait.
func (e *endpoint) waitRead(try func() bool) error {
	for {
		if e.closed.Load() {
			return net.ErrClosed
		}
		if !e.idle.Load() {
			var got bool
			e.exec.Do(func() { got = try() })
			if got {
				return nil
			}
		}
		if e.rd.expired() {
			return os.ErrDeadlineExceeded
		}
		select {
		case <-e.readable:
		case <-e.rd.done():
		case <-e.closeCh:
		}
	}
}

// onReadable is the endpoint's readiness callback on the executor.
func (e *endpoint) onReadable() {
	e.idle.Store(false)
	e.readable.raise()
}

// markClosed records Close; it reports false if it was closed already.
func (e *endpoint) markClosed() bool {
	if e.closed.Swap(true) {
		return false
	}
	close(e.closeCh)
	return true
}

// SetDeadline sets both deadlines.
func (e *endpoint) SetDeadline(t time.Time) error { e.rd.set(t); e.wd.set(t); return nil }

// SetReadDeadline sets the read deadline.
func (e *endpoint) SetReadDeadline(t time.Time) error { e.rd.set(t); return nil }

// SetWriteDeadline sets the write deadline.
func (e *endpoint) SetWriteDeadline(t time.Time) error { e.wd.set(t); return nil }
