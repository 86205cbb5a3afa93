package netlink

import (
	"golang.org/x/sys/unix"
)

// NewOp is what a NEW request asks for once its flags are weighed against
// whether the object already exists (see ResolveNew).
type NewOp int

const (
	// OpCreate: the object does not exist and NLM_F_CREATE allows creating it.
	OpCreate NewOp = iota + 1
	// OpReplace: the object exists and NLM_F_REPLACE asks to replace it.
	OpReplace
	// OpAppend: the object exists and NLM_F_APPEND asks to add another
	// entry after it (routes: a further alternative with the same key).
	OpAppend
	// OpExisting: the object exists and neither EXCL, REPLACE nor APPEND
	// was given. Links and addresses are then modified in place; for
	// routes with NLM_F_CREATE ("ip route prepend") a new entry goes in
	// front of the existing ones.
	OpExisting
)

// ResolveNew applies the kernel's meaning of the NEW request flags
// (man 7 netlink, fib_table_insert, rtnl_newlink):
//
//   - exists and NLM_F_EXCL: EEXIST, whatever else is set;
//   - exists and NLM_F_REPLACE: OpReplace;
//   - exists and NLM_F_APPEND: OpAppend;
//   - exists otherwise: OpExisting;
//   - missing and NLM_F_CREATE: OpCreate;
//   - missing otherwise: ENOENT (links report ENODEV; the caller maps it).
//
// The returned errno is positive and 0 when the operation may proceed.
func ResolveNew(flags uint16, exists bool) (NewOp, unix.Errno) {
	if exists {
		switch {
		case flags&unix.NLM_F_EXCL != 0:
			return 0, unix.EEXIST
		case flags&unix.NLM_F_REPLACE != 0:
			return OpReplace, 0
		case flags&unix.NLM_F_APPEND != 0:
			return OpAppend, 0
		}
		return OpExisting, 0
	}
	if flags&unix.NLM_F_CREATE != 0 {
		return OpCreate, 0
	}
	return 0, unix.ENOENT
}

// IsDump reports whether a GET request asks for a dump. rtnetlink tests
// nlmsg_flags & NLM_F_DUMP, so either NLM_F_ROOT or NLM_F_MATCH alone
// already selects a dump.
func IsDump(flags uint16) bool { return flags&unix.NLM_F_DUMP != 0 }

// IsRequest reports whether the kernel would hand the message to a
// handler at all: netlink_rcv_skb skips messages without NLM_F_REQUEST
// and control messages (type below NLMSG_MIN_TYPE), acknowledging them
// if NLM_F_ACK is set but doing nothing else.
func IsRequest(h Header) bool {
	return h.Flags&unix.NLM_F_REQUEST != 0 && h.Type >= unix.NLMSG_MIN_TYPE
}

// WantsAck reports whether an NLMSG_ERROR reply must be sent after a
// request finished with errno (0 or negative): always on error, on
// success only with NLM_F_ACK. A dump that was started (the kernel's
// internal -EINTR) is answered by its NLMSG_DONE instead; callers do not
// call this for dumps.
func WantsAck(flags uint16, errno int32) bool {
	return errno != 0 || flags&unix.NLM_F_ACK != 0
}

// Echo reports whether the requester asked for the resulting notification
// to be sent back to it as well (NLM_F_ECHO).
func Echo(flags uint16) bool { return flags&unix.NLM_F_ECHO != 0 }
