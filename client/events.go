package client

import (
	"context"
	"errors"
	"syscall"

	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

// Group is an rtnetlink multicast group (RTNLGRP_*).
type Group uint32

// The groups usnet emits (IPv4 only: usnet has no IPv6 yet).
const (
	GroupLink      Group = unix.RTNLGRP_LINK
	GroupNeigh     Group = unix.RTNLGRP_NEIGH
	GroupIPv4Addr  Group = unix.RTNLGRP_IPV4_IFADDR
	GroupIPv4Route Group = unix.RTNLGRP_IPV4_ROUTE
	GroupIPv4Rule  Group = unix.RTNLGRP_IPV4_RULE
)

// Op tells whether an event announces a new (or changed) object or a
// deleted one: RTM_NEW* or RTM_DEL*.
type Op uint8

const (
	New Op = iota + 1
	Del
)

func (o Op) String() string {
	if o == Del {
		return "Deleted"
	}
	return "New"
}

// Event is one of LinkEvent, AddrEvent, RouteEvent, NeighEvent,
// RuleEvent or Overflow.
type Event interface{ event() }

// Origin is who caused a notification, as its nlmsghdr says: the port id
// and sequence number of the request (0 for changes the stack made by
// itself), which daemons use to ignore their own changes.
type Origin struct {
	Seq    uint32
	PortID uint32
}

// LinkEvent is RTM_NEWLINK or RTM_DELLINK.
type LinkEvent struct {
	Op Op
	Origin
	Link Link
}

// AddrEvent is RTM_NEWADDR or RTM_DELADDR.
type AddrEvent struct {
	Op Op
	Origin
	Addr Addr
}

// RouteEvent is RTM_NEWROUTE or RTM_DELROUTE.
type RouteEvent struct {
	Op Op
	Origin
	Route Route
}

// NeighEvent is RTM_NEWNEIGH or RTM_DELNEIGH.
type NeighEvent struct {
	Op Op
	Origin
	Neighbour Neighbour
}

// RuleEvent is RTM_NEWRULE or RTM_DELRULE.
type RuleEvent struct {
	Op Op
	Origin
	Rule Rule
}

// Overflow says that events were lost because the consumer fell behind
// and the netlink socket's receive queue overran (ENOBUFS on Linux). The
// state must be read again to be known.
type Overflow struct{}

func (LinkEvent) event()  {}
func (AddrEvent) event()  {}
func (RouteEvent) event() {}
func (NeighEvent) event() {}
func (RuleEvent) event()  {}
func (Overflow) event()   {}

// maxPending bounds the notifications kept while a dump is read on a
// subscribed socket; beyond it they count as lost.
const maxPending = 4096

// sub is a subscribed netlink socket: notifications that arrive while a
// request is answered are kept, in order, for later.
type sub struct {
	c       *conn
	names   map[int]string // ifindex → device name, for routes and neighbours
	pending []netlink.Message
	lost    bool
}

// openSub opens a socket in the namespace and joins groups.
func (n *Namespace) openSub(groups []Group) (*sub, error) {
	c, err := n.dialConn()
	if err != nil {
		return nil, err
	}
	if n.c.opts.rcvBuf > 0 {
		if err := c.t.SetRcvBuf(n.c.opts.rcvBuf); err != nil {
			c.t.Close()
			return nil, wrap("subscribe", err)
		}
	}
	for _, g := range groups {
		if err := c.t.Join(int(g)); err != nil {
			c.t.Close()
			return nil, wrap("subscribe", err)
		}
	}
	s := &sub{c: c, names: map[int]string{}}
	c.other = s.keep
	c.overrun = func() { s.lost = true }
	return s, nil
}

func (s *sub) keep(h netlink.Header, data []byte) {
	if h.Type < unix.RTM_BASE {
		return
	}
	if len(s.pending) >= maxPending {
		s.lost = true
		return
	}
	s.pending = append(s.pending, netlink.Message{Header: h, Data: append([]byte(nil), data...)})
}

// readNames dumps the links into s.names. Done on the subscribed socket
// itself, it also guarantees that the joins have taken effect (the
// daemon applies them in order with the requests).
func (s *sub) readNames() error {
	clear(s.names)
	hdr := rtmsg.Link{}
	p, _ := hdr.MarshalBinary()
	return s.c.dump(unix.RTM_GETLINK, p, func(h netlink.Header, data []byte) error {
		var m rtmsg.Link
		if h.Type == unix.RTM_NEWLINK && m.UnmarshalBinary(data) == nil {
			s.names[int(m.Index)] = m.Name
		}
		return nil
	})
}

// next reads the next datagram and calls fn for each notification in it.
// It returns ENOBUFS after an overrun and any error of the socket.
func (s *sub) next(fn func(h netlink.Header, data []byte)) error {
	k, err := s.c.t.Recv(s.c.rx)
	if err != nil {
		return err
	}
	it := netlink.NewMessageIter(s.c.rx[:k])
	for it.Next() {
		if it.Header().Type >= unix.RTM_BASE {
			fn(it.Header(), it.Data())
		}
	}
	return nil
}

// decode turns a notification into an event, keeping the names current;
// nil for messages it does not model.
func (s *sub) decode(h netlink.Header, data []byte) Event {
	o := Origin{Seq: h.Seq, PortID: h.Pid}
	op := New
	switch h.Type {
	case unix.RTM_DELLINK, unix.RTM_DELADDR, unix.RTM_DELROUTE, unix.RTM_DELNEIGH, unix.RTM_DELRULE:
		op = Del
	}
	switch h.Type {
	case unix.RTM_NEWLINK, unix.RTM_DELLINK:
		l, err := decodeLinkMsg(data)
		if err != nil {
			return nil
		}
		if op == New {
			s.names[l.Index] = l.Name
		} else {
			delete(s.names, l.Index)
		}
		return LinkEvent{Op: op, Origin: o, Link: l}
	case unix.RTM_NEWADDR, unix.RTM_DELADDR:
		a, err := decodeAddrMsg(data)
		if err != nil {
			return nil
		}
		return AddrEvent{Op: op, Origin: o, Addr: a}
	case unix.RTM_NEWROUTE, unix.RTM_DELROUTE:
		r, err := decodeRouteMsg(data, s.names)
		if err != nil {
			return nil
		}
		return RouteEvent{Op: op, Origin: o, Route: r}
	case unix.RTM_NEWNEIGH, unix.RTM_DELNEIGH:
		m := new(rtmsg.Neigh)
		if m.UnmarshalBinary(data) != nil {
			return nil
		}
		return NeighEvent{Op: op, Origin: o, Neighbour: neighFrom(m, s.names)}
	case unix.RTM_NEWRULE, unix.RTM_DELRULE:
		m := new(rtmsg.Rule)
		if m.UnmarshalBinary(data) != nil {
			return nil
		}
		return RuleEvent{Op: op, Origin: o, Rule: ruleFrom(m)}
	}
	return nil
}

// Subscribe joins the groups and returns their notifications as typed
// events, in the order the stack emitted them, until ctx ends (the
// channel is then closed). Events of changes made after Subscribe returns
// are guaranteed to arrive. The socket also follows the links, whatever
// the groups, to name the devices of routes and neighbours; link events
// are delivered only when GroupLink is asked for.
//
// Buffering is bounded: the channel (WithEventBuffer) and the socket's
// receive queue (WithRcvBuf). When the consumer falls behind, the queue
// overruns, the events that did not fit are lost and an Overflow event
// takes their place.
func (n *Namespace) Subscribe(ctx context.Context, groups ...Group) (<-chan Event, error) {
	if len(groups) == 0 {
		return nil, &Error{Op: "subscribe", Errno: syscall.EINVAL, Msg: "no groups"}
	}
	wantLinks := false
	join := []Group{GroupLink}
	for _, g := range groups {
		if g == GroupLink {
			wantLinks = true
			continue
		}
		join = append(join, g)
	}
	s, err := n.openSub(join)
	if err != nil {
		return nil, err
	}
	if err := s.readNames(); err != nil {
		s.c.t.Close()
		return nil, wrap("subscribe", err)
	}
	// Notifications that came with the names are older than Subscribe's
	// return; the caller cannot have caused them.
	s.pending, s.lost = nil, false
	ch := make(chan Event, n.c.opts.eventBuffer)
	go s.run(ctx, ch, wantLinks)
	return ch, nil
}

func (s *sub) run(ctx context.Context, ch chan<- Event, wantLinks bool) {
	defer close(ch)
	stop := context.AfterFunc(ctx, func() { s.c.t.Close() })
	defer func() {
		if stop() {
			s.c.t.Close()
		}
	}()
	emit := func(ev Event) bool {
		select {
		case ch <- ev:
			return true
		case <-ctx.Done():
			return false
		}
	}
	ok := true
	deliver := func(h netlink.Header, data []byte) {
		ev := s.decode(h, data) // also when not delivered: it keeps the names
		if _, isLink := ev.(LinkEvent); ok && ev != nil && (!isLink || wantLinks) {
			ok = emit(ev)
		}
	}
	for ok {
		err := s.next(deliver)
		switch {
		case errors.Is(err, syscall.ENOBUFS):
			ok = emit(Overflow{})
			// Link events were lost too: read the names again, then
			// deliver what arrived meanwhile.
			if !ok || s.readNames() != nil {
				return
			}
			pending := s.pending
			s.pending = nil
			for _, m := range pending {
				deliver(m.Header, m.Data)
			}
			if s.lost && ok {
				s.lost = false
				ok = emit(Overflow{})
			}
		case err != nil:
			return
		}
	}
}
