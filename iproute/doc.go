// Package iproute is `usnet ip`: iproute2's ip(8) command line — the
// link, address, route, rule, neighbour, netns and monitor objects — with
// its syntax, its text and JSON output and its error messages and exit
// codes, speaking rtnetlink through a Transport.
//
// The same code drives the real kernel (KernelTransport, a NETLINK_ROUTE
// socket opened inside a named network namespace) and the usnet daemon
// (any Transport carrying netlink datagrams), so tests can compare usnet
// with Linux and with iproute2 line by line (tests/ipcompat).
//
// Output follows iproute2 6.1: every printed field goes through one
// printer that writes either the text form or the JSON form (-j, -p), so
// the two never disagree on which fields appear and in which order.
package iproute
