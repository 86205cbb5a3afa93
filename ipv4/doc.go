// Package ipv4 is the IPv4 layer of a namespace (net/ipv4/ip_input.c,
// ip_output.c, ip_forward.c, ip_fragment.c, icmp.c, devinet.c): interface
// addresses and the routes they imply, address lifetimes (a timer on the
// executor deprecates and deletes them, as check_lifetime does; none is
// armed while every address is permanent), per-device configuration
// (forwarding, rp_filter, accept_local, ...), input with header validation,
// local delivery to registered transport protocols, forwarding, output with
// fragmentation, bounded reassembly, ICMP, and SNMP counters.
//
// It runs on the namespace executor. Routing decisions come from a Router
// (the fib package behind an adapter) and link-layer resolution from a
// Neigh (the neigh package), so this package owns the IP logic only.
package ipv4
