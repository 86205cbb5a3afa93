package netlink

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// Extended-ACK attribute types beyond those x/sys/unix names.
const (
	AttrErrPolicy   = 4 // NLMSGERR_ATTR_POLICY
	AttrErrMissType = 5 // NLMSGERR_ATTR_MISS_TYPE
	AttrErrMissNest = 6 // NLMSGERR_ATTR_MISS_NEST
)

// ExtAck is what a handler reports about a failed (or warned-about)
// request, as struct netlink_ext_ack. The TLVs are emitted only when the
// requesting socket enabled NETLINK_EXT_ACK.
type ExtAck struct {
	Msg    string // NLMSGERR_ATTR_MSG; sent for errors and for ACKs (warnings)
	Cookie []byte // NLMSGERR_ATTR_COOKIE
	// HasOffset selects NLMSGERR_ATTR_OFFS; Offset is the bad attribute's
	// byte offset from the start of the request's nlmsghdr.
	HasOffset bool
	Offset    uint32
	Policy    []byte // NLMSGERR_ATTR_POLICY payload, already encoded
	MissType  uint32 // NLMSGERR_ATTR_MISS_TYPE when non-zero
	// HasMissNest selects NLMSGERR_ATTR_MISS_NEST with MissNest the
	// offset of the nest missing an attribute.
	HasMissNest bool
	MissNest    uint32
}

// AckOptions are the socket options of the requesting socket that shape
// the kernel's NLMSG_ERROR reply.
type AckOptions struct {
	CapAck bool // NETLINK_CAP_ACK: do not echo the request payload
	ExtAck bool // NETLINK_EXT_ACK: append extended-ACK TLVs
}

// AppendError appends the NLMSG_ERROR reply to req, laid out as the
// kernel's netlink_ack: a nlmsghdr (type NLMSG_ERROR, seq of the request,
// pid = portid of the requesting socket), struct nlmsgerr whose msg is the
// request's header as received, then the request payload unless errno is
// 0 or NETLINK_CAP_ACK is set (flag NLM_F_CAPPED otherwise), then the
// extended-ACK TLVs if any are sent (flag NLM_F_ACK_TLVS). errno is
// negative (e.g. -int32(unix.EINVAL)) or 0 for an ACK.
func AppendError(b []byte, req Message, portid uint32, errno int32, opt AckOptions, ext *ExtAck) []byte {
	var flags uint16
	echo := errno != 0 && !opt.CapAck
	if !echo {
		flags |= unix.NLM_F_CAPPED
	}
	if opt.ExtAck && ext != nil && ackTLVLen(errno, ext) > 0 {
		flags |= unix.NLM_F_ACK_TLVS
	}
	start := len(b)
	b = AppendHeader(b, Header{Type: unix.NLMSG_ERROR, Flags: flags, Seq: req.Header.Seq, Pid: portid})
	b = binary.NativeEndian.AppendUint32(b, uint32(errno))
	b = AppendHeader(b, req.Header)
	if echo {
		b = append(b, req.Data...)
		b = appendPad(b, len(req.Data))
	}
	if flags&unix.NLM_F_ACK_TLVS != 0 {
		b = appendAckTLVs(b, errno, ext)
	}
	binary.NativeEndian.PutUint32(b[start:], uint32(len(b)-start))
	return b
}

// AppendAck appends the acknowledgement (NLMSG_ERROR with error 0) the
// kernel sends for a request with NLM_F_ACK that succeeded.
func AppendAck(b []byte, req Message, portid uint32, opt AckOptions, ext *ExtAck) []byte {
	return AppendError(b, req, portid, 0, opt, ext)
}

// ackTLVLen mirrors netlink_ack_tlv_len: which TLVs will be present.
func ackTLVLen(errno int32, ext *ExtAck) int {
	n := 0
	if ext.Msg != "" {
		n += Align(AttrHeaderLen + len(ext.Msg) + 1)
	}
	if len(ext.Cookie) > 0 {
		n += Align(AttrHeaderLen + len(ext.Cookie))
	}
	if errno == 0 {
		return n // the rest are only reported with an error
	}
	if ext.HasOffset {
		n += AttrHeaderLen + 4
	}
	if len(ext.Policy) > 0 {
		n += Align(AttrHeaderLen + len(ext.Policy))
	}
	if ext.MissType != 0 {
		n += AttrHeaderLen + 4
	}
	if ext.HasMissNest {
		n += AttrHeaderLen + 4
	}
	return n
}

// appendAckTLVs mirrors netlink_ack_tlv_fill's order: message, cookie,
// then (errors only) offset, policy, missing type, missing nest.
func appendAckTLVs(b []byte, errno int32, ext *ExtAck) []byte {
	e := AttributeEncoder{b: b}
	if ext.Msg != "" {
		e.String(unix.NLMSGERR_ATTR_MSG, ext.Msg)
	}
	if len(ext.Cookie) > 0 {
		e.PutBytes(unix.NLMSGERR_ATTR_COOKIE, ext.Cookie)
	}
	if errno != 0 {
		if ext.HasOffset {
			e.Uint32(unix.NLMSGERR_ATTR_OFFS, ext.Offset)
		}
		if len(ext.Policy) > 0 {
			e.PutBytes(AttrErrPolicy|unix.NLA_F_NESTED, ext.Policy)
		}
		if ext.MissType != 0 {
			e.Uint32(AttrErrMissType, ext.MissType)
		}
		if ext.HasMissNest {
			e.Uint32(AttrErrMissNest, ext.MissNest)
		}
	}
	return e.b
}

// AppendDone appends the NLMSG_DONE that ends a dump, as the kernel's
// netlink_dump_done: flags NLM_F_MULTI plus extra (NLM_F_DUMP_INTR,
// NLM_F_DUMP_FILTERED), a 4-byte payload holding the dump's final error
// (0 on success), and, when msg is non-empty and the socket enabled
// NETLINK_EXT_ACK, NLM_F_ACK_TLVS with a NLMSGERR_ATTR_MSG attribute.
func AppendDone(b []byte, seq, portid uint32, extra uint16, errno int32, extAck bool, msg string) []byte {
	flags := unix.NLM_F_MULTI | extra
	if extAck && msg != "" {
		flags |= unix.NLM_F_ACK_TLVS
	}
	start := len(b)
	b = AppendHeader(b, Header{Type: unix.NLMSG_DONE, Flags: flags, Seq: seq, Pid: portid})
	b = binary.NativeEndian.AppendUint32(b, uint32(errno))
	if flags&unix.NLM_F_ACK_TLVS != 0 {
		e := AttributeEncoder{b: b}
		e.String(unix.NLMSGERR_ATTR_MSG, msg)
		b = e.b
	}
	binary.NativeEndian.PutUint32(b[start:], uint32(len(b)-start))
	return b
}

// ErrorReply is a decoded NLMSG_ERROR payload.
type ErrorReply struct {
	Errno   int32  // 0 for an ACK, else a negative errno
	Request Header // header of the request it answers
	Payload []byte // echoed request payload (absent when NLM_F_CAPPED)
	TLVs    []byte // extended-ACK attributes (when NLM_F_ACK_TLVS)
}

// ParseError decodes the payload of an NLMSG_ERROR message whose header
// flags are flags, splitting echoed request and extended-ACK TLVs.
func ParseError(flags uint16, data []byte) (ErrorReply, error) {
	if len(data) < 4+HeaderLen {
		return ErrorReply{}, ErrTruncated
	}
	var r ErrorReply
	r.Errno = int32(binary.NativeEndian.Uint32(data))
	r.Request, _ = DecodeHeader(data[4:])
	rest := data[4+HeaderLen:]
	if flags&unix.NLM_F_CAPPED == 0 {
		n := int(r.Request.Len) - HeaderLen
		if n < 0 || n > len(rest) {
			return ErrorReply{}, ErrTruncated
		}
		r.Payload = rest[:n]
		rest = rest[min(Align(n), len(rest)):]
	}
	if flags&unix.NLM_F_ACK_TLVS != 0 {
		r.TLVs = rest
	}
	return r, nil
}

// AppendPolicyUnsigned appends the NLMSGERR_ATTR_POLICY payload the kernel
// sends when an unsigned integer attribute of the given width (8, 16, 32
// or 64 bits) fails policy validation: its full value range then its type,
// as netlink_policy_dump_write_attr lays out an unranged NLA_U*.
func AppendPolicyUnsigned(b []byte, bits int) []byte {
	typ, max := uint32(unix.NL_ATTR_TYPE_U32), uint64(1)<<32-1
	switch bits {
	case 8:
		typ, max = unix.NL_ATTR_TYPE_U8, 1<<8-1
	case 16:
		typ, max = unix.NL_ATTR_TYPE_U16, 1<<16-1
	case 64:
		typ, max = unix.NL_ATTR_TYPE_U64, ^uint64(0)
	}
	e := AttributeEncoder{b: b}
	e.Uint64(unix.NL_POLICY_TYPE_ATTR_MIN_VALUE_U, 0)
	e.Uint64(unix.NL_POLICY_TYPE_ATTR_MAX_VALUE_U, max)
	e.Uint32(unix.NL_POLICY_TYPE_ATTR_TYPE, typ)
	return e.b
}

// MsgPolicyValidation is the extended-ACK text of a policy failure
// (lib/nlattr.c validate_nla, -ERANGE).
const MsgPolicyValidation = "Attribute failed policy validation"
