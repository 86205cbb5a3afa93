package netlink

import (
	"encoding/binary"
	"errors"

	"golang.org/x/sys/unix"
)

// HeaderLen is the size of struct nlmsghdr on the wire.
const HeaderLen = unix.NLMSG_HDRLEN

// Errors returned by the message parsers. They are static so a flood of
// malformed requests costs no allocations.
var (
	// ErrShortLen: nlmsg_len is smaller than the 16-byte header.
	ErrShortLen = errors.New("netlink: nlmsg_len shorter than header (len < 16)")
	// ErrLenOverrun: nlmsg_len runs past the end of the buffer.
	ErrLenOverrun = errors.New("netlink: nlmsg_len exceeds remaining buffer (len > remaining)")
	// ErrTruncated: a buffer is too short for a fixed-size structure.
	ErrTruncated = errors.New("netlink: truncated message")
)

// Header is struct nlmsghdr.
type Header struct {
	Len   uint32 // total length including the header, as on the wire
	Type  uint16
	Flags uint16
	Seq   uint32
	Pid   uint32
}

// Message is one netlink message: its header and the payload that follows
// it (nlmsg_len - 16 bytes, without trailing alignment padding).
type Message struct {
	Header Header
	Data   []byte
}

// Align rounds n up to the 4-byte netlink alignment (NLMSG_ALIGN, NLA_ALIGN).
func Align(n int) int { return (n + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1) }

// DecodeHeader reads a nlmsghdr from the start of b without checking
// nlmsg_len against anything.
func DecodeHeader(b []byte) (Header, error) {
	if len(b) < HeaderLen {
		return Header{}, ErrTruncated
	}
	ne := binary.NativeEndian
	return Header{
		Len:   ne.Uint32(b[0:4]),
		Type:  ne.Uint16(b[4:6]),
		Flags: ne.Uint16(b[6:8]),
		Seq:   ne.Uint32(b[8:12]),
		Pid:   ne.Uint32(b[12:16]),
	}, nil
}

// AppendHeader appends h as 16 bytes, with h.Len as given.
func AppendHeader(b []byte, h Header) []byte {
	ne := binary.NativeEndian
	b = ne.AppendUint32(b, h.Len)
	b = ne.AppendUint16(b, h.Type)
	b = ne.AppendUint16(b, h.Flags)
	b = ne.AppendUint32(b, h.Seq)
	return ne.AppendUint32(b, h.Pid)
}

// AppendMessage appends a complete message: the header with Len set to
// 16+len(data), the data, and zero padding to the next 4-byte boundary.
func AppendMessage(b []byte, h Header, data []byte) []byte {
	h.Len = uint32(HeaderLen + len(data))
	b = AppendHeader(b, h)
	b = append(b, data...)
	return appendPad(b, len(data))
}

// MarshalBinary encodes m as AppendMessage does (Header.Len is recomputed).
func (m Message) MarshalBinary() ([]byte, error) {
	return AppendMessage(make([]byte, 0, HeaderLen+Align(len(m.Data))), m.Header, m.Data), nil
}

// appendPad appends the zero bytes that align a field of length n.
func appendPad(b []byte, n int) []byte {
	var zero [unix.NLMSG_ALIGNTO]byte
	return append(b, zero[:Align(n)-n]...)
}

// MessageIter walks the messages of a buffer without allocating.
//
//	it := netlink.NewMessageIter(buf)
//	for it.Next() { h, data := it.Header(), it.Data() ... }
//	if err := it.Err(); err != nil { ... }
type MessageIter struct {
	b    []byte
	off  int // offset of the next message
	cur  int // offset of the current message
	h    Header
	data []byte
	err  error
}

// NewMessageIter returns an iterator over the messages in b.
func NewMessageIter(b []byte) MessageIter { return MessageIter{b: b} }

// Next advances to the next message. It returns false at the end of the
// buffer, when fewer bytes than a header remain (trailing padding, which
// the kernel ignores too), or on a bad length, which Err then reports.
func (it *MessageIter) Next() bool {
	if it.err != nil {
		return false
	}
	rest := it.b[it.off:]
	if len(rest) < HeaderLen {
		return false
	}
	h, _ := DecodeHeader(rest)
	if h.Len < HeaderLen {
		it.err = ErrShortLen
		return false
	}
	if uint64(h.Len) > uint64(len(rest)) {
		it.err = ErrLenOverrun
		return false
	}
	it.h, it.cur = h, it.off
	it.data = rest[HeaderLen:h.Len:h.Len]
	// The last message of a buffer may lack its alignment padding.
	it.off += min(Align(int(h.Len)), len(rest))
	return true
}

// Header returns the current message's header.
func (it *MessageIter) Header() Header { return it.h }

// Data returns the current message's payload; it aliases the buffer.
func (it *MessageIter) Data() []byte { return it.data }

// Raw returns the current message's bytes, header included, without
// trailing padding.
func (it *MessageIter) Raw() []byte { return it.b[it.cur : it.cur+int(it.h.Len)] }

// Offset returns the offset of the current message in the buffer.
func (it *MessageIter) Offset() int { return it.cur }

// Err returns the error that stopped the iteration, if any.
func (it *MessageIter) Err() error { return it.err }

// ParseMessages splits b into messages. Data slices alias b. Trailing bytes
// too short for a header are ignored. On a bad length it returns the
// messages before it together with ErrShortLen or ErrLenOverrun.
func ParseMessages(b []byte) ([]Message, error) {
	var msgs []Message
	it := NewMessageIter(b)
	for it.Next() {
		msgs = append(msgs, Message{Header: it.Header(), Data: it.Data()})
	}
	return msgs, it.Err()
}
