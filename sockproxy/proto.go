package sockproxy

import (
	"encoding/binary"
	"github.com/usnet/usnet/tcp"
	"net"
	"net/netip"
)

// Request is a client's request, on the control connection or on a
// socket's control descriptor.
type Request struct {
	Op   string `json:"op"`
	Net  string `json:"net,omitempty"`
	Addr string `json:"addr,omitempty"`
	// Opt, Int, Str and KeepAlive are a socket option's name and value
	// (setsockopt), or Int the direction of a shutdown.
	Opt       string               `json:"opt,omitempty"`
	Int       int                  `json:"int,omitempty"`
	Str       string               `json:"str,omitempty"`
	KeepAlive *net.KeepAliveConfig `json:"keepalive,omitempty"`
	Info      *tcp.Info            `json:"info,omitempty"` // TCP_INFO
}

// Reply answers a request, or announces an accepted connection.
type Reply struct {
	Op    string `json:"op,omitempty"`
	Errno int    `json:"errno,omitempty"`
	Err   string `json:"err,omitempty"`
	// Syscall names the system call that failed, as *os.SyscallError.
	Syscall string `json:"syscall,omitempty"`
	Laddr   string `json:"laddr,omitempty"`
	Raddr   string `json:"raddr,omitempty"`
	// Int, Str and KeepAlive carry a getsockopt's value.
	Int       int                  `json:"int,omitempty"`
	Str       string               `json:"str,omitempty"`
	KeepAlive *net.KeepAliveConfig `json:"keepalive,omitempty"`
	Info      *tcp.Info            `json:"info,omitempty"` // TCP_INFO
}

// Control requests on a socket's control descriptor.
const (
	opSetsockopt = "setsockopt"
	opGetsockopt = "getsockopt"
	opShutdown   = "shutdown"
	opClose      = "close"
)

// Option names (see the package documentation).
const (
	optLinger          = "linger"
	optNoDelay         = "nodelay"
	optQuickAck        = "quickack"
	optKeepAlive       = "keepalive"
	optKeepAlivePeriod = "keepaliveperiod"
	optKeepAliveConfig = "keepaliveconfig"
	optRcvBuf          = "rcvbuf"
	optSndBuf          = "sndbuf"
	optCongestion      = "congestion"
	optError           = "error" // SO_ERROR: the pending error, cleared by reading it
	optInfo            = "info"  // TCP_INFO, read only
)

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
