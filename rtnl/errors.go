package rtnl

import (
	"errors"
	"syscall"

	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
)

// reqError is a handler's answer with the extended-ACK details the kernel
// attaches (NL_SET_ERR_MSG, NL_SET_BAD_ATTR).
type reqError struct {
	errno  syscall.Errno
	msg    string
	off    int // offset of the bad attribute from the nlmsghdr; -1: none
	policy []byte
}

func (e *reqError) Error() string {
	if e.msg != "" {
		return e.msg
	}
	return e.errno.Error()
}

func (e *reqError) Unwrap() error { return e.errno }

// errMsg returns errno with an extended-ACK message.
func errMsg(errno syscall.Errno, msg string) error { return &reqError{errno: errno, msg: msg, off: -1} }

// errAttr returns errno pointing at the attribute at off.
func errAttr(errno syscall.Errno, msg string, off int) error {
	return &reqError{errno: errno, msg: msg, off: off}
}

// errDumpStarted: a dump was started; NLMSG_DONE answers it, not an ACK
// (the kernel's internal -EINTR from netlink_dump_start).
var errDumpStarted = errors.New("rtnl: dump started")

// toErrno maps any handler error to the errno the kernel would report and
// the extended ACK that goes with it.
func toErrno(err error) (syscall.Errno, *netlink.ExtAck) {
	if err == nil {
		return 0, nil
	}
	var re *reqError
	if errors.As(err, &re) {
		ext := &netlink.ExtAck{Msg: re.msg, Policy: re.policy}
		if re.off >= 0 {
			ext.HasOffset, ext.Offset = true, uint32(re.off)
		}
		return re.errno, ext
	}
	var em interface{ ExtAckMsg() string }
	if errors.As(err, &em) {
		var errno syscall.Errno
		if !errors.As(err, &errno) {
			errno = syscall.EINVAL
		}
		return errno, &netlink.ExtAck{Msg: em.ExtAckMsg()}
	}
	var se *rtmsg.SizeError
	if errors.As(err, &se) {
		errno := se.Errno()
		ext := &netlink.ExtAck{Msg: "Attribute failed policy validation"}
		if errno == syscall.EINVAL {
			ext.Msg = "invalid attribute length"
		}
		return errno, ext
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno, nil
	}
	return syscall.EINVAL, nil
}

// sizeErr turns a decoding error of a request into the kernel's answer,
// locating the offending attribute when it can: off is the offset of the
// attribute run in the message (header included).
func decodeErr(err error, what string) error {
	if errors.Is(err, rtmsg.ErrTruncated) {
		return errMsg(syscall.EINVAL, "Invalid header for "+what)
	}
	var se *rtmsg.SizeError
	if errors.As(err, &se) {
		return err
	}
	return errMsg(syscall.EINVAL, "Invalid attributes for "+what)
}
