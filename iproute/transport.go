package iproute

// Transport carries netlink datagrams to and from one rtnetlink endpoint:
// a kernel NETLINK_ROUTE socket or a usnet namespace behind the daemon.
// Send transmits one datagram (one or more netlink messages); Recv reads
// one datagram into buf and returns its length.
type Transport interface {
	Send(datagram []byte) error
	Recv(buf []byte) (int, error)
	Close() error
}

// Dialer opens a transport to the namespace named ns ("" for the
// caller's own namespace). It is how `ip -n NS` reaches its target.
type Dialer func(ns string) (Transport, error)

// Subscriber is implemented by transports that can deliver multicast
// notifications (`ip monitor`): Subscribe joins the rtnetlink groups
// (RTNLGRP_* numbers).
type Subscriber interface {
	Subscribe(groups ...uint32) error
}

// NetnsResolver is implemented by transports whose peer names namespaces
// itself (the usnet daemon): `ip link set DEV netns NAME` then sends the
// attribute it returns (for example IFLA_NET_NS_PID with an id the peer
// understands) instead of a file descriptor of /run/netns/NAME.
type NetnsResolver interface {
	ResolveNetns(name string) (attrType uint16, value uint32, err error)
}

// NetnsNamer is implemented by transports that can name the namespace a
// peer's nsid refers to (for "link-netns NAME"); without it the kernel
// is asked with RTM_GETNSID for every name under /run/netns.
type NetnsNamer interface {
	NetnsName(nsid int32) (string, bool)
}

// Namespaces manages named network namespaces for `ip netns`. The kernel
// implementation works on /run/netns; the daemon provides its own.
type Namespaces interface {
	List() ([]NetnsEntry, error)
	Add(name string) error
	Delete(name string) error
}

// NetnsEntry is one line of `ip netns list`.
type NetnsEntry struct {
	Name string
	ID   int32 // nsid as seen from the caller, -1 when not assigned
}
