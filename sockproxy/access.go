package sockproxy

import (
	"net"
	"strconv"
	"syscall"
)

// Cred is what the server knows of the client it acts for.
type Cred struct {
	// Privileged clients have what Linux calls CAP_NET_BIND_SERVICE and
	// CAP_NET_RAW. The zero Cred has neither.
	Privileged bool
	// Groups are the client's effective group id and its supplementary
	// groups: ping_group_range admits a client by any of them.
	Groups []uint32
}

// Limits are a namespace's settings that bound an unprivileged client.
type Limits struct {
	// UnprivilegedPortStart is net.ipv4.ip_unprivileged_port_start.
	UnprivilegedPortStart int
	// PingGroupLow and PingGroupHigh are net.ipv4.ping_group_range.
	PingGroupLow, PingGroupHigh uint32
}

// DefaultLimits are Linux's defaults: ports below 1024 are privileged,
// and nobody may open ICMP datagram sockets ("1 0").
var DefaultLimits = Limits{UnprivilegedPortStart: 1024, PingGroupLow: 1, PingGroupHigh: 0}

// Limiter is a Namespace that has its own Limits (its sysctls); the
// others get DefaultLimits.
type Limiter interface {
	Limits() Limits
}

func limitsOf(ns Namespace) Limits {
	if l, ok := ns.(Limiter); ok {
		return l.Limits()
	}
	return DefaultLimits
}

// permit decides whether the client may open what req asks for, before
// the namespace sees the request: socket() and bind() refuse first on
// Linux too.
func (cr Cred) permit(req Request, ns Namespace) error {
	switch req.Net {
	case "ip4:icmp", "ip4:1":
		// A raw socket in Go's net package (usnet serves it with a ping
		// socket): socket(AF_INET, SOCK_RAW) needs CAP_NET_RAW.
		if !cr.Privileged {
			return syscall.EPERM
		}
	case "udp4:icmp":
		// ping_init_sock: the effective or a supplementary group must be
		// in ping_group_range, whatever the capabilities.
		lim := limitsOf(ns)
		for _, g := range cr.Groups {
			if lim.PingGroupLow <= g && g <= lim.PingGroupHigh {
				return nil
			}
		}
		return syscall.EACCES
	case "tcp", "tcp4", "udp", "udp4":
		if req.Op == "dial" || cr.Privileged {
			return nil // the proxy's dial binds an ephemeral port
		}
		// inet_bind: a port below ip_unprivileged_port_start needs
		// CAP_NET_BIND_SERVICE; port 0 picks an ephemeral one.
		_, port, err := net.SplitHostPort(req.Addr)
		if err != nil {
			return nil // the namespace reports the bad address
		}
		p, err := strconv.ParseUint(port, 10, 16)
		if err == nil && p != 0 && int(p) < limitsOf(ns).UnprivilegedPortStart {
			return syscall.EACCES
		}
	}
	return nil
}
