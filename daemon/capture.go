package daemon

import (
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/usnet/usnet/capture"
)

// captureQueue bounds the datagrams waiting for a slow capture client;
// beyond it, captured data is dropped rather than blocking the executor.
const captureQueue = 1024

// queueWriter hands writes from the executor to a sender goroutine
// without ever blocking (a full queue drops, and counts).
type queueWriter struct {
	ch      chan []byte
	dropped atomic.Uint64
}

func (q *queueWriter) Write(p []byte) (int, error) {
	select {
	case q.ch <- append([]byte(nil), p...):
	default:
		q.dropped.Add(1)
	}
	return len(p), nil
}

// serveCapture streams a device's traffic as pcapng (`usnet capture`).
func (s *Server) serveCapture(c *net.UnixConn, arg string) {
	nsName, devName, ok := strings.Cut(arg, "/")
	if !ok {
		c.Write(errReply(fmt.Errorf("capture wants NS/DEV: %w", syscall.EINVAL)))
		return
	}
	ns := s.Stack.Default()
	if nsName != "" {
		ns = s.Stack.Get(nsName)
	}
	if ns == nil {
		c.Write(errReply(fmt.Errorf("namespace %q: %w", nsName, syscall.ENOENT)))
		return
	}
	q := &queueWriter{ch: make(chan []byte, captureQueue)}
	var cp *capture.Capture
	var err error
	ns.Exec().Do(func() {
		d := ns.Dev.ByName(devName)
		if d == nil {
			err = fmt.Errorf("device %q: %w", devName, syscall.ENODEV)
			return
		}
		cp, err = capture.Start(d, q, capture.Options{})
	})
	if err != nil {
		c.Write(errReply(err))
		return
	}
	if _, err := c.Write(okReply("")); err != nil {
		ns.Exec().Do(func() { cp.Stop() })
		return
	}
	closed := make(chan struct{})
	go func() { // the client ends the capture by closing
		buf := make([]byte, 64)
		for {
			if _, err := c.Read(buf); err != nil {
				close(closed)
				return
			}
		}
	}()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case p := <-q.ch:
			if _, err := c.Write(p); err != nil {
				ns.Exec().Do(func() { cp.Stop() })
				return
			}
		case <-tick.C:
			ns.Exec().Do(func() { cp.Flush() })
		case <-closed:
			ns.Exec().Do(func() { cp.Stop() })
			return
		}
	}
}

// Capture opens a live capture of device dev in namespace ns: the
// connection then delivers a pcapng stream; closing it ends the capture.
// Read it with buffers of at least 1 MiB: a datagram read short loses its
// rest.
func Capture(path, ns, dev string) (*net.UnixConn, error) {
	c, _, err := dial(path, VerbCapture, ns+"/"+dev)
	return c, err
}
