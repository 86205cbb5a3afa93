package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/usnet/usnet/netns"
	"github.com/usnet/usnet/rtnl"
	"github.com/usnet/usnet/sockproxy"
	"github.com/usnet/usnet/stack"
)

// Server serves a stack's rtnetlink and namespace management on a unix
// SOCK_SEQPACKET socket.
type Server struct {
	Stack *stack.Stack
	RTNL  *rtnl.Server

	path string
	ln   *net.UnixListener
	uid  int
	// adminGID is the administrators' group (-1: none).
	adminGID int64
	// identify reads a connection's peer (a test replaces it).
	identify func(*net.UnixConn) (peer, error)

	mu     sync.Mutex
	conns  map[*net.UnixConn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// Listen creates the socket at path (its directory too) with mode 0660,
// replacing a stale socket file, and returns a server for st.
func Listen(path string, st *stack.Stack) (*Server, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
		// A live daemon answers; a stale file from a crashed one does not.
		if c, err := net.Dial("unixpacket", path); err == nil {
			c.Close()
			return nil, fmt.Errorf("%s: a daemon is listening: %w", path, syscall.EADDRINUSE)
		}
		os.Remove(path)
	}
	ln, err := net.ListenUnix("unixpacket", &net.UnixAddr{Name: path, Net: "unixpacket"})
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, 0o660); err != nil {
		ln.Close()
		return nil, err
	}
	return &Server{Stack: st, RTNL: rtnl.New(st), path: path, ln: ln, uid: os.Getuid(),
		adminGID: -1, identify: identify, conns: map[*net.UnixConn]struct{}{}}, nil
}

// Path returns the socket path.
func (s *Server) Path() string { return s.path }

// Serve accepts connections until Close.
func (s *Server) Serve() error {
	for {
		c, err := s.ln.AcceptUnix()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return nil
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.serveConn(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
			c.Close()
		}()
	}
}

// Close stops accepting, ends every connection and removes the socket
// file.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	err := s.ln.Close() // removes the socket file
	s.wg.Wait()
	return err
}

func (s *Server) serveConn(c *net.UnixConn) {
	p, err := s.identify(c)
	if err != nil {
		return
	}
	admin := s.admin(p)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil {
		return
	}
	c.SetReadDeadline(time.Time{})
	verb, arg, err := parseHello(buf[:n])
	if err != nil {
		c.Write(errReply(fmt.Errorf("bad hello: %w", err)))
		return
	}
	switch verb {
	case VerbRtnetlink:
		s.serveNetlink(c, arg, rtnl.Cred{PID: p.pid, UID: p.uid, GID: p.gid, Admin: admin})
	case VerbNetnsAdd, VerbNetnsDel:
		if !admin {
			refuse(c, verb, syscall.EPERM) // CAP_SYS_ADMIN on Linux
			return
		}
		if verb == VerbNetnsAdd {
			_, err = s.Stack.Add(arg)
		} else {
			err = s.Stack.Delete(arg)
		}
		if err != nil {
			c.Write(errReply(err))
			return
		}
		c.Write(okReply(""))
	case VerbNetnsList:
		var names []string
		for _, n := range s.Stack.List() {
			if n.Name() != netns.DefaultName {
				names = append(names, n.Name())
			}
		}
		c.Write(okReply(strings.Join(names, "\x00")))
	case VerbNetnsID:
		ns := s.Stack.Get(arg)
		if ns == nil {
			c.Write(errReply(fmt.Errorf("namespace %q: %w", arg, syscall.ENOENT)))
			return
		}
		c.Write(okReply(strconv.FormatUint(uint64(ns.Net.ID()), 10)))
	case VerbCapture:
		if !admin {
			refuse(c, verb, syscall.EPERM) // a packet socket needs CAP_NET_RAW
			return
		}
		s.serveCapture(c, arg)
	case VerbPortStats:
		s.servePortStats(c, arg)
	case VerbSysctl:
		s.serveSysctl(c, arg, admin)
	case VerbSocket:
		ns := s.Stack.Get(arg)
		if arg == "" {
			ns = s.Stack.Default()
		}
		if ns == nil {
			c.Write(errReply(fmt.Errorf("namespace %q: %w", arg, syscall.ENOENT)))
			return
		}
		if _, err := c.Write(okReply("")); err != nil {
			return
		}
		cred := sockproxy.Cred{Privileged: admin, Groups: append([]uint32{p.gid}, p.groups...)}
		sockproxy.Serve(context.Background(), c, limitedNS{ns}, cred)
	default:
		c.Write(errReply(fmt.Errorf("unknown service %q: %w", verb, syscall.EPROTONOSUPPORT)))
	}
}

// serveNetlink pumps datagrams between the connection and an rtnl
// socket: one goroutine per direction.
func (s *Server) serveNetlink(c *net.UnixConn, ns string, cred rtnl.Cred) {
	sock, err := s.RTNL.Open(ns, cred)
	if err != nil {
		c.Write(errReply(err))
		return
	}
	if _, err := c.Write(okReply(strconv.FormatUint(uint64(sock.PortID()), 10))); err != nil {
		sock.Close()
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Datagrams pass whole: one larger than the buffer (the
		// NLMSG_ERROR echoing a large request) grows it for the while.
		buf := make([]byte, 0, 64<<10)
		for {
			if cap(buf) > 1<<20 {
				buf = make([]byte, 0, 64<<10)
			}
			var err error
			buf, err = sock.RecvAppend(buf[:0])
			d := buf
			switch {
			case errors.Is(err, syscall.ENOBUFS), errors.Is(err, syscall.EMSGSIZE):
				// A socket error (overrun, a notification too large to
				// build) reaches the client as recvmsg would report it.
				d = errDatagram(err.(syscall.Errno))
			case err != nil:
				c.Close() // the socket was closed
				return
			}
			if _, err := c.Write(d); err != nil {
				sock.Close()
				return
			}
		}
	}()
	buf := make([]byte, maxDatagram)
	for {
		n, err := c.Read(buf)
		if err != nil || n == 0 {
			if err == nil || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || n == 0 {
				break
			}
			break
		}
		if op, arg, ok := parseCtl(buf[:n]); ok {
			switch op {
			case ctlJoin:
				sock.Join(int(arg))
			case ctlLeave:
				sock.Leave(int(arg))
			case ctlOptionOn, ctlOptionOff:
				sock.SetOption(int(arg), op == ctlOptionOn)
			case ctlRcvBuf:
				sock.SetRcvBuf(int(arg))
			}
			continue
		}
		if err := sock.Send(buf[:n]); err != nil {
			break
		}
	}
	sock.Close()
	<-done
}

func asErrno(err error, e *syscall.Errno) bool { return errors.As(err, e) }
