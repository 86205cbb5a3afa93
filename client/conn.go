package client

import (
	"encoding/binary"
	"errors"
	"syscall"

	"github.com/usnet/usnet/netlink"
	"golang.org/x/sys/unix"
)

const (
	unixNetlinkExtAck = unix.NETLINK_EXT_ACK

	// rxSize holds any datagram the server sends: dumps are packed into
	// 32 KiB datagrams, notifications are smaller.
	rxSize = 1 << 17
)

// Error is a failed request: the errno the server answered (as Linux
// would) and its extended-ACK message, if any.
type Error struct {
	Op    string // the client call, e.g. "route add"
	Errno syscall.Errno
	Msg   string // NLMSGERR_ATTR_MSG, may be empty
}

func (e *Error) Error() string {
	s := "usnet: " + e.Op + ": " + e.Errno.Error()
	if e.Msg != "" {
		s += " (" + e.Msg + ")"
	}
	return s
}

// Unwrap returns the errno, so errors.Is(err, syscall.EEXIST) works.
func (e *Error) Unwrap() error { return e.Errno }

// wrap turns err into an *Error for op; errors that are not errnos are
// returned as they are, nil stays nil.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		if e.Op == "" {
			e.Op = op
		}
		return e
	}
	var en syscall.Errno
	if errors.As(err, &en) {
		return &Error{Op: op, Errno: en, Msg: msgOf(err)}
	}
	return err
}

// msgOf keeps the text of an errno-carrying error when it says more
// than the errno (the daemon's "ERR" replies).
func msgOf(err error) string {
	var en syscall.Errno
	if errors.As(err, &en) && err.Error() != en.Error() {
		return err.Error()
	}
	return ""
}

// transportError marks a failure of the socket itself (not an answer).
type transportError struct{ err error }

func (e transportError) Error() string { return e.err.Error() }
func (e transportError) Unwrap() error { return e.err }

func isTransportErr(err error) bool {
	var t transportError
	return errors.As(err, &t)
}

// conn numbers requests on one socket and matches their answers.
type conn struct {
	t    transport
	port uint32 // the socket's port id, which answers to it carry
	seq  uint32
	rx   []byte
	tx   []byte
	// other receives messages that answer no request of ours
	// (notifications on a subscribed socket); nil drops them.
	other func(h netlink.Header, data []byte)
	// overrun is told when the socket reports ENOBUFS (multicast
	// messages were lost) while a request waits for its answer.
	overrun func()
}

func (c *conn) lost() {
	if c.overrun != nil {
		c.overrun()
	}
}

func newConn(t transport) *conn {
	return &conn{t: t, port: t.PortID(), seq: 1, rx: make([]byte, rxSize)}
}

// answers reports whether a message answers our request seq: the kernel
// addresses answers with the requester's port id, while notifications
// carry the port id and sequence number of whichever socket caused them.
func (c *conn) answers(h netlink.Header, seq uint32) bool {
	return h.Seq == seq && h.Pid == c.port
}

func (c *conn) send(typ, flags uint16, payload []byte) (uint32, error) {
	c.seq++
	if c.seq == 0 {
		c.seq = 1 // notifications of other sockets' changes carry 0
	}
	c.tx = netlink.AppendMessage(c.tx[:0], netlink.Header{Type: typ, Flags: flags | unix.NLM_F_REQUEST, Seq: c.seq}, payload)
	if err := c.t.Send(c.tx); err != nil {
		return 0, transportError{err}
	}
	return c.seq, nil
}

// do sends a request with NLM_F_ACK and waits for its acknowledgement.
// fn sees the replies that come before it (a GET's answer, NLM_F_ECHO).
func (c *conn) do(typ, flags uint16, payload []byte, fn func(h netlink.Header, data []byte) error) error {
	seq, err := c.send(typ, flags|unix.NLM_F_ACK, payload)
	if err != nil {
		return err
	}
	var ferr error
	for {
		n, err := c.t.Recv(c.rx)
		if err != nil {
			if errors.Is(err, syscall.ENOBUFS) {
				c.lost() // notifications were lost; answers are not
				continue
			}
			return transportError{err}
		}
		it := netlink.NewMessageIter(c.rx[:n])
		for it.Next() {
			h := it.Header()
			if !c.answers(h, seq) || h.Type == unix.NLMSG_DONE {
				if c.other != nil {
					c.other(h, it.Data())
				}
				continue
			}
			if h.Type == unix.NLMSG_ERROR {
				if err := errorReply(h, it.Data()); err != nil {
					return err
				}
				return ferr
			}
			if fn != nil && ferr == nil {
				ferr = fn(h, it.Data())
			}
		}
		if it.Err() != nil {
			return transportError{it.Err()}
		}
	}
}

// batch sends one datagram of requests of type typ, each with NLM_F_ACK
// and its own sequence number, and waits for every acknowledgement;
// failed calls fail(i, err) for the i-th request. The kernel handles
// the messages of a datagram in order and answers each one.
func (c *conn) batch(typ, flags uint16, payloads [][]byte, fail func(i int, err error)) error {
	if len(payloads) == 0 {
		return nil
	}
	c.tx = c.tx[:0]
	first := c.seq + 1
	for _, p := range payloads {
		c.seq++
		c.tx = netlink.AppendMessage(c.tx, netlink.Header{Type: typ, Flags: flags | unix.NLM_F_REQUEST | unix.NLM_F_ACK, Seq: c.seq}, p)
	}
	if err := c.t.Send(c.tx); err != nil {
		return transportError{err}
	}
	left := len(payloads)
	for left > 0 {
		n, err := c.t.Recv(c.rx)
		if err != nil {
			if errors.Is(err, syscall.ENOBUFS) {
				c.lost()
				continue
			}
			return transportError{err}
		}
		it := netlink.NewMessageIter(c.rx[:n])
		for it.Next() {
			h := it.Header()
			i := int(h.Seq - first)
			if h.Pid != c.port || h.Type != unix.NLMSG_ERROR || i < 0 || i >= len(payloads) {
				if c.other != nil {
					c.other(h, it.Data())
				}
				continue
			}
			left--
			if err := errorReply(h, it.Data()); err != nil {
				fail(i, err)
			}
		}
		if it.Err() != nil {
			return transportError{it.Err()}
		}
	}
	return nil
}

// dump sends an NLM_F_DUMP request and calls fn for every reply until
// NLMSG_DONE. An error from fn stops the callbacks; the dump is drained
// all the same so that the socket stays in step.
func (c *conn) dump(typ uint16, payload []byte, fn func(h netlink.Header, data []byte) error) error {
	seq, err := c.send(typ, unix.NLM_F_DUMP, payload)
	if err != nil {
		return err
	}
	var ferr error
	for {
		n, err := c.t.Recv(c.rx)
		if err != nil {
			if errors.Is(err, syscall.ENOBUFS) {
				c.lost()
				continue
			}
			return transportError{err}
		}
		it := netlink.NewMessageIter(c.rx[:n])
		for it.Next() {
			h := it.Header()
			if !c.answers(h, seq) {
				if c.other != nil {
					c.other(h, it.Data())
				}
				continue
			}
			switch h.Type {
			case unix.NLMSG_DONE:
				if d := it.Data(); len(d) >= 4 {
					if en := int32(binary.NativeEndian.Uint32(d)); en < 0 {
						return &Error{Errno: syscall.Errno(-en)}
					}
				}
				return ferr
			case unix.NLMSG_ERROR:
				if err := errorReply(h, it.Data()); err != nil {
					return err
				}
				return ferr
			}
			if ferr == nil {
				ferr = fn(h, it.Data())
			}
		}
		if it.Err() != nil {
			return transportError{it.Err()}
		}
	}
}

// errorReply decodes an NLMSG_ERROR: nil for an ACK, else an *Error.
func errorReply(h netlink.Header, data []byte) error {
	r, err := netlink.ParseError(h.Flags, data)
	if err != nil {
		return &Error{Errno: syscall.EPROTO, Msg: "truncated NLMSG_ERROR"}
	}
	if r.Errno == 0 {
		return nil
	}
	e := &Error{Errno: syscall.Errno(-r.Errno)}
	d := netlink.NewAttributeDecoder(r.TLVs)
	for d.Next() {
		if d.Type() == unix.NLMSGERR_ATTR_MSG {
			e.Msg = d.String()
		}
	}
	return e
}
