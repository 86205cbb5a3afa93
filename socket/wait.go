package socket

import (
	"net"
	"os"
	"sync"
	"time"
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
