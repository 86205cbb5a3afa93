package sockproxy

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
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
// unix connection) with sockets of ns, until c is closed or ctx ends. The
// goroutines it starts to join data descriptors to usnet sockets end when
// either side closes.
func Serve(ctx context.Context, c *net.UnixConn, ns Namespace) error {
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
			if err := send(c, Reply{Errno: int(syscall.EINVAL), Err: "bad request: " + err.Error()}, -1); err != nil {
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
			err = send(c, Reply{Errno: int(syscall.EOPNOTSUPP), Err: "unknown op " + req.Op}, -1)
		}
		if err != nil {
			return err
		}
	}
}

// send writes a reply with an optional descriptor.
func send(c *net.UnixConn, r Reply, fd int) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	var oob []byte
	if fd >= 0 {
		oob = unix.UnixRights(fd)
	}
	_, _, err = c.WriteMsgUnix(b, oob, nil)
	return err
}

// sendErr reports err with its errno.
func sendErr(c *net.UnixConn, err error) error {
	r := Reply{Errno: int(syscall.EIO), Err: err.Error()}
	var en syscall.Errno
	var un net.UnknownNetworkError
	switch {
	case errors.As(err, &en):
		r.Errno = int(en)
	case errors.As(err, &un):
		r.Errno = int(syscall.EPROTONOSUPPORT)
	}
	return send(c, r, -1)
}

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

// closeWriter is a connection with a half close (TCP's FIN).
type closeWriter interface{ CloseWrite() error }

func serveDial(ctx context.Context, c *net.UnixConn, ns Namespace, req Request) error {
	conn, err := ns.DialContext(ctx, req.Net, req.Addr)
	if err != nil {
		return sendErr(c, err)
	}
	return handOver(c, conn, Reply{Laddr: conn.LocalAddr().String(), Raddr: conn.RemoteAddr().String()})
}

// handOver passes the client a stream descriptor joined to conn.
func handOver(c *net.UnixConn, conn net.Conn, r Reply) error {
	ux, fd, err := pair(unix.SOCK_STREAM)
	if err != nil {
		conn.Close()
		return sendErr(c, err)
	}
	err = send(c, r, fd)
	unix.Close(fd)
	if err != nil {
		conn.Close()
		ux.Close()
		return err
	}
	go splice(conn, ux)
	return nil
}

// splice copies both ways between a usnet stream and the client's
// descriptor, turning EOF into a half close on the other side.
func splice(conn net.Conn, ux *net.UnixConn) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if _, err := io.Copy(ux, conn); err != nil {
			ux.Close() // reset or error: the client sees it at once
			return
		}
		ux.CloseWrite()
	}()
	go func() {
		defer wg.Done()
		if _, err := io.Copy(conn, ux); err != nil {
			conn.Close()
			return
		}
		if cw, ok := conn.(closeWriter); ok {
			cw.CloseWrite()
		}
	}()
	wg.Wait()
	conn.Close()
	ux.Close()
}

// serveListener accepts until the client closes the control connection.
func serveListener(c *net.UnixConn, l net.Listener) error {
	if err := send(c, Reply{Laddr: l.Addr().String()}, -1); err != nil {
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
		if err := handOver(c, conn, Reply{Op: "accept", Laddr: conn.LocalAddr().String(), Raddr: conn.RemoteAddr().String()}); err != nil {
			break
		}
	}
	l.Close()
	c.Close()
	<-done
	return nil
}

// servePacket passes the client a datagram descriptor joined to pc;
// conn is pc as a connected net.Conn, or nil.
func servePacket(c *net.UnixConn, pc net.PacketConn, conn net.Conn) error {
	ux, fd, err := pair(unix.SOCK_SEQPACKET)
	if err != nil {
		pc.Close()
		return sendErr(c, err)
	}
	r := Reply{Laddr: pc.LocalAddr().String()}
	if conn != nil {
		r.Raddr = conn.RemoteAddr().String()
	}
	err = send(c, r, fd)
	unix.Close(fd)
	if err != nil {
		pc.Close()
		ux.Close()
		return err
	}
	go func() { // usnet -> client
		buf := make([]byte, addrHeader+maxDatagram)
		for {
			var n, ttl int
			var from net.Addr
			var err error
			if tr, ok := pc.(ttlReader); ok {
				n, from, ttl, err = tr.ReadFromTTL(buf[addrHeader:])
			} else {
				n, from, err = pc.ReadFrom(buf[addrHeader:])
			}
			if err != nil {
				var en syscall.Errno
				if errors.As(err, &en) {
					continue // an ICMP error on a connected socket: keep going
				}
				ux.Close()
				return
			}
			putAddr(buf, addrPortOf(from))
			buf[6] = byte(ttl)
			if _, err := ux.Write(buf[:addrHeader+n]); err != nil {
				pc.Close()
				return
			}
		}
	}()
	go func() { // client -> usnet
		buf := make([]byte, addrHeader+maxDatagram)
		for {
			n, err := ux.Read(buf)
			if err != nil || n == 0 {
				pc.Close()
				ux.Close()
				return
			}
			if n < addrHeader {
				continue
			}
			to := getAddr(buf)
			p := buf[addrHeader:n]
			if to.Addr().IsUnspecified() && conn != nil {
				conn.Write(p)
			} else {
				pc.WriteTo(p, net.UDPAddrFromAddrPort(to))
			}
		}
	}()
	return nil
}

func addrPortOf(a net.Addr) netip.AddrPort {
	switch a := a.(type) {
	case *net.UDPAddr:
		return a.AddrPort()
	case *net.TCPAddr:
		return a.AddrPort()
	}
	return netip.AddrPort{}
}
