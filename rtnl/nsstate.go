package rtnl

import (
	"syscall"

	"sync"

	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netns"
	"github.com/usnet/usnet/stack"
	"golang.org/x/sys/unix"
)

// reqCtx identifies the request being handled on a namespace's executor,
// so that notifications caused by it carry its port id and sequence
// number where the kernel puts them, and NLM_F_ECHO reaches its sender.
type reqCtx struct {
	typ   uint16 // request message type
	sock  *Socket
	seq   uint32
	pid   uint32
	flags uint16
}

// nsState is the server's view of one namespace: the sockets bound in it
// and the bookkeeping its notifications need.
type nsState struct {
	srv *Server
	ns  *stack.Namespace

	mu    sync.Mutex // guards socks and every socket's groups
	socks []*Socket

	// Executor only.
	cur       *reqCtx
	enc       netlink.AttributeEncoder
	admin     map[*netdev.Device]uint32 // admin flags last reported
	closing   map[*netdev.Device]bool   // between GOING_DOWN and DOWN
	deleting  map[*netdev.Device]bool   // closed by a link deletion
	creating  bool                      // a NEWLINK request registers devices
	deferNew  []*netdev.Device          // their RTM_NEWLINK, sent once configured
	created   *netdev.Device            // the device the request itself creates
	pendingUp *netdev.Device            // being opened by a request: NEWLINK goes first
	upSent    *netdev.Device
	moving    map[*netdev.Device]moveTo // set by a request moving the device away
	// bridgeSubscribed: the namespace's bridges report FDB changes.
	bridgeSubscribed bool
}

func newNSState(srv *Server, ns *stack.Namespace) *nsState {
	return &nsState{
		srv: srv, ns: ns,
		admin: map[*netdev.Device]uint32{}, closing: map[*netdev.Device]bool{},
		deleting: map[*netdev.Device]bool{},
		moving:   map[*netdev.Device]moveTo{},
	}
}

// moveTo is where a device being moved goes (__dev_change_net_namespace).
type moveTo struct {
	net     *netns.Net
	ifindex int // its ifindex there when known (free there now), else 0
}

func (st *nsState) addSocket(s *Socket) {
	st.mu.Lock()
	st.socks = append(st.socks, s)
	st.mu.Unlock()
}

func (st *nsState) removeSocket(s *Socket) {
	st.mu.Lock()
	for i, o := range st.socks {
		if o == s {
			st.socks = append(st.socks[:i], st.socks[i+1:]...)
			break
		}
	}
	st.mu.Unlock()
}

// subscribe hooks the server to the namespace's layers. Executor only.
func (st *nsState) subscribe() {
	n := st.ns
	for _, d := range n.Dev.Devices() {
		st.admin[d] = adminFlags(d)
	}
	n.Dev.Subscribe(st.devEvent)
	n.IPv4.SubscribeAddrs(st.addrEvent)
	n.IPv4.SubscribeConf(st.confEvent)
	if n.Neigh != nil {
		n.Neigh.Subscribe(st.neighEvent)
	}
	st.subscribeFIB()
	st.bridgeSubscribe()
}

// ctx returns the request being handled if it is of one of the given
// types: only the request that directly asks for a change is named in
// its notification (an address flushed by a link deletion is not).
func (st *nsState) ctx(types ...uint16) *reqCtx {
	if st.cur == nil {
		return nil
	}
	for _, t := range types {
		if st.cur.typ == t {
			return st.cur
		}
	}
	return nil
}

// echoSock returns the socket that asked for NLM_F_ECHO, if any.
func (st *nsState) echoSock(types ...uint16) *Socket {
	if c := st.ctx(types...); c != nil && c.flags&unix.NLM_F_ECHO != 0 {
		return c.sock
	}
	return nil
}

// wants reports whether a notification on group has any receiver; echo
// lists the request types whose NLM_F_ECHO asks for this notification.
func (st *nsState) wants(group int, echo ...uint16) bool {
	if st.echoSock(echo...) != nil {
		return true
	}
	bit := uint64(1) << uint(group)
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, s := range st.socks {
		if s.groups&bit != 0 {
			return true
		}
	}
	return false
}

// multicast sends msg to the group's members (nlmsg_notify): with report
// set and NLM_F_ECHO asked, the requester gets it by unicast instead.
func (st *nsState) multicast(group int, msg []byte, echoTypes ...uint16) {
	echo := st.echoSock(echoTypes...)
	bit := uint64(1) << uint(group)
	if st.enc.Err() != nil {
		// The message did not fit (an attribute past 64 KiB): Linux
		// drops it and sets EMSGSIZE on the group's sockets
		// (rtnl_set_sk_err), so listeners learn they missed an event.
		st.mu.Lock()
		for _, s := range st.socks {
			if s.groups&bit != 0 || s == echo {
				s.setErr(syscall.EMSGSIZE)
			}
		}
		st.mu.Unlock()
		return
	}
	st.mu.Lock()
	for _, s := range st.socks {
		if s.groups&bit != 0 && s != echo {
			s.enqueue(msg)
		}
	}
	st.mu.Unlock()
	if echo != nil {
		echo.enqueue(msg)
	}
}

// begin resets the notification encoder.
func (st *nsState) begin() *netlink.AttributeEncoder {
	st.enc.Reset(st.enc.Bytes()[:0])
	return &st.enc
}
