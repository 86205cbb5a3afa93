package bench

import (
	"context"
	"fmt"
	"net"
	"net/netip"

	"golang.org/x/sys/unix"

	"github.com/usnet/usnet/bench/measure"
	"github.com/usnet/usnet/drivers/veth"
	"github.com/usnet/usnet/fib"
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/socket"
	"github.com/usnet/usnet/stack"
)

// This file builds the real-time usnet topologies of the socket-level
// scenarios, with the same addresses as the gVisor and kernel peers: two
// namespaces A and B joined by a veth, or A — R — B with forwarding on R.
// Every namespace runs on its own executor.Loop goroutine, and traffic
// crosses namespaces through the veth's NAPI ring, as it does in a usnet
// process.

// usNet is a real-time usnet stack and the namespaces it holds.
type usNet struct {
	st    *stack.Stack
	names []string
}

// newUsNet creates a real-time stack with the named namespaces, lo up in
// each, and registers their deletion with env.
func newUsNet(env *Env, names ...string) (*usNet, []*stack.Namespace, error) {
	st, err := stack.NewRealtime()
	if err != nil {
		return nil, nil, err
	}
	u := &usNet{st: st}
	env.Defer(u.close)
	nss := make([]*stack.Namespace, len(names))
	for i, name := range names {
		ns, err := st.Add(name)
		if err != nil {
			return nil, nil, err
		}
		u.names = append(u.names, name)
		nss[i] = ns
		ns.Exec().Do(func() { err = ns.Lo.Up() })
		if err != nil {
			return nil, nil, err
		}
	}
	return u, nss, nil
}

// close deletes the namespaces, which stops their executors.
func (u *usNet) close() {
	for i := len(u.names) - 1; i >= 0; i-- {
		u.st.Delete(u.names[i])
	}
	u.names = nil
}

// usLink joins a and b with a veth of the given MTU, names both ends dev,
// brings them up and gives them the addresses pa and pb.
func usLink(a, b *stack.Namespace, devA, devB string, mtu int, pa, pb netip.Prefix) error {
	da, db, err := veth.Create(veth.End{Table: a.Dev, Name: devA, MTU: mtu}, veth.End{Table: b.Dev, Name: devB, MTU: mtu})
	if err != nil {
		return err
	}
	for _, e := range []struct {
		ns *stack.Namespace
		d  *netdev.Device
		p  netip.Prefix
	}{{a, da, pa}, {b, db, pb}} {
		e.ns.Exec().Do(func() {
			if err = e.d.Up(); err != nil {
				return
			}
			_, err = e.ns.IPv4.AddAddr(ipv4.IfAddr{Dev: e.d, Local: e.p.Addr(), Prefix: e.p})
		})
		if err != nil {
			return fmt.Errorf("%s: %w", e.ns.Name(), err)
		}
	}
	return nil
}

// usDefaultRoute adds `ip route add default via gw` in ns.
func usDefaultRoute(ns *stack.Namespace, gw netip.Addr) error {
	var err error
	ns.Exec().Do(func() {
		err = ns.FIB.Add(fib.Route{Table: unix.RT_TABLE_MAIN, Dst: netip.MustParsePrefix("0.0.0.0/0"),
			Type: unix.RTN_UNICAST, Scope: unix.RT_SCOPE_UNIVERSE, Protocol: unix.RTPROT_BOOT,
			Nexthops: []fib.Nexthop{{Gateway: gw}}}, unix.NLM_F_CREATE|unix.NLM_F_EXCL, fib.Info{})
	})
	return err
}

// usPair is A 10.201.0.1 — B 10.201.0.2 over a veth of the given MTU.
func usPair(env *Env, mtu int) (a, b *stack.Namespace, err error) {
	_, nss, err := newUsNet(env, "bench-a", "bench-b")
	if err != nil {
		return nil, nil, err
	}
	a, b = nss[0], nss[1]
	return a, b, usLink(a, b, "eth0", "eth0", mtu, netip.PrefixFrom(addrA, 24), netip.PrefixFrom(addrB, 24))
}

// usRouter is A 10.201.0.1 — R 10.201.0.2 | 10.201.1.2 — B 10.201.1.1,
// R forwarding, A and B routing by default through R.
func usRouter(env *Env) (a, r, b *stack.Namespace, err error) {
	_, nss, err := newUsNet(env, "bench-a", "bench-r", "bench-b")
	if err != nil {
		return nil, nil, nil, err
	}
	a, r, b = nss[0], nss[1], nss[2]
	if err := usLink(a, r, "eth0", "eth0", 1500, netip.PrefixFrom(addrA, 24), netip.PrefixFrom(addrRA, 24)); err != nil {
		return nil, nil, nil, err
	}
	if err := usLink(r, b, "eth1", "eth0", 1500, netip.PrefixFrom(addrRB, 24), netip.PrefixFrom(addrB2, 24)); err != nil {
		return nil, nil, nil, err
	}
	r.Exec().Do(func() { r.IPv4.SetForwarding(true) })
	if err := usDefaultRoute(a, addrRA); err != nil {
		return nil, nil, nil, err
	}
	if err := usDefaultRoute(b, addrRB); err != nil {
		return nil, nil, nil, err
	}
	return a, r, b, nil
}

// usTCP listens on B:5201 and returns the listener and a dialer from A,
// both usnet sockets (package socket) behind net.Listener and net.Conn.
func usTCP(env *Env, mtu int) (net.Listener, measure.Dialer, error) {
	a, b, err := usPair(env, mtu)
	if err != nil {
		return nil, nil, err
	}
	srv := netip.AddrPortFrom(addrB, 5201)
	ln, err := socket.ListenTCP(b.Exec(), b.TCP, srv, 4096)
	if err != nil {
		return nil, nil, err
	}
	env.Defer(func() { ln.Close() })
	dial := func() (net.Conn, error) {
		return socket.DialTCP(context.Background(), a.Exec(), a.TCP, netip.AddrPort{}, srv)
	}
	return usListener{ln}, dial, nil
}

// usListener guards against a socket.TCPListener.Accept that returns a
// nil *TCPConn with a nil error, which it does when the namespace is
// deleted while a connection is being accepted (reported to the socket
// package; it should return net.ErrClosed).
type usListener struct{ *socket.TCPListener }

func (l usListener) Accept() (net.Conn, error) {
	c, err := l.TCPListener.Accept()
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*socket.TCPConn); ok && tc == nil {
		return nil, net.ErrClosed
	}
	return c, nil
}

// usServeEcho runs measure.ServeEcho on ln until the runner's cleanup,
// which closes ln and waits for the server to stop before the
// namespaces go.
func usServeEcho(env *Env, ln net.Listener) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		measure.ServeEcho(ln)
	}()
	env.Defer(func() {
		ln.Close()
		<-done
	})
}
