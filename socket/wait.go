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
// package's pollDesc has. Most connections never set one, so the channel
// and the timer are made on the first set: until then done is nil, which
// a select never picks.
type deadline struct {
	mu    sync.Mutex
	t     time.Time
	timer *time.Timer   // fires d.fire at t; reused by later sets
	ch    chan struct{} // closed when the deadline passes
}

// set arms the deadline; the zero time clears it. It reports whether the
// deadline's channel was made now: a waiter that selected on the nil
// channel before must be woken to pick it up.
func (d *deadline) set(t time.Time) (made bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ch == nil {
		if t.IsZero() {
			return false
		}
		d.ch = make(chan struct{})
		made = true
	}
	if d.timer != nil {
		d.timer.Stop()
	}
	if isClosed(d.ch) {
		d.ch = make(chan struct{})
	}
	d.t = t
	if t.IsZero() {
		return made
	}
	if dur := time.Until(t); dur <= 0 {
		close(d.ch)
	} else if d.timer == nil {
		d.timer = time.AfterFunc(dur, d.fire)
	} else {
		d.timer.Reset(dur)
	}
	return made
}

// fire closes the channel if the deadline has passed: a timer stopped or
// reset too late to keep its function from running finds a deadline
// that was cleared or moved and leaves it.
func (d *deadline) fire() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ch == nil || d.t.IsZero() || isClosed(d.ch) {
		return
	}
	if dur := time.Until(d.t); dur > 0 {
		d.timer.Reset(dur)
		return
	}
	close(d.ch)
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// done returns the channel closed at the deadline (nil: none was ever set).
func (d *deadline) done() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ch
}

func (d *deadline) expired() bool {
	ch := d.done()
	return ch != nil && isClosed(ch)
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
// executor, the readiness signals its endpoint raises, the deadlines and
// the closed state.
type endpoint struct {
	exec     executor.Executor
	readable signal
	writable signal // nil for sockets whose writes never wait
	rd, wd   deadline
	closed   atomic.Bool
	closeCh  chan struct{}
}

func (e *endpoint) init(exec executor.Executor) {
	e.exec, e.readable, e.closeCh = exec, newSignal(), make(chan struct{})
}

// waitRead runs try on the executor until it reports that it got something
// (or an error), waiting between tries for readiness, the read deadline or
// Close. It returns net.ErrClosed or os.ErrDeadlineExceeded when those
// end the wait.
func (e *endpoint) waitRead(try func() bool) error {
	var got bool
	return e.waitFor(func() { got = try() }, &got, nil)
}

// waitFor is waitRead for callers that keep their executor function and
// its result across calls, so that a read allocates nothing: run sets
// *got. When idle is set, the executor has said nothing is there, and the
// wait starts without asking.
func (e *endpoint) waitFor(run func(), got *bool, idle *atomic.Bool) error {
	for {
		if e.closed.Load() {
			return net.ErrClosed
		}
		if idle == nil || !idle.Load() {
			*got = false
			e.exec.Do(run)
			if *got {
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

// markClosed records Close; it reports false if it was closed already.
func (e *endpoint) markClosed() bool {
	if e.closed.Swap(true) {
		return false
	}
	close(e.closeCh)
	return true
}

// SetDeadline sets both deadlines.
func (e *endpoint) SetDeadline(t time.Time) error {
	e.SetReadDeadline(t)
	return e.SetWriteDeadline(t)
}

// SetReadDeadline sets the read deadline. A deadline set while a read
// waits applies to that read, as in the net package: the first one wakes
// the reader so that it waits on the new channel.
func (e *endpoint) SetReadDeadline(t time.Time) error {
	if e.rd.set(t) {
		e.readable.raise()
	}
	return nil
}

// SetWriteDeadline sets the write deadline (waking a waiting writer, as
// SetReadDeadline does a reader).
func (e *endpoint) SetWriteDeadline(t time.Time) error {
	if e.wd.set(t) {
		e.writable.raise()
	}
	return nil
}
