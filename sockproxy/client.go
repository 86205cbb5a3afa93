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

// roundTrip sends req on a new control connection and reads the reply
// and its descriptors. The caller owns c afterwards.
func (cl *Client) roundTrip(req Request) (*net.UnixConn, Reply, [2]int, error) {
	none := [2]int{-1, -1}
	c, err := cl.dial()
	if err != nil {
		return nil, Reply{}, none, err
	}
	b, _ := json.Marshal(req)
	if _, _, err := c.WriteMsgUnix(b, nil, nil); err != nil {
		c.Close()
		return nil, Reply{}, none, err
	}
	r, fds, err := readReply(c)
	if err != nil {
		c.Close()
		return nil, r, none, err
	}
	return c, r, fds, nil
}

// readReply reads one reply and the descriptors attached to it: the
// data descriptor and the socket's control descriptor (-1 when absent).
func readReply(c *net.UnixConn) (Reply, [2]int, error) {
	fds := [2]int{-1, -1}
	buf := make([]byte, maxControl)
	oob := make([]byte, unix.CmsgSpace(2*4))
	n, oobn, _, _, err := c.ReadMsgUnix(buf, oob)
	if err != nil {
		return Reply{}, fds, err
	}
	if n == 0 {
		return Reply{}, fds, fmt.Errorf("sockproxy: connection closed by the daemon")
	}
	if oobn > 0 {
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err == nil && len(msgs) > 0 {
			if got, err := unix.ParseUnixRights(&msgs[0]); err == nil {
				for i, fd := range got {
					if i < len(fds) {
						fds[i] = fd
					} else {
						unix.Close(fd)
					}
				}
			}
		}
	}
	var r Reply
	if err := json.Unmarshal(buf[:n], &r); err != nil {
		closeFDs(fds)
		return r, [2]int{-1, -1}, fmt.Errorf("sockproxy: bad reply: %w", err)
	}
	return r, fds, nil
}

func closeFDs(fds [2]int) {
	for _, fd := range fds {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
}

// replyErr turns an error reply into what a kernel socket returns.
func replyErr(op, network string, addr net.Addr, r Reply) error {
	if r.Errno == 0 {
		return nil
	}
	sc := r.Syscall
	if sc == "" {
		sc = op
	}
	return &net.OpError{Op: op, Net: network, Addr: addr, Err: os.NewSyscallError(sc, syscall.Errno(r.Errno))}
}

// opAddr is the address an error names, as Go's net package names the
// dialed or listened address ("dial tcp 10.0.0.1:80: connect: ...",
// "listen tcp :80: bind: ..."); nil when it does not parse.
func opAddr(network, addr string) net.Addr {
	var a net.Addr
	var err error
	switch network {
	case "tcp", "tcp4":
		a, err = net.ResolveTCPAddr(network, addr)
	case "udp", "udp4":
		a, err = net.ResolveUDPAddr(network, addr)
	default:
		a, err = net.ResolveIPAddr("ip4", addr)
	}
	if err != nil {
		return nil
	}
	return a
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

// sockets turns a reply's descriptors into the data and control
// connections of a socket.
func sockets(fds [2]int) (data, ctl *net.UnixConn, err error) {
	if fds[0] < 0 || fds[1] < 0 {
		closeFDs(fds)
		return nil, nil, fmt.Errorf("sockproxy: no descriptors in reply")
	}
	data, err = fdConn(fds[0])
	if err != nil {
		unix.Close(fds[1])
		return nil, nil, err
	}
	ctl, err = fdConn(fds[1])
	if err != nil {
		data.Close()
		return nil, nil, err
	}
	return data, ctl, nil
}

// DialContext connects from the remote namespace ("tcp", "tcp4", "udp", "udp4").
func (cl *Client) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, r, fds, err := cl.roundTrip(Request{Op: "dial", Net: network, Addr: addr})
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Addr: opAddr(network, addr), Err: err}
	}
	c.Close()
	if err := replyErr("dial", network, opAddr(network, addr), r); err != nil {
		closeFDs(fds)
		return nil, err
	}
	data, ctl, err := sockets(fds)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Addr: opAddr(network, addr), Err: err}
	}
	switch network {
	case "udp", "udp4":
		return newPacketConn(data, ctl, udpAddr(r.Laddr), udpAddr(r.Raddr)), nil
	}
	return newTCPConn(data, ctl, tcpAddr(r.Laddr), tcpAddr(r.Raddr)), nil
}

// Listen announces a TCP listener in the remote namespace.
func (cl *Client) Listen(network, addr string) (net.Listener, error) {
	c, r, fds, err := cl.roundTrip(Request{Op: "listen", Net: network, Addr: addr})
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: network, Addr: opAddr(network, addr), Err: err}
	}
	closeFDs(fds)
	if err := replyErr("listen", network, opAddr(network, addr), r); err != nil {
		c.Close()
		return nil, err
	}
	return &Listener{c: c, addr: tcpAddr(r.Laddr)}, nil
}

// ListenPacket opens a UDP ("udp", "udp4"), raw ICMP ("ip4:icmp",
// "ip4:1"; served by a ping socket) or ICMP datagram ("udp4:icmp")
// socket in the remote namespace.
func (cl *Client) ListenPacket(network, addr string) (net.PacketConn, error) {
	c, r, fds, err := cl.roundTrip(Request{Op: "listenpacket", Net: network, Addr: addr})
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: network, Addr: opAddr(network, addr), Err: err}
	}
	c.Close()
	if err := replyErr("listen", network, opAddr(network, addr), r); err != nil {
		closeFDs(fds)
		return nil, err
	}
	data, ctl, err := sockets(fds)
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: network, Addr: opAddr(network, addr), Err: err}
	}
	return newPacketConn(data, ctl, udpAddr(r.Laddr), nil), nil
}

// Dial is DialContext without a context.
func (cl *Client) Dial(network, addr string) (net.Conn, error) {
	return cl.DialContext(context.Background(), network, addr)
}

var _ Namespace = (*Client)(nil)
