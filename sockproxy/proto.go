// Package sockproxy lets a process outside the daemon use sockets that live
// in a usnet namespace (LibOS's rump syscall proxy): the client asks over a
// unix-domain control connection for a TCP, UDP or ping socket, and gets a
// real file descriptor for the data path, passed with SCM_RIGHTS.
//
// Protocol. After the daemon's hello has bound the control connection to
// a namespace, the client sends requests and the server answers each with
// one reply; both are one JSON object per message. A reply that carries a
// data descriptor has it attached to the reply message.
//
//   - {"op":"dial","net":"tcp","addr":"10.0.0.1:80"}: a connected TCP
//     socket. The descriptor is one end of a SOCK_STREAM socketpair whose
//     other end the server joins to the usnet connection byte for byte;
//     shutdown(SHUT_WR) on it is a FIN (CloseWrite), EOF on it is the
//     peer's FIN. The control connection may be reused for more requests.
//   - {"op":"listen","net":"tcp","addr":":80"}: a listening socket. The
//     reply has no descriptor; from then on the control connection belongs
//     to the listener: the server sends {"op":"accept","laddr","raddr"}
//     with a stream descriptor per accepted connection; closing the control
//     connection closes the listener.
//   - {"op":"listenpacket","net":"udp"|"ip4:icmp","addr":...} and
//     {"op":"dial","net":"udp",...}: a datagram socket. The descriptor is
//     one end of a SOCK_SEQPACKET socketpair; every datagram on it starts
//     with an 8-byte address header (IPv4 address, port big-endian, a
//     TTL byte, a zero byte): the destination when the client writes, the
//     source when it reads. A zero address writes to the connected peer.
//     The TTL byte is the received IP header's TTL on a ping socket (what
//     IP_RECVTTL gives on Linux) and 0 otherwise.
//
// Errors come back as {"errno":N,"err":"text"} and become *net.OpError
// with the same syscall.Errno on the client, as for a kernel socket.
package sockproxy

import (
	"encoding/binary"
	"net"
	"net/netip"
)

// Request is a client's request.
type Request struct {
	Op   string `json:"op"`
	Net  string `json:"net"`
	Addr string `json:"addr,omitempty"`
}

// Reply answers a request, or announces an accepted connection.
type Reply struct {
	Op    string `json:"op,omitempty"`
	Errno int    `json:"errno,omitempty"`
	Err   string `json:"err,omitempty"`
	Laddr string `json:"laddr,omitempty"`
	Raddr string `json:"raddr,omitempty"`
}

// addrHeader is the per-datagram address header's length.
const addrHeader = 8

// maxDatagram bounds a proxied datagram (the largest UDP payload).
const maxDatagram = 65507

// ttlReader is a datagram socket that reports the TTL of what it
// receives (socket.PingConn).
type ttlReader interface {
	ReadFromTTL(p []byte) (n int, addr net.Addr, ttl int, err error)
}

func putAddr(h []byte, a netip.AddrPort) {
	ip := a.Addr().Unmap()
	if !ip.Is4() {
		ip = netip.IPv4Unspecified()
	}
	b := ip.As4()
	copy(h[0:4], b[:])
	binary.BigEndian.PutUint16(h[4:], a.Port())
	h[6], h[7] = 0, 0
}

func getAddr(h []byte) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte(h[0:4])), binary.BigEndian.Uint16(h[4:]))
}
