package daemon

import (
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/usnet/usnet/sockproxy"
)

// NetlinkConn is a client's rtnetlink socket in a namespace of the
// daemon. It implements Transport.
type NetlinkConn struct {
	c       *net.UnixConn
	port    uint32
	path    string
	timeout time.Duration // SetRecvTimeout; 0: Recv blocks
}

var _ Transport = (*NetlinkConn)(nil)

// dial connects and sends the hello; it returns the reply payload.
func dial(path, verb, arg string) (*net.UnixConn, string, error) {
	return dialN(path, verb, arg, 64<<10)
}

// dialN is dial with a reply of up to size bytes.
func dialN(path, verb, arg string, size int) (*net.UnixConn, string, error) {
	c, err := net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: path, Net: "unixpacket"})
	if err != nil {
		return nil, "", err
	}
	if _, err := c.Write(hello(verb, arg)); err != nil {
		c.Close()
		return nil, "", err
	}
	buf := make([]byte, size)
	n, err := c.Read(buf)
	if err != nil {
		c.Close()
		return nil, "", err
	}
	p, err := parseReply(buf[:n])
	if err != nil {
		c.Close()
		return nil, "", err
	}
	return c, p, nil
}

// Dial opens rtnetlink in namespace ns ("" = default) of the daemon
// listening at path.
func Dial(path, ns string) (*NetlinkConn, error) {
	c, p, err := dial(path, VerbRtnetlink, ns)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(p, 10, 32)
	if err != nil {
		c.Close()
		return nil, syscall.EPROTO
	}
	return &NetlinkConn{c: c, port: uint32(port), path: path}, nil
}

// PortID returns the socket's netlink port id.
func (n *NetlinkConn) PortID() uint32 { return n.port }

// Send sends one request datagram.
func (n *NetlinkConn) Send(b []byte) error {
	if len(b) > maxDatagram {
		return syscall.EMSGSIZE
	}
	_, err := n.c.Write(b)
	return err
}

// Recv receives one datagram (truncated to buf, like recvmsg). A queue
// overrun on the daemon side is returned as ENOBUFS.
func (n *NetlinkConn) Recv(buf []byte) (int, error) {
	if len(buf) < 12 {
		var tmp [12]byte
		k, err := n.Recv(tmp[:])
		return copy(buf, tmp[:k]), err
	}
	if n.timeout > 0 {
		n.c.SetReadDeadline(time.Now().Add(n.timeout))
	}
	k, err := n.c.Read(buf)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return 0, syscall.EAGAIN // as SO_RCVTIMEO on a netlink socket
	}
	if err != nil {
		return 0, err
	}
	if k == 0 {
		return 0, syscall.ECONNRESET // the daemon went away
	}
	if errno, ok := parseErrDatagram(buf[:k]); ok {
		return 0, errno
	}
	return k, nil
}

// Close closes the connection.
func (n *NetlinkConn) Close() error { return n.c.Close() }

// SetRecvTimeout makes Recv fail with EAGAIN after d without data (0:
// wait forever), like SO_RCVTIMEO, so that a reader can look at a stop
// condition (`usnet ip monitor` with iproute.Options.Done).
func (n *NetlinkConn) SetRecvTimeout(d time.Duration) error {
	n.timeout = d
	return nil
}

// Join joins multicast group g (RTNLGRP_*).
func (n *NetlinkConn) Join(g int) error { return n.ctl(ctlJoin, g) }

// Leave leaves multicast group g.
func (n *NetlinkConn) Leave(g int) error { return n.ctl(ctlLeave, g) }

// SetOption sets NETLINK_CAP_ACK, NETLINK_EXT_ACK or
// NETLINK_GET_STRICT_CHK.
func (n *NetlinkConn) SetOption(opt int, on bool) error {
	op := ctlOptionOff
	if on {
		op = ctlOptionOn
	}
	return n.ctl(uint32(op), opt)
}

// SetRcvBuf sets the daemon-side receive queue limit (SO_RCVBUF).
func (n *NetlinkConn) SetRcvBuf(bytes int) error { return n.ctl(ctlRcvBuf, bytes) }

func (n *NetlinkConn) ctl(op uint32, arg int) error {
	if arg < 0 || arg > 1<<31 {
		return syscall.EINVAL
	}
	if (op == ctlJoin || op == ctlLeave) && (arg == 0 || arg > 63) {
		return syscall.EINVAL
	}
	_, err := n.c.Write(ctl(op, uint32(arg)))
	return err
}

// NetnsAdd creates a namespace in the daemon (`ip netns add`).
func NetnsAdd(path, name string) error { return simple(path, VerbNetnsAdd, name) }

// NetnsDel deletes a namespace (`ip netns del`).
func NetnsDel(path, name string) error { return simple(path, VerbNetnsDel, name) }

// NetnsList lists the daemon's namespaces other than the default one, in
// creation order.
func NetnsList(path string) ([]string, error) {
	c, p, err := dial(path, VerbNetnsList, "")
	if err != nil {
		return nil, err
	}
	c.Close()
	if p == "" {
		return nil, nil
	}
	return strings.Split(p, "\x00"), nil
}

func simple(path, verb, arg string) error {
	c, _, err := dial(path, verb, arg)
	if err != nil {
		return err
	}
	return c.Close()
}

// IsNotRunning reports whether err means no daemon listens at the path.
func IsNotRunning(err error) bool {
	return errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED)
}

// Sockets returns a socket-proxy client for namespace ns ("" = default)
// of the daemon at path: Dial, Listen and ListenPacket there, with real
// descriptors for the data.
func Sockets(path, ns string) *sockproxy.Client {
	return sockproxy.NewClient(func() (*net.UnixConn, error) {
		c, _, err := dial(path, VerbSocket, ns)
		return c, err
	})
}

// NetnsID returns the reference of namespace name: the number usnet's
// rtnetlink reads where Linux wants a process or file descriptor naming
// a namespace (IFLA_NET_NS_PID/FD, NETNSA_PID/FD). It is the same in
// every namespace, unlike an nsid (IFLA_LINK_NETNSID,
// IFLA_TARGET_NETNSID, NETNSA_NSID), which only means something in the
// namespace that assigned it.
func NetnsID(path, name string) (uint32, error) {
	c, p, err := dial(path, VerbNetnsID, name)
	if err != nil {
		return 0, err
	}
	c.Close()
	id, err := strconv.ParseUint(p, 10, 32)
	if err != nil {
		return 0, syscall.EPROTO
	}
	return uint32(id), nil
}

// Subscribe joins rtnetlink multicast groups (what `ip monitor` needs).
func (n *NetlinkConn) Subscribe(groups ...uint32) error {
	for _, g := range groups {
		if err := n.Join(int(g)); err != nil {
			return err
		}
	}
	return nil
}

// ResolveNetns names a daemon namespace for `ip link set DEV netns NAME`
// and `ip netns set|list-id`: IFLA_NET_NS_PID (or NETNSA_PID) with the
// namespace's reference (NetnsID).
func (n *NetlinkConn) ResolveNetns(name string) (uint16, uint32, error) {
	id, err := NetnsID(n.path, name)
	return unix.IFLA_NET_NS_PID, id, err
}

// NetnsNames lists the daemon's named namespaces (what `ip netns` walks
// instead of /run/netns, and what "link-netns NAME" looks names up in).
func (n *NetlinkConn) NetnsNames() ([]string, error) { return NetnsList(n.path) }
