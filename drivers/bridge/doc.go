// Package bridge is the Linux Ethernet bridge (net/bridge): a device whose
// ports are other Ethernet devices. It learns source addresses into a
// bounded forwarding database (FDB) that ages, forwards known unicast to
// one port and floods the rest under per-port flags, runs 802.1D spanning
// tree (br_stp*.c) to break loops, filters and tags by VLAN when
// vlan_filtering is on, and delivers frames addressed to itself to its
// own stack, so the bridge is an L3 interface.
//
// Everything runs on the namespace's executor: ports hook their receive
// path with an rx handler, timers (ageing, hello, forward delay, message
// age, topology change) are executor timers, and the forwarding path
// allocates nothing.
package bridge
