// Package rtnl is usnet's rtnetlink control plane: it answers rtnetlink
// requests (man 7 rtnetlink) against the namespaces of a stack.Stack and
// multicasts the notifications Linux sends, so that iproute2-style clients
// and `ip monitor` see what they would see on a real kernel.
//
// A Server hosts netlink sockets. Open binds a Socket in one namespace with
// a kernel-like port id; Send hands it a request datagram (a batch of
// messages), Recv returns reply and notification datagrams with their
// boundaries, from a bounded receive queue whose overflow makes the next
// Recv fail with ENOBUFS (netlink_overrun). Join/Leave are
// NETLINK_ADD/DROP_MEMBERSHIP, SetOption sets NETLINK_CAP_ACK,
// NETLINK_EXT_ACK and NETLINK_GET_STRICT_CHK.
//
// Requests are handled as net/core/rtnetlink.c does: messages of a batch
// in order; messages without NLM_F_REQUEST or of control types only
// acknowledged; changes (every type but RTM_GET*) need CAP_NET_ADMIN
// (Cred.Admin), else EPERM; errors as NLMSG_ERROR with the kernel's errno
// and, with NETLINK_EXT_ACK, the message and attribute offset; dumps
// packed into datagrams of at most 32 KiB ending with NLMSG_DONE, handed
// to the queue as the reader drains it (netlink_dump), one dump per socket
// at a time (EBUSY). Handlers run under stack.Stack.RTNL and on the
// namespace executor (executor.Do); creating and deleting links, which
// spans namespaces, runs outside it and enters it per step.
//
// Dumps are consistent snapshots: each is generated in one executor turn,
// so NLM_F_DUMP_INTR is never needed and never set.
//
// Notifications: the server subscribes to the device table, the IPv4
// address list, the neighbour table and the FIB of every namespace in
// which a socket is opened, and emits RTM_NEW/DELLINK, NEW/DELADDR,
// NEW/DELROUTE, NEW/DELRULE, NEW/DELNEIGH, NEW/DELNETCONF and
// NEW/DELNSID on RTNLGRP_LINK, IPV4_IFADDR, IPV4_ROUTE, IPV4_RULE, NEIGH,
// IPV4_NETCONF and NSID with the port id and sequence number rules of the kernel
// (see notify.go). NLM_F_ECHO is honoured where the kernel honours it
// (addresses, routes, rules; for links, the RTM_NEWLINK of the device a
// request creates and the RTM_DELLINK of each device it deletes): the
// requester then gets its copy by unicast and not a second one through
// the group. The RTM_DELLINK of a veth peer in another namespace names
// the requester as well but reaches only that namespace's group: the
// kernel unicasts its echo to the requester's port id in the peer's
// namespace, which in usnet no socket owns.
//
// Addresses keep Linux's lifetimes (package ipv4: IFA_CACHEINFO on
// RTM_NEWADDR, NLM_F_REPLACE renewing them): on the namespace clock an
// address becomes IFA_F_DEPRECATED when its preferred lifetime ends
// (RTM_NEWADDR without port id) and is deleted with its routes when its
// valid lifetime ends, as check_lifetime does. IFLA_OPERSTATE and
// IFLA_LINKMODE are applied as set_operstate and linkwatch's
// rfc2863_policy apply them (package netdev): a device keeps its state
// while down, reported DOWN, so one that never reports carrier (dummy,
// loopback) comes back up with what userspace set. Every driver that
// reports carrier changes it through linkwatch (netdev.SetCarrierLinkwatch):
// a veth end brought up while its peer is up is announced with
// IFF_LOWER_UP and its old state by the request, then with RUNNING and
// its new state by linkwatch, as is its peer; a peer losing its carrier
// is announced by linkwatch; a bridge opened with a live port likewise,
// and a bridge's carrier follows its ports in the run after the port's
// (a port counts once its operational state is UP); macvlan, vlan and
// ipvlan take their lower's carrier, up or down, in the run after the
// lower's; bond, tap and AF_PACKET devices announce theirs by linkwatch.
// A bridge, macvlan or ipvlan registered with carrier is UNKNOWN until
// its first run (a bridge that never had a port stays UNKNOWN while up);
// VXLAN, dummy and loopback never report carrier (UNKNOWN while up).
// IFF_RUNNING follows the operational state alone (dev_get_flags), so a
// device whose carrier went in a request is RUNNING without LOWER_UP
// until the run. Every promiscuity change sends an RTM_NEWLINK
// (__dev_set_promiscuity), a bridge port's too.
//
// Routes and rules (route.go, rule.go) are written against package fib.
//
// Known differences from Linux 6.18:
//
//   - usnet has no IPv6 yet: every device is as a Linux device with
//     disable_ipv6=1. Its AF_INET6 part of IFLA_AF_SPEC carries only the
//     flags and the address generation mode (package addrconf; settable
//     with IFLA_INET6_ADDR_GEN_MODE, but an IPv6 token is refused with
//     EOPNOTSUPP), not the devconf array, statistics or token; there is
//     no IPv6 netconf and there are no IPv6 neighbours. An AF_INET part
//     in a request (IFLA_INET_CONF) is accepted and not applied.
//   - IFLA_NUM_TX/RX_QUEUES are the counts Linux would allocate (veth:
//     one per CPU; bond: 16; others 1, or what the creating request
//     asked), but the data path has no per-queue state.
//     IFLA_CARRIER_UP/DOWN_COUNT are derived from the change count.
//   - IFLA_BROADCAST is not settable. IFF_DORMANT can be set in
//     ifi_flags (Linux ignores it there and shows the driver's dormant
//     state), and makes the device DORMANT.
//   - Linux runs linkwatch as a work item once the request that changed
//     a carrier releases the RTNL, and a run within a second of the
//     last full one handles only urgent events (devices that are up),
//     leaving a down device's event for up to a second; usnet runs it
//     right after the request, for every event. A request that follows
//     at once can therefore meet an older state on Linux: a request
//     within microseconds may even come before the run (a veth end
//     taken down and at once its peer: the peer's lost carrier goes
//     unannounced), and one within the second may find a down end not
//     yet handled (an end taken down and up again comes up with the
//     state it had before, where usnet shows the state without carrier).
//     Urgency also orders a run on Linux: a veth whose peer in another
//     namespace has its own ifindex is not urgent, so within the second
//     an upper device queued after it (a macvlan) can be announced first.
//   - The bridge sends no AF_BRIDGE RTM_NEWLINK/DELLINK for its ports
//     (br_ifinfo_notify). Its features are not intersected from its
//     ports': it announces a feature change (NETDEV_FEAT_CHANGE, without
//     IFLA_EVENT) when its first port comes and its last goes, which is
//     when the kernel's change for ports that share their offloads.
//   - Addresses whose lifetimes end in the same check are handled in
//     device and address-list order; the kernel walks its address hash,
//     seeded per namespace, so the order of their notifications can
//     differ.
//   - The RTM_DELLINK of a device moving to another namespace carries
//     IFLA_NEW_IFINDEX only when the device keeps its ifindex there.
//   - An over-long fixed-size attribute is EINVAL (rtmsg's strict
//     decoding); the kernel's legacy rtnetlink parsing accepts some.
//
// Namespaces: Linux names a namespace in two ways, and so does usnet.
//
//   - A reference, valid in the whole process: IFLA_NET_NS_PID,
//     IFLA_NET_NS_FD, NETNSA_PID and NETNSA_FD carry a process id or a file
//     descriptor on Linux. usnet has neither, so all four carry the
//     namespace's process-wide number netns.Net.ID (the role of its
//     inode), which the daemon's netns-id verb hands out for a name.
//     Unknown values fail as the kernel's lookups do (PID: ESRCH, FD:
//     EBADF).
//   - An nsid, valid only in the namespace that assigned it
//     (netns.Net.PeerID): IFLA_LINK_NETNSID, IFLA_TARGET_NETNSID,
//     NETNSA_NSID, NETNSA_TARGET_NSID and NETNSA_CURRENT_NSID. Ids are
//     allocated as the kernel allocates them, the lowest free one from 0:
//     when a link message names a peer namespace (rtnl_fill_link_netnsid,
//     also for messages nobody listens to), when a device moves (the old
//     namespace names the new one in the RTM_DELLINK, IFLA_NEW_NETNSID),
//     or explicitly with RTM_NEWNSID. They
//     are announced with RTM_NEWNSID on RTNLGRP_NSID (with the requester's
//     port id and sequence number for an explicit one, NLM_F_ECHO
//     honoured) and dropped with RTM_DELNSID when the peer namespace is
//     deleted. RTM_GETNSID answers by reference or by nsid, optionally as
//     seen from NETNSA_TARGET_NSID, and dumps a table (the target only
//     with strict checking, as the kernel reads it only then).
//
// The link namespace an nsid is relative to is the device's, which in
// usnet is always the requester's (link requests with
// IFLA_TARGET_NETNSID move or create devices; listing the links of
// another namespace that way is not supported). The veth end created in
// a peer namespace names its peer in its first RTM_NEWLINK, which the
// kernel's does not (its peer is not yet attached then), so that
// namespace may allocate its id for the creator earlier than Linux.
package rtnl
