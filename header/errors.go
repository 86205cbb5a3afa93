package header

import "errors"

// Sentinel errors. Every error returned by this package wraps exactly one
// of them.
var (
	// ErrTruncated: the buffer is shorter than the header or than a
	// length field says (Linux counts these as InTruncatedPkts).
	ErrTruncated = errors.New("truncated")
	// ErrBadLength: a length field is inconsistent with itself (IHL < 5,
	// total length < header length, TCP data offset < 5, ...).
	ErrBadLength = errors.New("bad length")
	// ErrBadVersion: the IP version nibble is not the expected one.
	ErrBadVersion = errors.New("bad version")
	// ErrBadChecksum: a checksum does not verify.
	ErrBadChecksum = errors.New("bad checksum")
	// ErrBadOption: an IPv4 or TCP option is malformed.
	ErrBadOption = errors.New("bad option")
	// ErrBadField: a field holds a value this header does not support
	// (ARP hardware type, unknown opcode) or a builder was given one.
	ErrBadField = errors.New("bad field")
)

// hdrError is a static, descriptive error wrapping a sentinel. Values are
// package-level and immutable, so returning one never allocates.
type hdrError struct {
	msg  string
	kind error
}

func (e *hdrError) Error() string { return e.msg + ": " + e.kind.Error() }
func (e *hdrError) Unwrap() error { return e.kind }

func newErr(msg string, kind error) error { return &hdrError{msg, kind} }
