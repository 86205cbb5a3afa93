// Package header reads, validates and writes the wire headers usnet's
// protocol code uses: Ethernet II with 802.1Q/802.1ad tags, ARP for
// Ethernet/IPv4, IPv4 with its options, ICMPv4, UDP and TCP with its
// options, and the Internet checksum (RFC 1071, RFC 1624).
//
// Every header is a named []byte view (type IPv4 []byte, ...) that aliases
// the packet buffer: nothing is copied and nothing is allocated. A view
// is obtained from its Parse function, which applies the same length and
// field checks the Linux receive path does (ip_rcv_core, udp_rcv,
// tcp_v4_rcv, icmp_rcv, arp_rcv) before any accessor runs. Accessors on a
// view that passed its Parse function never panic; the Parse functions
// never panic on any input. Converting an arbitrary []byte to a view
// without parsing it is allowed but then the accessors may panic: that is
// a programming error, not a packet error.
//
// Errors are static values wrapping one of the sentinels (ErrTruncated,
// ErrBadLength, ErrBadVersion, ErrBadChecksum, ErrBadOption, ErrBadField),
// so errors.Is works and rejecting a malformed packet allocates nothing:
// a flood of garbage must not turn into garbage-collector work.
//
// Builders (BuildIPv4, BuildTCP, ...) write a header into a caller's
// buffer from a Fields struct; Parse(Build(f)) gives f back. Transport
// checksums cover a payload the builder does not see, so they are filled
// by a separate FillChecksum call once the payload is in place.
package header
