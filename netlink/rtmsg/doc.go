// Package rtmsg gives typed Go forms to the rtnetlink messages (man 7
// rtnetlink) usnet exchanges with routing clients: links, addresses,
// routes, neighbours, policy rules and netconf, each with its fixed
// header (ifinfomsg, ifaddrmsg, rtmsg, ndmsg, fib_rule_hdr, netconfmsg)
// and its attributes, laid out as include/uapi/linux/rtnetlink.h,
// if_link.h, if_addr.h, neighbour.h, fib_rules.h and netconf.h say.
//
// Each type decodes a message payload (the bytes after the nlmsghdr) with
// UnmarshalBinary and encodes one with Encode, AppendBinary or
// MarshalBinary. Attributes the type does not model are kept in Unknown
// and written back after the known ones; they are never an error.
// Attributes are emitted in the order the kernel's fill functions use
// (rtnl_fill_ifinfo, inet_fill_ifaddr, fib_dump_info, neigh_fill_info,
// fib_nl_fill_rule), so encoded messages look like the kernel's.
//
// Attribute presence: a field is encoded when its value is non-zero or
// when its type is marked in the message's Attrs set. Decoding marks every
// attribute it saw, so decode-then-encode keeps explicit zeros such as
// IFLA_CARRIER 0. Builders set Attrs only to send a zero.
//
// A known attribute of the wrong size is an error of type *SizeError. Its
// Errno method gives what the kernel's policy check (lib/nlattr.c
// validate_nla) answers: ERANGE for a payload shorter than the type needs
// ("Attribute failed policy validation"), EINVAL for a longer one (strict
// validation, "invalid attribute length"). Note that rtnetlink's legacy
// parsing (nlmsg_parse_deprecated) tolerates longer payloads for older
// attribute types: the kernel accepted an 8-byte IFLA_MTU in the recorded
// reference (tests/kernelref/testdata/errors.txt); this package rejects it.
// A payload shorter than the fixed header is ErrTruncated (EINVAL).
//
// Multi-byte fields are in host byte order, as on a real netlink socket,
// except RTA_SPORT and RTA_DPORT, which the kernel reads as __be16
// (Route.SPort and DPort hold the port numbers; the codec swaps them).
// FRA_SPORT_RANGE and FRA_DPORT_RANGE are host order. Addresses are
// net/netip values; their wire size must match the message family
// (4 bytes for AF_INET, 16 for AF_INET6).
package rtmsg
