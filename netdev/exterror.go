package netdev

import "syscall"

// ExtError is an error with the text Linux puts in a netlink extended
// ACK (NL_SET_ERR_MSG) for it, so that rtnetlink replies carry the same
// message the kernel's do. Any package's error may provide that text with
// an ExtAckMsg method; this type is the common one.
type ExtError struct {
	Errno syscall.Errno
	Msg   string
}

func (e *ExtError) Error() string     { return e.Msg }
func (e *ExtError) Unwrap() error     { return e.Errno }
func (e *ExtError) ExtAckMsg() string { return e.Msg }
