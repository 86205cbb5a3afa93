package client

import (
	"context"
	"fmt"
	"net"
	"sync"
	"syscall"

	"github.com/usnet/usnet/daemon"
	"github.com/usnet/usnet/rtnl"
)

// Client reaches the namespaces of one usnet stack.
type Client struct {
	open    func(ns string) (transport, error)
	nsID    func(ns string) (uint32, error)
	sockets func(ns string) (sockets, error)
	addNS   func(name string) error
	delNS   func(name string) error
	listNS  func() ([]string, error)
	sysctl  sysctlOps
	opts    options

	mu  sync.Mutex
	nss map[string]*Namespace
}

// sockets is what both stack.Namespace and sockproxy.Client offer.
type sockets interface {
	DialContext(ctx context.Context, network, addr string) (net.Conn, error)
	Listen(network, addr string) (net.Listener, error)
	ListenPacket(network, addr string) (net.PacketConn, error)
}

type options struct {
	eventBuffer int
	rcvBuf      int
	cred        rtnl.Cred
}

// Option tunes a Client.
type Option func(*options)

// WithEventBuffer sets the capacity of the channels Subscribe and
// Interfaces return (default 256).
func WithEventBuffer(n int) Option { return func(o *options) { o.eventBuffer = max(n, 0) } }

// WithRcvBuf sets the receive queue limit in bytes of the netlink sockets
// behind Subscribe and Interfaces (SO_RCVBUF; default the server's,
// net.core.rmem_default).
func WithRcvBuf(bytes int) Option { return func(o *options) { o.rcvBuf = bytes } }

// WithCred sets the credentials of an in-process client (default: an
// administrator, as a process with CAP_NET_ADMIN). Connect ignores it:
// the daemon reads the caller's credentials itself.
func WithCred(c rtnl.Cred) Option { return func(o *options) { o.cred = c } }

func newOptions(opts []Option) options {
	o := options{eventBuffer: 256, cred: rtnl.Cred{Admin: true}}
	for _, f := range opts {
		f(&o)
	}
	return o
}

// Connect returns a client of the `usnet daemon` listening at path ("" =
// daemon.DefaultPath()). It fails when no daemon answers there
// (daemon.IsNotRunning tells that case apart). Netlink sockets are opened
// per namespace on first use.
func Connect(path string, opts ...Option) (*Client, error) {
	if path == "" {
		path = daemon.DefaultPath()
	}
	if _, err := daemon.NetnsList(path); err != nil {
		return nil, wrap("connect", err)
	}
	return &Client{
		open: func(ns string) (transport, error) {
			c, err := daemon.Dial(path, ns)
			if err != nil {
				return nil, err
			}
			return c, nil
		},
		nsID:    func(ns string) (uint32, error) { return daemon.NetnsID(path, ns) },
		sockets: func(ns string) (sockets, error) { return daemon.Sockets(path, ns), nil },
		addNS:   func(name string) error { return daemon.NetnsAdd(path, name) },
		delNS:   func(name string) error { return daemon.NetnsDel(path, name) },
		listNS:  func() ([]string, error) { return daemon.NetnsList(path) },
		sysctl:  remoteSysctl(path),
		opts:    newOptions(opts),
		nss:     map[string]*Namespace{},
	}, nil
}

// InProcess returns a client of the stack that srv serves, in this
// process: requests go straight to rtnl sockets, sockets are the stack's.
func InProcess(srv *rtnl.Server, opts ...Option) *Client {
	o := newOptions(opts)
	st := srv.Stack()
	lookup := func(ns string) (sockets, error) {
		if ns == "" {
			return st.Default(), nil
		}
		n, err := st.Lookup(ns)
		if err != nil {
			return nil, err
		}
		return n, nil
	}
	return &Client{
		open: func(ns string) (transport, error) {
			s, err := srv.Open(ns, o.cred)
			if err != nil {
				return nil, err
			}
			return inproc{s}, nil
		},
		nsID: func(ns string) (uint32, error) {
			if ns == "" {
				return st.Default().Net.ID(), nil
			}
			n, err := st.Lookup(ns)
			if err != nil {
				return 0, err
			}
			return n.Net.ID(), nil
		},
		sockets: lookup,
		addNS: func(name string) error {
			if !o.cred.Admin {
				return syscall.EPERM
			}
			_, err := st.Add(name)
			return err
		},
		delNS: func(name string) error {
			if !o.cred.Admin {
				return syscall.EPERM
			}
			return st.Delete(name)
		},
		listNS: func() ([]string, error) {
			var out []string
			for _, n := range st.List() {
				if n != st.Default() {
					out = append(out, n.Name())
				}
			}
			return out, nil
		},
		sysctl: localSysctl(st, o.cred.Admin),
		opts:   o,
		nss:    map[string]*Namespace{},
	}
}

// Namespace returns the handle of namespace name ("" = the default
// namespace). Handles are cached: the same name gives the same handle.
// The namespace need not exist yet; calls fail with ENOENT until it does.
func (c *Client) Namespace(name string) *Namespace {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := c.nss[name]; n != nil {
		return n
	}
	n := &Namespace{c: c, name: name}
	c.nss[name] = n
	return n
}

// AddNamespace creates a namespace (`ip netns add`).
func (c *Client) AddNamespace(name string) error {
	return wrap("netns add", c.addNS(name))
}

// DelNamespace deletes a namespace and everything in it (`ip netns del`).
func (c *Client) DelNamespace(name string) error {
	c.mu.Lock()
	if n := c.nss[name]; n != nil {
		n.Close()
		delete(c.nss, name)
	}
	c.mu.Unlock()
	return wrap("netns del", c.delNS(name))
}

// Namespaces lists the namespaces other than the default one.
func (c *Client) Namespaces() ([]string, error) {
	l, err := c.listNS()
	return l, wrap("netns list", err)
}

// Close closes the request sockets of every namespace handle. Running
// subscriptions end with their contexts.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.nss {
		n.Close()
	}
	return nil
}

// Namespace is one namespace of the stack. Its methods are safe for
// concurrent use; requests are serialised on one netlink socket.
type Namespace struct {
	c    *Client
	name string

	mu   sync.Mutex
	conn *conn // nil until the first request
}

// Name returns the namespace's name ("" for the default namespace).
func (n *Namespace) Name() string { return n.name }

// Close closes the namespace's request socket; the next call reopens it.
func (n *Namespace) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.conn != nil {
		n.conn.t.Close()
		n.conn = nil
	}
	return nil
}

// request runs f on the namespace's request socket, opening it first.
func (n *Namespace) request(f func(c *conn) error) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.conn == nil {
		c, err := n.dialConn()
		if err != nil {
			return err
		}
		n.conn = c
	}
	err := f(n.conn)
	if isTransportErr(err) { // the socket is unusable: reopen next time
		n.conn.t.Close()
		n.conn = nil
	}
	return err
}

// dialConn opens a fresh netlink socket in the namespace with extended
// ACKs on, so that errors carry the server's message.
func (n *Namespace) dialConn() (*conn, error) {
	t, err := n.c.open(n.name)
	if err != nil {
		return nil, wrap("open", err)
	}
	if err := t.SetOption(unixNetlinkExtAck, true); err != nil {
		t.Close()
		return nil, wrap("open", err)
	}
	return newConn(t), nil
}

func (n *Namespace) String() string {
	if n.name == "" {
		return "namespace (default)"
	}
	return fmt.Sprintf("namespace %q", n.name)
}
