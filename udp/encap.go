package udp

import (
	"net/netip"

	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
)

// EncapRcv takes the datagrams of a tunnel socket instead of its receive
// queue (the kernel's udp_sk(sk)->encap_rcv, set by setup_udp_tunnel_sock
// for vxlan, geneve, fou ...). b starts at the UDP payload; the outer IP
// header stays reachable through b.L3. The callee owns b. It runs on the
// namespace executor inside UDP receive, so it must not re-enter the
// receive path of a device synchronously (hand frames to a NAPI instead).
type EncapRcv func(b *skb.Buf, from, to netip.AddrPort, dev *netdev.Device)

// SetEncapRcv turns s into a tunnel socket: every datagram that the socket
// lookup gives to s goes to f, uncounted against the receive buffer and
// never queued. A kernel-side user claims its UDP port with an ordinary
// Bind first, so a clash with an application socket is EADDRINUSE, as
// udp_sock_create reports it. nil restores normal queueing.
func (s *Sock) SetEncapRcv(f EncapRcv) { s.encap = f }

// encapDeliver hands a datagram to the tunnel socket's receiver
// (udp_queue_rcv_one_skb's encap_rcv branch): counted as delivered, the
// UDP header pulled.
func (t *Table) encapDeliver(s *Sock, b *skb.Buf, from, to netip.AddrPort, dev *netdev.Device) {
	t.Stats.InDatagrams++
	b.Pull(8)
	b.SetL4()
	s.encap(b, from, to, dev)
}
