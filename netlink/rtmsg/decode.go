package rtmsg

import (
	"encoding"
	"errors"

	"golang.org/x/sys/unix"
)

// ErrUnknownType: the message type is not an rtnetlink type this package
// models.
var ErrUnknownType = errors.New("rtmsg: message type not modelled")

// Message is any of the payload types of this package.
type Message interface {
	encoding.BinaryUnmarshaler
	encoding.BinaryMarshaler
	encoding.BinaryAppender
}

// New returns an empty payload value for an rtnetlink message type
// (RTM_NEWLINK ... RTM_GETNETCONF, RTM_NEWNSID ... RTM_GETNSID), or nil for other types.
func New(msgType uint16) Message {
	switch msgType {
	case unix.RTM_NEWLINK, unix.RTM_DELLINK, unix.RTM_GETLINK, unix.RTM_SETLINK:
		return new(Link)
	case unix.RTM_NEWADDR, unix.RTM_DELADDR, unix.RTM_GETADDR:
		return new(Addr)
	case unix.RTM_NEWROUTE, unix.RTM_DELROUTE, unix.RTM_GETROUTE:
		return new(Route)
	case unix.RTM_NEWNEIGH, unix.RTM_DELNEIGH, unix.RTM_GETNEIGH:
		return new(Neigh)
	case unix.RTM_NEWRULE, unix.RTM_DELRULE, unix.RTM_GETRULE:
		return new(Rule)
	case unix.RTM_NEWNETCONF, unix.RTM_DELNETCONF, unix.RTM_GETNETCONF:
		return new(Netconf)
	case unix.RTM_NEWNSID, unix.RTM_DELNSID, unix.RTM_GETNSID:
		return new(Nsid)
	}
	return nil
}

// Decode decodes the payload of a message of type msgType.
func Decode(msgType uint16, data []byte) (Message, error) {
	m := New(msgType)
	if m == nil {
		return nil, ErrUnknownType
	}
	if err := m.UnmarshalBinary(data); err != nil {
		return nil, err
	}
	return m, nil
}
