// Package client is the typed Go client of usnet's control plane: it
// configures the links, addresses, routes, neighbours and policy rules of
// a namespace, watches them change, and opens sockets in it, either in
// the same process as the stack (InProcess) or in a `usnet daemon` over
// its unix socket (Connect).
//
// There is no side door. Every call is an rtnetlink request (package
// netlink/rtmsg) handled by package rtnl exactly as `ip` would send it,
// so changes made here notify other clients, obey the same permission
// check (EPERM without CAP_NET_ADMIN) and fail with the errno Linux
// returns. Failures are *Error values that wrap a syscall.Errno
// (errors.Is(err, syscall.EEXIST) works) and carry the extended-ACK
// message when the server sent one.
//
// Subscribe turns the rtnetlink multicast groups into a channel of typed
// events; Interfaces combines the link and address streams into a live
// view of each interface with its addresses, as `ip address` prints it
// (the observer model of MidoNet's rtnetlink library). Both are bounded:
// the channel plus the netlink socket's receive queue. A consumer that
// falls behind makes the socket overrun, which it learns from an Overflow
// event (Linux reports ENOBUFS from recvmsg); Interfaces then re-reads the
// state and re-emits every interface. Filter, Map and Merge compose such
// streams (narrow them, reshape them, combine several namespaces').
//
// Namespace.Dial, Listen and ListenPacket return net.Conn, net.Listener
// and net.PacketConn values in the namespace: the stack's own sockets in
// process, or the daemon's socket proxy (real descriptors) remotely. Both
// kinds of TCP connection have *net.TCPConn's methods (CloseRead,
// CloseWrite, SetLinger, SetNoDelay, keepalive, buffers) and
// SetCongestion, and act on the usnet socket. Remotely the daemon
// applies Linux's privilege rules to the caller (see package daemon):
// ports below 1024 and raw sockets need an administrator.
package client
