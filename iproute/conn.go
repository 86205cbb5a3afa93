package iproute

import (
	"errors"
	"fmt"
	"strings"
	"syscall"

	"github.com/usnet/usnet/netlink"
	"golang.org/x/sys/unix"
)

// maxDatagram bounds one received datagram; the kernel fills dump
// datagrams up to 32 KiB, notifications are smaller.
const maxDatagram = 1 << 17

// Conn is an rtnetlink client over a Transport: numbered requests,
// acknowledgements, dumps.
type Conn struct {
	t   Transport
	seq uint32
	rx  []byte
	tx  []byte
	// walking is set while Dump or Recv hands messages of c.rx to a
	// callback: a request from the callback would read its replies into
	// c.rx under the walk (and eat the rest of the dump), so it fails
	// with ErrReentered instead.
	walking bool
}

// ErrReentered: a request was made on a Conn from the callback of its own
// Dump or Recv. Such a caller must gather what it needs before the dump
// (as loadLinks) or use another Conn.
var ErrReentered = errors.New("netlink: request on a socket whose replies are being read")

// NewConn wraps t.
func NewConn(t Transport) *Conn { return &Conn{t: t, seq: 1000, rx: make([]byte, maxDatagram)} }

// Close closes the transport.
func (c *Conn) Close() error { return c.t.Close() }

// NetlinkError is an NLMSG_ERROR answer: the errno and, when the peer
// sent extended ACK TLVs, its message.
type NetlinkError struct {
	Errno syscall.Errno
	Msg   string
}

func (e *NetlinkError) Error() string {
	if e.Msg != "" {
		return "Error: " + withPeriod(e.Msg)
	}
	return "RTNETLINK answers: " + strerror(e.Errno)
}

func withPeriod(s string) string {
	if strings.HasSuffix(s, ".") {
		return s
	}
	return s + "."
}

// strerror spells an errno as glibc's strerror does (Go's table is the
// same text with a lower-case first letter).
func strerror(err error) string {
	var en syscall.Errno
	if errors.As(err, &en) {
		s := en.Error()
		if s != "" {
			return strings.ToUpper(s[:1]) + s[1:]
		}
	}
	return err.Error()
}

func (c *Conn) send(typ, flags uint16, payload []byte) (uint32, error) {
	c.seq++
	c.tx = netlink.AppendMessage(c.tx[:0], netlink.Header{Type: typ, Flags: flags | unix.NLM_F_REQUEST, Seq: c.seq}, payload)
	if err := c.t.Send(c.tx); err != nil {
		return 0, err
	}
	return c.seq, nil
}

// Do sends a request that wants an acknowledgement and waits for it.
// It returns the replies that came before the ACK (NLM_F_ECHO, RTM_GET*
// without dump) for the caller to decode.
func (c *Conn) Do(typ, flags uint16, payload []byte) ([]netlink.Message, error) {
	if c.walking {
		return nil, ErrReentered
	}
	seq, err := c.send(typ, flags|unix.NLM_F_ACK, payload)
	if err != nil {
		return nil, err
	}
	var out []netlink.Message
	for {
		n, err := c.t.Recv(c.rx)
		if err != nil {
			return out, err
		}
		it := netlink.NewMessageIter(c.rx[:n])
		for it.Next() {
			h := it.Header()
			if h.Seq != seq {
				continue
			}
			if h.Type == unix.NLMSG_ERROR {
				return out, parseErr(h, it.Data())
			}
			out = append(out, netlink.Message{Header: h, Data: append([]byte(nil), it.Data()...)})
		}
		if it.Err() != nil {
			return out, it.Err()
		}
	}
}

func parseErr(h netlink.Header, data []byte) error {
	r, err := netlink.ParseError(h.Flags, data)
	if err != nil {
		return fmt.Errorf("ERROR truncated")
	}
	if r.Errno == 0 {
		return nil
	}
	e := &NetlinkError{Errno: syscall.Errno(-r.Errno)}
	d := netlink.NewAttributeDecoder(r.TLVs)
	for d.Next() {
		if d.Type() == unix.NLMSGERR_ATTR_MSG {
			e.Msg = d.String()
		}
	}
	return e
}

// Dump sends an NLM_F_DUMP request and calls fn for every reply message
// until NLMSG_DONE. An error from fn stops the callbacks but the dump is
// still drained so the socket stays usable.
func (c *Conn) Dump(typ uint16, payload []byte, fn func(h netlink.Header, data []byte) error) error {
	if c.walking {
		return ErrReentered
	}
	seq, err := c.send(typ, unix.NLM_F_DUMP, payload)
	if err != nil {
		return err
	}
	c.walking = true
	defer func() { c.walking = false }()
	var ferr error
	for {
		n, err := c.t.Recv(c.rx)
		if err != nil {
			return err
		}
		it := netlink.NewMessageIter(c.rx[:n])
		for it.Next() {
			h := it.Header()
			if h.Seq != seq {
				continue
			}
			switch h.Type {
			case unix.NLMSG_DONE:
				if len(it.Data()) >= 4 {
					if en := int32(nativeU32(it.Data())); en < 0 {
						// netlink_dump_done: the extended ACK follows
						// the errno directly.
						e := &NetlinkError{Errno: syscall.Errno(-en)}
						if h.Flags&unix.NLM_F_ACK_TLVS != 0 {
							d := netlink.NewAttributeDecoder(it.Data()[4:])
							for d.Next() {
								if d.Type() == unix.NLMSGERR_ATTR_MSG {
									e.Msg = d.String()
								}
							}
						}
						return e
					}
				}
				return ferr
			case unix.NLMSG_ERROR:
				if err := parseErr(h, it.Data()); err != nil {
					return err
				}
				return ferr
			}
			if ferr == nil {
				ferr = fn(h, it.Data())
			}
		}
		if it.Err() != nil {
			return it.Err()
		}
	}
}

// Recv reads the next datagram's messages (for monitor).
func (c *Conn) Recv(fn func(h netlink.Header, data []byte) error) error {
	if c.walking {
		return ErrReentered
	}
	c.walking = true
	defer func() { c.walking = false }()
	n, err := c.t.Recv(c.rx)
	if err != nil {
		return err
	}
	it := netlink.NewMessageIter(c.rx[:n])
	for it.Next() {
		if err := fn(it.Header(), it.Data()); err != nil {
			return err
		}
	}
	return it.Err()
}
