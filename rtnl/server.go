package rtnl

import (
	"fmt"
	"sync"
	"syscall"

	"github.com/usnet/usnet/netns"
	"github.com/usnet/usnet/stack"
)

// Cred is what the server knows of a client: its credentials as
// SO_PEERCRED reports them and whether it holds CAP_NET_ADMIN in the
// namespace (without it, every request but RTM_GET* answers EPERM).
type Cred struct {
	PID   int32
	UID   uint32
	GID   uint32
	Admin bool
}

// Server is the rtnetlink endpoint of a stack: Linux's NETLINK_ROUTE
// kernel socket, one per stack, serving every namespace.
type Server struct {
	st *stack.Stack

	attachMu sync.Mutex // serialises first attachments
	mu       sync.Mutex
	ports    map[uint32]*Socket
	rover    uint32 // next autobind port id, counting down as the kernel's
	nss      map[*netns.Net]*nsState
}

// New returns a server for s. It hears about the peer id tables of all
// of s's namespaces from then on (RTM_NEWNSID/DELNSID notifications).
func New(s *stack.Stack) *Server {
	srv := &Server{st: s, ports: map[uint32]*Socket{}, rover: 0xffffefff, nss: map[*netns.Net]*nsState{}}
	s.World.SubscribeIDs(srv.idEvent)
	return srv
}

// Stack returns the stack the server answers for.
func (srv *Server) Stack() *stack.Stack { return srv.st }

// Open creates a netlink socket bound in namespace ns ("" for the
// default namespace). Its port id is the client's PID when that is free,
// otherwise one counted down from -4097, as netlink_autobind picks them.
func (srv *Server) Open(ns string, cred Cred) (*Socket, error) {
	var n *stack.Namespace
	if ns == "" {
		n = srv.st.Default()
	} else {
		n = srv.st.Get(ns)
	}
	if n == nil {
		return nil, fmt.Errorf("rtnl: namespace %q: %w", ns, syscall.ENOENT)
	}
	st, err := srv.attach(n)
	if err != nil {
		return nil, err
	}
	s := newSocket(srv, st, cred)
	srv.mu.Lock()
	s.port = srv.allocPort(cred.PID)
	srv.ports[s.port] = s
	srv.mu.Unlock()
	st.addSocket(s)
	return s, nil
}

// allocPort picks a free port id; srv.mu held.
func (srv *Server) allocPort(pid int32) uint32 {
	if pid > 0 && srv.ports[uint32(pid)] == nil {
		return uint32(pid)
	}
	for {
		p := srv.rover
		srv.rover--
		if int32(srv.rover) > -4097 { // wrapped into the positive range
			srv.rover = 0xffffefff
		}
		if srv.ports[p] == nil {
			return p
		}
	}
}

func (srv *Server) release(s *Socket) {
	srv.mu.Lock()
	if srv.ports[s.port] == s {
		delete(srv.ports, s.port)
	}
	srv.mu.Unlock()
}

// attach returns the per-namespace state of n, subscribing to its layers
// the first time.
func (srv *Server) attach(n *stack.Namespace) (*nsState, error) {
	srv.mu.Lock()
	st := srv.nss[n.Net]
	srv.mu.Unlock()
	if st != nil {
		return st, nil
	}
	srv.attachMu.Lock()
	defer srv.attachMu.Unlock()
	srv.mu.Lock()
	st = srv.nss[n.Net]
	srv.mu.Unlock()
	if st != nil {
		return st, nil
	}
	st = newNSState(srv, n)
	var err error
	n.Exec().Do(func() {
		if n.Net.Dead() {
			err = fmt.Errorf("rtnl: namespace %q: %w", n.Name(), syscall.ENOENT)
			return
		}
		st.subscribe()
		initKinds(n)
		n.Net.OnExit(func() {
			srv.mu.Lock()
			delete(srv.nss, n.Net)
			srv.mu.Unlock()
		})
	})
	if err != nil {
		return nil, err
	}
	srv.mu.Lock()
	srv.nss[n.Net] = st
	srv.mu.Unlock()
	return st, nil
}

// state returns the attached state of a namespace, attaching it if
// needed; nil when the namespace is gone.
func (srv *Server) state(n *stack.Namespace) *nsState {
	st, err := srv.attach(n)
	if err != nil {
		return nil
	}
	return st
}

// nsByID finds a namespace by its process-wide number netns.Net.ID, what
// usnet reads from IFLA_NET_NS_PID/FD and NETNSA_PID/FD.
func (srv *Server) nsByID(id uint32) *stack.Namespace {
	for _, n := range srv.st.List() {
		if n.Net.ID() == id {
			return n
		}
	}
	return nil
}
