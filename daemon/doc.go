// Package daemon is the transport of `usnet daemon`: it hosts a real-time
// stack and serves rtnetlink (package rtnl) to local clients over a unix
// socket, and gives those clients a Go side (Dial, NetlinkConn).
//
// # Socket
//
// The daemon listens on a SOCK_SEQPACKET unix socket, so that every
// netlink datagram keeps its boundary both ways. Its path is $USNET_SOCKET
// when set, else /run/usnet/usnet.sock for root and
// $XDG_RUNTIME_DIR/usnet.sock for others (DefaultPath). The socket file
// is mode 0660.
//
// # Hello
//
// A connection starts with one hello datagram from the client, fields
// separated by NUL bytes:
//
//	"USNET1" NUL verb NUL argument
//
// verbs:
//
//	rtnetlink   argument: namespace name ("" = default). Binds a netlink
//	            socket in it; the connection then carries netlink.
//	socket      argument: namespace name. The connection then carries the
//	            socket proxy's requests (package sockproxy): TCP, UDP and
//	            ping sockets in that namespace, data over passed
//	            descriptors.
//	netns-add   argument: name. `ip netns add`.
//	netns-del   argument: name. `ip netns del`.
//	netns-list  no argument. `ip netns list`.
//	capture     argument: "NS/DEV" (NS empty: the default namespace). After
//	            "OK" the daemon sends the device's traffic as a pcapng
//	            stream (blocks in order, split across datagrams at will)
//	            until the client closes the connection.
//	port-stats  argument: namespace name. JSON object: device name →
//	            framed-I/O port counters (drops, flow-control events) of
//	            its host-backed devices, which rtnetlink has no field for.
//	netns-id    argument: name. The namespace's reference (decimal,
//	            netns.Net.ID), which usnet reads from the attributes
//	            that carry a process id or file descriptor naming a
//	            namespace on Linux (IFLA_NET_NS_PID/FD, NETNSA_PID/FD).
//	            Not an nsid: those are per namespace (RTM_GETNSID).
//	sysctl      argument: NS, NS NUL NAME, or NS NUL NAME NUL VALUE
//	            (NS empty: the default namespace). /proc/sys/net of the
//	            namespace (package sysctl): with NAME alone the payload is
//	            its value; with VALUE it writes; with NS alone the payload
//	            and further datagrams (32 KiB at most each) hold every
//	            name and value, all separated by NUL, sorted by name,
//	            until the daemon closes the connection.
//	            Errors: ENOENT (no such name or namespace), EINVAL (a
//	            value the kernel refuses), EACCES (a read-only name).
//
// The daemon answers with one datagram: "OK" NUL payload, or
// "ERR" NUL errno (decimal) NUL message. The payload is the netlink port
// id (decimal) for rtnetlink, the namespace names separated by NUL for
// netns-list (the default namespace is not listed, as `ip netns list`
// does not list the initial one), and empty otherwise. After a netns-*
// answer the daemon closes the connection.
//
// # Netlink phase
//
// After "OK" the client sends netlink request datagrams exactly as to an
// AF_NETLINK socket and receives replies and notifications. Socket
// options travel in band as control datagrams of 16 bytes, which no
// netlink datagram can be (their first four bytes, read as nlmsg_len,
// exceed the datagram):
//
//	"USNETCTL" op:u32 arg:u32   (host byte order)
//	op 1 join group arg, 2 leave group arg,
//	   3 set option arg on, 4 set option arg off (NETLINK_CAP_ACK,
//	     NETLINK_EXT_ACK, NETLINK_GET_STRICT_CHK), 5 receive buffer arg bytes
//
// They are applied in order with the requests and not answered. A receive
// queue overrun, which recvmsg reports as ENOBUFS on a real netlink
// socket, and a notification dropped because it could not be built
// (EMSGSIZE, an attribute past 64 KiB) reach the client as the datagram
// "USNETERR" errno:u32, and NetlinkConn.Recv returns that errno.
//
// # Access
//
// The daemon reads the peer's credentials when it connects: SO_PEERCRED
// (effective uid and gid) and SO_PEERGROUPS (supplementary groups; on
// kernels before 4.13 the Groups: line of /proc/PID/status, if that
// process still has the connection's ids). Administrators are root, the
// daemon's own user, and the members of the administrators' group when
// one is set (SetAdminGroup, `usnet daemon --admin-group NAME|GID`) by
// their effective or a supplementary group. They have what Linux grants
// with CAP_NET_ADMIN, CAP_NET_RAW and CAP_NET_BIND_SERVICE.
//
// Everyone else who can open the socket (mode 0660: the daemon's group)
// reads: dumps, monitor, netns-list/id, port-stats, sysctl reads. What
// Linux reserves to capabilities gets Linux's errno: every rtnetlink
// request but RTM_GET* answers EPERM (CAP_NET_ADMIN), and so does a
// sysctl write (after ENOENT and EACCES, which anyone gets, as open(2)
// of the /proc file gives them); netns-add/del answer EPERM;
// capture answers EPERM (a packet socket needs CAP_NET_RAW). Through the
// socket proxy such a client opens TCP and UDP sockets, but binding a
// port below the namespace's ip_unprivileged_port_start
// (ipv4.Sysctl.UnprivilegedPortStart, 1024) is EACCES, a raw ICMP socket
// ("ip4:icmp") is EPERM, and an ICMP datagram socket ("udp4:icmp") needs
// a group in the namespace's ping_group_range (default "1 0": nobody,
// administrators included, as on Linux) else EACCES. `usnet ping` tries
// the datagram socket and then the raw one, as iputils ping does, so on
// the default range administrators ping and other users get EPERM.
package daemon
