package sockproxy

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// Client opens sockets in one remote namespace. Each call opens its own
// control connection with dial (which performs the daemon's hello).
type Client struct {
	dial func() (*net.UnixConn, error)
}

// NewClient returns a client whose control connections come from dial.
func NewClient(dial func() (*net.UnixConn, error)) *Client { return &Client{dial: dial} }

// roundTrip sends req on a new control connection and reads the reply and
// its descriptor (-1 when none). The caller owns c afterwards.
func (cl *Client) roundTrip(req Request) (*net.UnixConn, Reply, int, error) {
	c, err := cl.dial()
	if err != nil {
		return nil, Reply{}, -1, err
	}
	b, _ := json.Marshal(req)
	if _, _, err := c.WriteMsgUnix(b, nil, nil); err != nil {
		c.Close()
		return nil, Reply{}, -1, err
	}
	r, fd, err := readReply(c)
	if err != nil {
		c.Close()
		return nil, r, -1, err
	}
	return c, r, fd, nil
}

// readReply reads one reply and the descriptor attached to it.
func readReply(c *net.UnixConn) (Reply, int, error) {
	buf := make([]byte, maxControl)
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := c.ReadMsgUnix(buf, oob)
	if err != nil {
		return Reply{}, -1, err
	}
	if n == 0 {
		return Reply{}, -1, fmt.Errorf("sockproxy: connection closed by the daemon")
	}
	fd := -1
	if oobn > 0 {
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err == nil && len(msgs) > 0 {
			if fds, err := unix.ParseUnixRights(&msgs[0]); err == nil && len(fds) > 0 {
				fd = fds[0]
				for _, extra := range fds[1:] {
					unix.Close(extra)
				}
			}
		}
	}
	var r Reply
	if err := json.Unmarshal(buf[:n], &r); err != nil {
		if fd >= 0 {
			unix.Close(fd)
		}
		return r, -1, fmt.Errorf("sockproxy: bad reply: %w", err)
	}
	return r, fd, nil
}

// replyErr turns an error reply into what a kernel socket returns.
func replyErr(op, network string, addr net.Addr, r Reply) error {
	if r.Errno == 0 {
		return nil
	}
	return &net.OpError{Op: op, Net: network, Addr: addr, Err: os.NewSyscallError(op, syscall.Errno(r.Errno))}
}

func fdConn(fd int) (*net.UnixConn, error) {
	f := os.NewFile(uintptr(fd), "usnet-sockproxy")
	defer f.Close()
	c, err := net.FileConn(f)
	if err != nil {
		return nil, err
	}
	return c.(*net.UnixConn), nil
}

func tcpAddr(s string) net.Addr {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return &net.TCPAddr{}
	}
	return net.TCPAddrFromAddrPort(ap)
}

func udpAddr(s string) *net.UDPAddr {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return &net.UDPAddr{}
	}
	return net.UDPAddrFromAddrPort(ap)
}

// DialContext connects from the remote namespace ("tcp", "tcp4", "udp", "udp4").
func (cl *Client) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, r, fd, err := cl.roundTrip(Request{Op: "dial", Net: network, Addr: addr})
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	c.Close()
	if err := replyErr("dial", network, nil, r); err != nil {
		return nil, err
	}
	if fd < 0 {
		return nil, &net.OpError{Op: "dial", Net: network, Err: fmt.Errorf("sockproxy: no descriptor in reply")}
	}
	ux, err := fdConn(fd)
	if err != nil {
		return nil, err
	}
	switch network {
	case "udp", "udp4":
		return &PacketConn{UnixConn: ux, laddr: udpAddr(r.Laddr), raddr: udpAddr(r.Raddr)}, nil
	}
	return &TCPConn{UnixConn: ux, laddr: tcpAddr(r.Laddr), raddr: tcpAddr(r.Raddr)}, nil
}

// Listen announces a TCP listener in the remote namespace.
func (cl *Client) Listen(network, addr string) (net.Listener, error) {
	c, r, fd, err := cl.roundTrip(Request{Op: "listen", Net: network, Addr: addr})
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: network, Err: err}
	}
	if fd >= 0 {
		unix.Close(fd)
	}
	if err := replyErr("listen", network, nil, r); err != nil {
		c.Close()
		return nil, err
	}
	return &Listener{c: c, addr: tcpAddr(r.Laddr)}, nil
}

// ListenPacket opens a UDP ("udp", "udp4") or ping ("ip4:icmp") socket in
// the remote namespace.
func (cl *Client) ListenPacket(network, addr string) (net.PacketConn, error) {
	c, r, fd, err := cl.roundTrip(Request{Op: "listenpacket", Net: network, Addr: addr})
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: network, Err: err}
	}
	c.Close()
	if err := replyErr("listen", network, nil, r); err != nil {
		return nil, err
	}
	ux, err := fdConn(fd)
	if err != nil {
		return nil, err
	}
	return &PacketConn{UnixConn: ux, laddr: udpAddr(r.Laddr)}, nil
}

// TCPConn is a proxied TCP connection: a unix stream whose addresses are
// the usnet connection's.
type TCPConn struct {
	*net.UnixConn
	laddr, raddr net.Addr
}

func (c *TCPConn) LocalAddr() net.Addr  { return c.laddr }
func (c *TCPConn) RemoteAddr() net.Addr { return c.raddr }

// Listener is a proxied TCP listener.
type Listener struct {
	c    *net.UnixConn
	addr net.Addr
}

// Accept waits for the daemon to pass the next connection.
func (l *Listener) Accept() (net.Conn, error) {
	r, fd, err := readReply(l.c)
	if err != nil {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.addr, Err: net.ErrClosed}
	}
	if fd < 0 {
		return nil, replyErr("accept", "tcp", l.addr, r)
	}
	ux, err := fdConn(fd)
	if err != nil {
		return nil, err
	}
	return &TCPConn{UnixConn: ux, laddr: tcpAddr(r.Laddr), raddr: tcpAddr(r.Raddr)}, nil
}

func (l *Listener) Close() error   { return l.c.Close() }
func (l *Listener) Addr() net.Addr { return l.addr }

// PacketConn is a proxied datagram socket.
type PacketConn struct {
	*net.UnixConn
	laddr, raddr *net.UDPAddr
}

func (c *PacketConn) LocalAddr() net.Addr { return c.laddr }

func (c *PacketConn) RemoteAddr() net.Addr {
	if c.raddr == nil {
		return nil
	}
	return c.raddr
}

// ReadFrom returns the next datagram and its source.
func (c *PacketConn) ReadFrom(p []byte) (int, net.Addr, error) {
	n, from, _, err := c.ReadFromTTL(p)
	return n, from, err
}

// ReadFromTTL is ReadFrom that also returns the datagram's IP TTL, which
// the server reports for ping sockets (0: not known).
func (c *PacketConn) ReadFromTTL(p []byte) (int, net.Addr, int, error) {
	buf := make([]byte, addrHeader+len(p))
	n, err := c.UnixConn.Read(buf)
	if err != nil {
		return 0, nil, 0, err
	}
	if n < addrHeader {
		return 0, nil, 0, &net.OpError{Op: "read", Net: "udp", Err: net.ErrClosed}
	}
	return copy(p, buf[addrHeader:n]), net.UDPAddrFromAddrPort(getAddr(buf)), int(buf[6]), nil
}

// WriteTo sends p to addr.
func (c *PacketConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	ap := addrPortOf(addr)
	if !ap.IsValid() {
		if a, ok := addr.(*net.IPAddr); ok {
			ip, _ := netip.AddrFromSlice(a.IP)
			ap = netip.AddrPortFrom(ip.Unmap(), 0)
		}
	}
	return c.write(p, ap)
}

func (c *PacketConn) write(p []byte, to netip.AddrPort) (int, error) {
	if len(p) > maxDatagram {
		return 0, &net.OpError{Op: "write", Net: "udp", Err: os.NewSyscallError("sendto", syscall.EMSGSIZE)}
	}
	buf := make([]byte, addrHeader+len(p))
	putAddr(buf, to)
	copy(buf[addrHeader:], p)
	if _, err := c.UnixConn.Write(buf); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Read and Write serve a connected (dialed) socket.
func (c *PacketConn) Read(p []byte) (int, error) {
	n, _, err := c.ReadFrom(p)
	return n, err
}

func (c *PacketConn) Write(p []byte) (int, error) {
	return c.write(p, netip.AddrPortFrom(netip.IPv4Unspecified(), 0))
}

// Dial is DialContext without a context.
func (cl *Client) Dial(network, addr string) (net.Conn, error) {
	return cl.DialContext(context.Background(), network, addr)
}

var _ Namespace = (*Client)(nil)
