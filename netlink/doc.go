// Package netlink encodes and decodes the netlink wire format (man 7
// netlink) so that usnet can answer real netlink clients byte for byte as
// Linux does.
//
// It knows messages (struct nlmsghdr and NLMSG_ALIGN padding), attributes
// (struct nlattr / struct rtattr TLVs, nested to a bounded depth), the
// replies the kernel itself generates (NLMSG_ERROR with or without the
// echoed request and extended-ACK TLVs, NLMSG_DONE, acknowledgements),
// dump packing into datagrams of bounded size, and the meaning of the
// request flags. It does no I/O: callers hand it bytes and get bytes back.
//
// Parsing follows the kernel's netlink_rcv_skb: messages are walked with
// NLMSG_ALIGN, the last message may lack its padding, and bytes left over
// that are too short to hold a header are ignored. Unlike the kernel, which
// silently drops the rest of a buffer after a bad length, the parsers here
// report it with ErrShortLen or ErrLenOverrun so callers can decide.
//
// Decoders never panic on any input and never allocate on the success path
// (ParseMessages allocates only its result slice; MessageIter and
// AttributeDecoder allocate nothing). Encoders append to a caller-owned
// []byte and allocate only when it must grow. Multi-byte fields are in host
// byte order, as on a real netlink socket; this package uses
// encoding/binary.NativeEndian.
package netlink
