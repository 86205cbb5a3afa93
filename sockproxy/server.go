package sockproxy

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// Namespace is where the server opens sockets (stack.Namespace is one).
type Namespace interface {
	DialContext(ctx context.Context, network, addr string) (net.Conn, error)
	Listen(network, addr string) (net.Listener, error)
	ListenPacket(network, addr string) (net.PacketConn, error)
}

// maxControl bounds a control message.
const maxControl = 4096

// Serve answers requests on the control connection c (a SOCK_SEQPACKET
// unix connection) with sockets of ns, for a client with credentials
// cred, until c is closed or ctx ends. The goroutines it starts to join
// data descriptors to usnet sockets end when the client closes them or
// the usnet socket dies.
func Serve(ctx context.Context, c *net.UnixConn, ns Namespace, cred Cred) error {
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	buf := make([]byte, maxControl)
	for {
		n, _, _, _, err := c.ReadMsgUnix(buf, nil)
		if err != nil || n == 0 {
			return nil // the client went away
		}
		var req Request
		if err := json.Unmarshal(buf[:n], &req); err != nil {
			if err := send(c, Reply{Errno: int(syscall.EINVAL), Err: "bad request: " + err.Error()}, -1, -1); err != nil {
				return err
			}
			continue
		}
		if err := cred.permit(req, ns); err != nil {
			if err := sendErr(c, &net.OpError{Op: req.Op, Net: req.Net, Err: os.NewSyscallError(syscallOf(req), err)}); err != nil {
				return err
			}
			continue
		}
		switch req.Op {
		case "dial":
			if req.Net == "udp" || req.Net == "udp4" {
				conn, err := ns.DialContext(ctx, req.Net, req.Addr)
				if err != nil {
					if err := sendErr(c, err); err != nil {
						return err
					}
					continue
				}
				err = servePacket(c, conn.(net.PacketConn), conn)
			} else {
				err = serveDial(ctx, c, ns, req)
			}
		case "listen":
			l, err := ns.Listen(req.Net, req.Addr)
			if err != nil {
				if err := sendErr(c, err); err != nil {
					return err
				}
				continue
			}
			return serveListener(c, l)
		case "listenpacket":
			pc, err := ns.ListenPacket(req.Net, req.Addr)
			if err != nil {
				if err := sendErr(c, err); err != nil {
					return err
				}
				continue
			}
			err = servePacket(c, pc, nil)
		default:
			err = send(c, Reply{Errno: int(syscall.EOPNOTSUPP), Err: "unknown op " + req.Op}, -1, -1)
		}
		if err != nil {
			return err
		}
	}
}

// syscallOf names the system call that refuses req on Linux.
func syscallOf(req Request) string {
	switch req.Net {
	case "ip4:icmp", "ip4:1", "udp4:icmp":
		return "socket"
	}
	return "bind"
}

// send writes a reply with optional descriptors (-1: none).
func send(c *net.UnixConn, r Reply, fd, ctl int) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	var oob []byte
	switch {
	case fd >= 0 && ctl >= 0:
		oob = unix.UnixRights(fd, ctl)
	case fd >= 0:
		oob = unix.UnixRights(fd)
	}
	_, _, err = c.WriteMsgUnix(b, oob, nil)
	return err
}

// errReply is err as a reply, with its errno.
func errReply(err error) Reply {
	r := Reply{Errno: int(syscall.EIO), Err: err.Error()}
	var en syscall.Errno
	var un net.UnknownNetworkError
	var se *os.SyscallError
	if errors.As(err, &se) {
		r.Syscall = se.Syscall
	}
	switch {
	case errors.As(err, &en):
		r.Errno = int(en)
	case errors.As(err, &un):
		r.Errno = int(syscall.EPROTONOSUPPORT)
	}
	return r
}

// sendErr reports err with its errno.
func sendErr(c *net.UnixConn, err error) error { return send(c, errReply(err), -1, -1) }

// pair makes a socketpair and returns our end as a net.Conn and the
// client's end as a raw descriptor the caller passes and closes.
func pair(typ int) (*net.UnixConn, int, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, typ|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, -1, err
	}
	f := os.NewFile(uintptr(fds[0]), "usnet-sockproxy")
	fc, err := net.FileConn(f)
	f.Close()
	if err != nil {
		unix.Close(fds[1])
		return nil, -1, err
	}
	return fc.(*net.UnixConn), fds[1], nil
}

// handOver sends reply r with a data descriptor of type typ and a
// control descriptor, and returns the server's ends.
func handOver(c *net.UnixConn, typ int, r Reply) (data, ctl *net.UnixConn, err error) {
	data, dfd, err := pair(typ)
	if err != nil {
		sendErr(c, err)
		return nil, nil, err
	}
	ctl, cfd, err := pair(unix.SOCK_SEQPACKET)
	if err != nil {
		data.Close()
		unix.Close(dfd)
		sendErr(c, err)
		return nil, nil, err
	}
	err = send(c, r, dfd, cfd)
	unix.Close(dfd)
	unix.Close(cfd)
	if err != nil {
		data.Close()
		ctl.Close()
		return nil, nil, err
	}
	return data, ctl, nil
}

func serveDial(ctx context.Context, c *net.UnixConn, ns Namespace, req Request) error {
	conn, err := ns.DialContext(ctx, req.Net, req.Addr)
	if err != nil {
		return sendErr(c, err)
	}
	return serveStream(c, conn, Reply{Laddr: conn.LocalAddr().String(), Raddr: conn.RemoteAddr().String()})
}

// serveListener accepts until the client closes the control connection.
func serveListener(c *net.UnixConn, l net.Listener) error {
	if err := send(c, Reply{Laddr: l.Addr().String()}, -1, -1); err != nil {
		l.Close()
		return err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 64)
		for {
			if _, _, _, _, err := c.ReadMsgUnix(buf, nil); err != nil {
				break
			}
		}
		l.Close()
	}()
	for {
		conn, err := l.Accept()
		if err != nil {
			break
		}
		if err := serveStream(c, conn, Reply{Op: "accept", Laddr: conn.LocalAddr().String(), Raddr: conn.RemoteAddr().String()}); err != nil {
			break
		}
	}
	l.Close()
	c.Close()
	<-done
	return nil
}

// reply answers a request on a socket's control descriptor.
func reply(ctl *net.UnixConn, r Reply) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = ctl.Write(b)
	return err
}

// readRequest reads the next request on a socket's control descriptor;
// an error means the client closed it. A request that does not decode
// has the op "" (answered EINVAL).
func readRequest(ctl *net.UnixConn, buf []byte) (Request, error) {
	n, err := ctl.Read(buf)
	if err == nil && n == 0 {
		err = net.ErrClosed
	}
	if err != nil {
		return Request{}, err
	}
	var req Request
	if json.Unmarshal(buf[:n], &req) != nil {
		req = Request{}
	}
	return req, nil
}
