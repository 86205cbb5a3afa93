// Package arp is IPv4 address resolution over Ethernet (RFC 826), Linux's
// net/ipv4/arp.c: the neigh.Ops of the namespace's IPv4 neighbour table
// and the receive handler of EtherType 0x0806.
//
// It answers requests for local addresses under the arp_ignore and
// arp_filter rules, answers for others' addresses with proxy_arp, learns
// senders into the neighbour table as arp_process does (a request for us
// creates the sender's entry, as neigh_event_ns; other frames only
// refresh existing entries, under the locktime rule, unless arp_accept
// lets them create one), chooses the source of its requests by
// arp_announce, and sends gratuitous ARP when a device comes up or
// changes its address with arp_notify set.
//
// The IPv4 layer's addresses, routes and per-device settings reach it
// through the Addrs interface, the handful of Linux functions arp.c calls
// (inet_addr_type_dev_table, inet_select_addr, inet_confirm_addr,
// ip_route_input, ip_route_output), so this package does not depend on
// package ipv4.
//
// Malformed frames are counted and dropped; nothing a frame holds can
// make the handler panic (see FuzzARPInput).
package arp
