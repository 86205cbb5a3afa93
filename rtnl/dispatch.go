package rtnl

import (
	"errors"
	"syscall"

	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

// call is one request message being handled.
type call struct {
	s   *Socket
	st  *nsState
	h   netlink.Header
	msg netlink.Message
	// hdrLen is the size of the message's fixed header, for ext-ACK
	// attribute offsets.
	hdrLen int
	// replyErr is EMSGSIZE when a reply could not be encoded (an
	// attribute past nla_len's 64 KiB); the request then fails with it,
	// as rtnl_getlink does when rtnl_fill_ifinfo returns -EMSGSIZE.
	replyErr error
}

// data returns the payload after the nlmsghdr.
func (c *call) data() []byte { return c.msg.Data }

// family returns rtgen_family.
func (c *call) family() uint8 { return c.msg.Data[0] }

type handlerFn func(c *call) error

type handlers struct {
	doit    handlerFn
	dumpit  handlerFn
	outside bool // runs outside the executor (spans namespaces)
	hdrLen  int
}

// table returns the handlers for a message type (rtnl_get_link, with the
// family fallback folded into the handlers themselves).
func table(typ uint16) *handlers {
	switch typ {
	case unix.RTM_NEWLINK:
		return &hNewLink
	case unix.RTM_SETLINK:
		return &hSetLink
	case unix.RTM_DELLINK:
		return &hDelLink
	case unix.RTM_GETLINK:
		return &hGetLink
	case unix.RTM_NEWADDR:
		return &hNewAddr
	case unix.RTM_DELADDR:
		return &hDelAddr
	case unix.RTM_GETADDR:
		return &hGetAddr
	case unix.RTM_NEWROUTE:
		return &hNewRoute
	case unix.RTM_DELROUTE:
		return &hDelRoute
	case unix.RTM_GETROUTE:
		return &hGetRoute
	case unix.RTM_NEWNEIGH:
		return &hNewNeigh
	case unix.RTM_DELNEIGH:
		return &hDelNeigh
	case unix.RTM_GETNEIGH:
		return &hGetNeigh
	case unix.RTM_NEWRULE:
		return &hNewRule
	case unix.RTM_DELRULE:
		return &hDelRule
	case unix.RTM_GETRULE:
		return &hGetRule
	case unix.RTM_GETNETCONF:
		return &hGetNetconf
	case unix.RTM_NEWNSID:
		return &hNewNsid
	case unix.RTM_GETNSID:
		return &hGetNsid
	}
	return nil
}

// runsOutside reports whether a message must be handled outside the
// executor; malformed and unknown messages are handled inside.
func runsOutside(h netlink.Header, data []byte) bool {
	if !netlink.IsRequest(h) {
		return false
	}
	if len(data) > 0 && familyHandlers[familyKey{h.Type, data[0]}] != nil {
		return false // family handlers run on the executor
	}
	t := table(h.Type)
	return t != nil && t.outside
}

// Send hands the socket a request datagram: a batch of messages handled
// in order, each answered as the kernel answers it. Trailing bytes too
// short for a header are ignored; a message whose length is wrong ends
// the batch silently, as netlink_rcv_skb does.
func (s *Socket) Send(b []byte) error {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return syscall.EBADF
	}
	st := s.ns
	s.srv.st.RTNL.Lock()
	defer s.srv.st.RTNL.Unlock()
	it := netlink.NewMessageIter(b)
	more := it.Next()
	for more {
		if runsOutside(it.Header(), it.Data()) {
			s.handle(st, netlink.Message{Header: it.Header(), Data: it.Data()}, false)
			more = it.Next()
			continue
		}
		ran := false
		st.ns.Exec().Do(func() {
			ran = true
			for more && !runsOutside(it.Header(), it.Data()) {
				s.handle(st, netlink.Message{Header: it.Header(), Data: it.Data()}, true)
				more = it.Next()
			}
		})
		if !ran { // the namespace is gone
			return syscall.ENODEV
		}
	}
	return nil
}

// handle runs one message and queues its acknowledgement or error.
func (s *Socket) handle(st *nsState, m netlink.Message, onExec bool) {
	c := &s.call
	*c = call{s: s, st: st, h: m.Header, msg: m}
	err := s.process(c, onExec)
	if err == errDumpStarted {
		return
	}
	errno, ext := toErrno(err)
	if errno != 0 {
		ext = s.locate(c, err, ext)
	}
	if !netlink.WantsAck(m.Header.Flags, -int32(errno)) {
		return
	}
	opt := netlink.AckOptions{CapAck: s.capAck, ExtAck: s.extAck}
	s.scratch = netlink.AppendError(s.scratch[:0], m, s.port, -int32(errno), opt, ext)
	s.enqueue(s.scratch)
}

// locate fills in the offset and policy of an attribute that failed
// validation in the codec, which does not know where it was.
func (s *Socket) locate(c *call, err error, ext *netlink.ExtAck) *netlink.ExtAck {
	var se *rtmsg.SizeError
	if !errors.As(err, &se) || c.hdrLen == 0 {
		return ext
	}
	off := findAttr(c.msg.Data, c.hdrLen, se.Type)
	if off >= 0 {
		ext.HasOffset, ext.Offset = true, uint32(netlink.HeaderLen+off)
	}
	if se.Errno() == syscall.ERANGE && !se.Min {
		switch se.Want {
		case 1, 2, 4, 8:
			ext.Policy = netlink.AppendPolicyUnsigned(nil, 8*se.Want)
		}
	}
	return ext
}

// findAttr returns the offset in data of the first top-level attribute of
// type t after a fixed header of hdrLen bytes, or -1.
func findAttr(data []byte, hdrLen int, t uint16) int {
	hl := netlink.Align(hdrLen)
	if len(data) < hl {
		return -1
	}
	d := netlink.NewAttributeDecoder(data[hl:])
	for d.Next() {
		if d.Type() == t {
			return hl + d.Offset()
		}
	}
	return -1
}

// process is rtnetlink_rcv_msg.
func (s *Socket) process(c *call, onExec bool) error {
	h := c.h
	if !netlink.IsRequest(h) {
		return nil // acknowledged if asked, nothing else
	}
	t := table(h.Type)
	if len(c.msg.Data) < 1 {
		if t == nil && h.Type > rtmMax {
			return syscall.EOPNOTSUPP
		}
		return nil // "all the messages must have at least 1 byte length"
	}
	if ft := familyHandlers[familyKey{h.Type, c.family()}]; ft != nil {
		t = ft
	}
	kind := (h.Type - unix.RTM_BASE) & 3
	if h.Type <= rtmMax && kind != 2 && !s.cred.Admin {
		return syscall.EPERM
	}
	if t == nil {
		return syscall.EOPNOTSUPP
	}
	c.hdrLen = t.hdrLen
	if onExec {
		s.ctx = reqCtx{typ: h.Type, sock: s, seq: h.Seq, pid: s.port, flags: h.Flags}
		c.st.cur = &s.ctx
		defer func() { c.st.cur = nil }()
	}
	if kind == 2 && netlink.IsDump(h.Flags) {
		if t.dumpit == nil {
			return syscall.EOPNOTSUPP
		}
		if s.dumping() {
			return syscall.EBUSY
		}
		s.dump.Reset(h.Seq, s.port)
		s.dump.ExtAck = s.extAck
		s.dump.Flags = 0
		if err := t.dumpit(c); err != nil {
			return err
		}
		s.startDump()
		return errDumpStarted
	}
	if t.doit == nil {
		return syscall.EOPNOTSUPP
	}
	if err := t.doit(c); err != nil {
		return err
	}
	return c.replyErr
}

// rtmMax is the highest rtnetlink message type of Linux 6.18
// (RTM_NEWTUNNEL + 3 ... the kernel's RTM_MAX).
const rtmMax = 0x7f

// reply queues a unicast reply message of the given type built by fill.
func (c *call) reply(typ uint16, fill func(e *netlink.AttributeEncoder)) {
	e := c.st.begin()
	m := e.BeginMessage(netlink.Header{Type: typ, Seq: c.h.Seq, Pid: c.s.port})
	fill(e)
	e.EndMessage(m)
	if e.Err() != nil {
		c.replyErr = syscall.EMSGSIZE
		return
	}
	c.s.enqueue(e.Bytes())
}

// dumpMsg adds one message to the running dump.
func (c *call) dumpMsg(typ uint16, fill func(e *netlink.AttributeEncoder)) {
	w := &c.s.dump
	start := w.Begin(typ)
	fill(w.Encoder())
	_ = w.End(start) // fails only on an attribute over 64 KiB: the message is skipped
}

// finishDump closes the dump with NLMSG_DONE.
func (c *call) finishDump() { c.s.dump.Finish(0, "") }

// familyIncluded reports whether a dump of family f covers AF_INET:
// rtnl_dump_all walks the families from the requested one upward.
func familyIncluded(f uint8) bool { return f <= unix.AF_INET }

// checkEmptyDump is the end of a dump with nothing to report.
func (c *call) emptyDump() error {
	c.finishDump()
	return nil
}

// do runs f on the namespace executor as part of this request, so that
// the notifications it causes are attributed to it. For handlers that
// run outside the executor.
func (c *call) do(f func()) bool {
	ran := false
	c.st.ns.Exec().Do(func() {
		ran = true
		c.s.ctx = reqCtx{typ: c.h.Type, sock: c.s, seq: c.h.Seq, pid: c.s.port, flags: c.h.Flags}
		c.st.cur = &c.s.ctx
		f()
		c.st.cur = nil
	})
	return ran
}
