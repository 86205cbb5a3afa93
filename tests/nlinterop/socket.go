package nlinterop

import (
	"iter"
	"syscall"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	usnl "github.com/usnet/usnet/netlink"
)

// Transport is a usnet netlink socket: an in-process *rtnl.Socket or a
// *daemon.NetlinkConn.
type Transport interface {
	Send(datagram []byte) error
	Recv(buf []byte) (int, error)
	Close() error
	Join(group int) error
	Leave(group int) error
	SetOption(opt int, on bool) error
	PortID() uint32
}

// Socket implements netlink.Socket (and the optional group, option and
// buffer interfaces mdlayher's Conn looks for) over a Transport.
type Socket struct {
	t  Transport
	rx []byte
	tx []byte
}

var _ netlink.Socket = (*Socket)(nil)

// NewSocket wraps t.
func NewSocket(t Transport) *Socket { return &Socket{t: t, rx: make([]byte, 1<<17)} }

// NewConn returns mdlayher's Conn over t, with t's port id, as
// netlink.Dial returns it over a kernel socket.
func NewConn(t Transport) *netlink.Conn { return netlink.NewConn(NewSocket(t), t.PortID()) }

// Close closes the transport.
func (s *Socket) Close() error { return s.t.Close() }

// Send sends one message as one datagram.
func (s *Socket) Send(m netlink.Message) error { return s.SendMessages([]netlink.Message{m}) }

// SendMessages sends a batch of messages in one datagram.
func (s *Socket) SendMessages(ms []netlink.Message) error {
	s.tx = s.tx[:0]
	for _, m := range ms {
		b, err := m.MarshalBinary()
		if err != nil {
			return err
		}
		s.tx = append(s.tx, b...)
	}
	return s.t.Send(s.tx)
}

// Receive reads one datagram and splits it into messages.
func (s *Socket) Receive() ([]netlink.Message, error) {
	var out []netlink.Message
	for m, err := range s.ReceiveIter() {
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// ReceiveIter reads one datagram and yields its messages, which own
// their bytes.
func (s *Socket) ReceiveIter() iter.Seq2[netlink.Message, error] {
	return func(yield func(netlink.Message, error) bool) {
		n, err := s.t.Recv(s.rx)
		if err != nil {
			yield(netlink.Message{}, err)
			return
		}
		it := usnl.NewMessageIter(s.rx[:n])
		for it.Next() {
			h := it.Header()
			m := netlink.Message{
				Header: netlink.Header{
					Length:   h.Len,
					Type:     netlink.HeaderType(h.Type),
					Flags:    netlink.HeaderFlags(h.Flags),
					Sequence: h.Seq,
					PID:      h.Pid,
				},
				Data: append([]byte(nil), it.Data()...),
			}
			if !yield(m, nil) {
				return
			}
		}
		if err := it.Err(); err != nil {
			yield(netlink.Message{}, err)
		}
	}
}

// JoinGroup joins an RTNLGRP_* multicast group.
func (s *Socket) JoinGroup(g uint32) error { return s.t.Join(int(g)) }

// LeaveGroup leaves a multicast group.
func (s *Socket) LeaveGroup(g uint32) error { return s.t.Leave(int(g)) }

// SetOption maps mdlayher's options onto the SOL_NETLINK ones usnet has.
func (s *Socket) SetOption(o netlink.ConnOption, on bool) error {
	switch o {
	case netlink.ExtendedAcknowledge:
		return s.t.SetOption(unix.NETLINK_EXT_ACK, on)
	case netlink.CapAcknowledge:
		return s.t.SetOption(unix.NETLINK_CAP_ACK, on)
	case netlink.GetStrictCheck:
		return s.t.SetOption(unix.NETLINK_GET_STRICT_CHK, on)
	}
	return syscall.ENOPROTOOPT
}
