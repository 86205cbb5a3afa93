package sockproxy

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// stream joins a usnet connection to a client's data descriptor (ux)
// and serves the socket's control descriptor (ctl). Three goroutines:
// up copies usnet → client, down client → usnet, and control answers
// requests and ends the connection when the client closes it.
type stream struct {
	conn    net.Conn
	ux, ctl *net.UnixConn
	// linger is SO_LINGER as the client set it (-1: off).
	linger atomic.Int32
	// drained is closed when down has passed on everything the client
	// wrote: the data descriptor reached EOF (or failed).
	drained chan struct{}

	mu      sync.Mutex
	eof     bool          // down saw the client's EOF
	wantFIN bool          // the client asked for shutdown(SHUT_WR)
	soErr   syscall.Errno // why the usnet connection ended, until read (SO_ERROR)
}

// closeWriter and closeReader are a connection's half closes.
type closeWriter interface{ CloseWrite() error }
type closeReader interface{ CloseRead() error }

// serveStream hands conn over to the client with reply r.
func serveStream(c *net.UnixConn, conn net.Conn, r Reply) error {
	ux, ctl, err := handOver(c, unix.SOCK_STREAM, r)
	if err != nil {
		conn.Close()
		return err
	}
	s := &stream{conn: conn, ux: ux, ctl: ctl, drained: make(chan struct{})}
	s.linger.Store(-1)
	go s.up()
	go s.down()
	go s.control()
	return nil
}

// up copies what the usnet connection receives to the client; its EOF
// (the peer's FIN, or shutdown(SHUT_RD)) becomes EOF for the client.
// A connection that failed (reset, timed out) ends the same way, with
// its errno kept for the client's SO_ERROR query, which turns that EOF
// into the error a kernel socket's read returns; the client's next
// writes fail (down closes the descriptor).
func (s *stream) up() {
	buf := make([]byte, 64<<10)
	for {
		n, err := s.conn.Read(buf)
		if n > 0 {
			if _, werr := s.ux.Write(buf[:n]); werr != nil {
				return // the client closed or shut down its reading side
			}
		}
		if err != nil {
			var errno syscall.Errno
			if errors.As(err, &errno) {
				s.mu.Lock()
				s.soErr = errno
				s.mu.Unlock()
			}
			s.ux.CloseWrite()
			return
		}
	}
}

// takeError is getsockopt(SO_ERROR): the pending error, then none.
func (s *stream) takeError() Reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := Reply{Int: int(s.soErr)}
	s.soErr = 0
	return r
}

// down copies what the client writes into the usnet connection until
// the client's EOF, which is a FIN only once the client says it was
// shutdown(SHUT_WR) rather than close (see control).
func (s *stream) down() {
	defer close(s.drained)
	buf := make([]byte, 64<<10)
	for {
		n, err := s.ux.Read(buf)
		if n > 0 {
			if _, werr := s.conn.Write(buf[:n]); werr != nil {
				// The connection is gone: the client's writes fail
				// from now on, as they would on the kernel socket.
				s.ux.Close()
				return
			}
		}
		if err != nil {
			if errors.Is(err, syscall.ECONNRESET) {
				// The client closed with data it had not read:
				// Linux's close answers that with a reset.
				s.setLinger(0)
			}
			s.mu.Lock()
			s.eof = true
			fin := s.wantFIN
			s.mu.Unlock()
			if fin {
				closeWrite(s.conn)
			}
			return
		}
	}
}

func closeWrite(c net.Conn) {
	if cw, ok := c.(closeWriter); ok {
		cw.CloseWrite()
	}
}

func (s *stream) setLinger(sec int) error {
	l, ok := s.conn.(interface{ SetLinger(int) error })
	if !ok {
		return syscall.ENOPROTOOPT
	}
	if err := l.SetLinger(sec); err != nil {
		return err
	}
	s.linger.Store(int32(max(sec, -1)))
	return nil
}

// control answers the client's requests until it closes the socket.
func (s *stream) control() {
	buf := make([]byte, maxControl)
	for {
		req, err := readRequest(s.ctl, buf)
		if err != nil {
			s.close() // the client's last descriptor of the socket went
			s.ctl.Close()
			return
		}
		var r Reply
		switch req.Op {
		case opClose:
			err := s.close()
			if err != nil {
				r = errReply(err)
			}
			reply(s.ctl, r)
			s.ctl.Close()
			return
		case opShutdown:
			err = s.shutdown(req.Int)
		case opSetsockopt:
			if req.Opt == optLinger {
				err = s.setLinger(req.Int)
			} else {
				err = setsockopt(s.conn, req)
			}
		case opGetsockopt:
			if req.Opt == optError {
				r = s.takeError()
			} else {
				r, err = getsockopt(s.conn, req)
			}
		default:
			err = syscall.EINVAL
		}
		if err != nil {
			r = errReply(err)
		}
		if reply(s.ctl, r) != nil {
			s.close()
			s.ctl.Close()
			return
		}
	}
}

// shutdown is shutdown(2) on the usnet connection. SHUT_WR waits in the
// background for the client's EOF on the data descriptor, so that the
// FIN follows every byte written before it.
func (s *stream) shutdown(how int) error {
	if how != unix.SHUT_RD && how != unix.SHUT_WR && how != unix.SHUT_RDWR {
		return syscall.EINVAL
	}
	if how != unix.SHUT_WR {
		cr, ok := s.conn.(closeReader)
		if !ok {
			return syscall.EOPNOTSUPP
		}
		if err := cr.CloseRead(); err != nil {
			return err
		}
	}
	if how != unix.SHUT_RD {
		s.mu.Lock()
		s.wantFIN = true
		eof := s.eof
		s.mu.Unlock()
		if eof {
			closeWrite(s.conn)
		}
	}
	return nil
}

// close is close(2) on the usnet connection, once everything the client
// wrote has reached it; with SO_LINGER 0 at once, as a reset discards
// unsent data anyway. A positive linger makes it wait, as on Linux.
func (s *stream) close() error {
	if s.linger.Load() != 0 {
		<-s.drained
	}
	err := s.conn.Close()
	s.ux.Close()
	<-s.drained
	return err
}
