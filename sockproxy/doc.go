// Package sockproxy lets a process outside the daemon use sockets that live
// in a usnet namespace (LibOS's rump syscall proxy): the client asks over a
// unix-domain control connection for a TCP, UDP or ping socket, and gets a
// real file descriptor for the data path, passed with SCM_RIGHTS.
//
// # Protocol
//
// After the daemon's hello has bound the control connection to a
// namespace, the client sends requests and the server answers each with
// one reply; both are one JSON object per message. A reply that opens a
// socket carries two descriptors: the data descriptor and the socket's
// own control descriptor (below).
//
//   - {"op":"dial","net":"tcp","addr":"10.0.0.1:80"}: a connected TCP
//     socket. The data descriptor is one end of a SOCK_STREAM socketpair
//     whose other end the server joins to the usnet connection byte for
//     byte. The control connection may be reused for more requests.
//   - {"op":"listen","net":"tcp","addr":":80"}: a listening socket. The
//     reply has no descriptor; from then on the control connection belongs
//     to the listener: the server sends {"op":"accept","laddr","raddr"}
//     with the descriptors of each accepted connection; closing the control
//     connection closes the listener.
//   - {"op":"listenpacket","net":"udp"|"ip4:icmp"|"udp4:icmp","addr":...}
//     and {"op":"dial","net":"udp",...}: a datagram socket. The data
//     descriptor is one end of a SOCK_SEQPACKET socketpair; every datagram
//     on it starts with an 8-byte address header (IPv4 address, port
//     big-endian, a TTL byte, a zero byte): the destination when the
//     client writes, the source when it reads. A zero address writes to
//     the connected peer. The TTL byte is the received IP header's TTL on
//     a ping socket (what IP_RECVTTL gives on Linux) and 0 otherwise.
//
// # Socket control
//
// The control descriptor (SOCK_SEQPACKET) carries what a kernel socket
// does with system calls other than read and write, as requests the
// server answers one by one: {"op":"setsockopt"|"getsockopt","opt":NAME,
// "int":N,"str":S,"keepalive":{...}} with NAME one of linger (SO_LINGER),
// nodelay (TCP_NODELAY), quickack (TCP_QUICKACK), keepalive
// (SO_KEEPALIVE), keepaliveperiod (TCP_KEEPIDLE and TCP_KEEPINTVL, int
// in ns), keepaliveconfig (all of
// net.KeepAliveConfig), rcvbuf (SO_RCVBUF), sndbuf (SO_SNDBUF) and
// congestion (TCP_CONGESTION), and for reading only info (TCP_INFO: a
// tcp.Info in the reply's "info") and error (SO_ERROR: the
// errno that ended the usnet connection, such as ECONNRESET, cleared by
// the query; TCPConn.Read asks at the data stream's EOF, so a reset fails
// one read as on a kernel socket); {"op":"shutdown","int":SHUT_RD|SHUT_WR};
// {"op":"close"}. An option the usnet socket lacks answers ENOPROTOOPT.
//
// A stream's end needs both descriptors, because EOF on the data stream
// alone cannot tell shutdown(SHUT_WR) from close: the server waits for
// the data stream's EOF, so that no byte written before is lost, and
// then does what the control descriptor says: a shutdown request sends
// FIN (CloseWrite); a close request, or the control descriptor closing,
// closes the usnet connection, with SO_LINGER as set (0: RST). A client
// that closes the data descriptor with received data unread makes the
// server reset the connection, as close(2) does on Linux. Shutdown of
// the data descriptor by other means (a raw shutdown through
// SyscallConn) sends nothing until the socket is closed.
// shutdown(SHUT_RD) stops the usnet socket's receiving side: what the
// client has not read yet is still delivered, then EOF.
//
// What cannot cross: socket options set on the data descriptor itself
// (SyscallConn, ListenConfig.Control) reach the unix socket, not the
// usnet one; the client types offer the Go methods instead.
//
// # Privileges
//
// Serve acts for a client with the credentials in Cred. A client
// without privileges (Linux's CAP_NET_BIND_SERVICE and CAP_NET_RAW)
// gets what Linux gives such a process: binding a TCP or UDP port below
// the namespace's ip_unprivileged_port_start (1024) is EACCES; "ip4:icmp"
// and "ip4:1", which are raw sockets in Go's net package, are EPERM; the
// ICMP datagram socket "udp4:icmp" is open to the groups in the
// namespace's ping_group_range (default "1 0": nobody, privileged or
// not), else EACCES. The proxy offers no SO_BINDTODEVICE.
//
// Errors come back as {"errno":N,"err":"text"} and become *net.OpError
// with the same syscall.Errno on the client, as for a kernel socket.
package sockproxy
