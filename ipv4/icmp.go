package ipv4

import (
	"encoding/binary"
	"net/netip"
	"syscall"
	"time"

	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
)

// ICMP types and codes (RFC 792) that the layer sends or handles.
const (
	icmpEchoReply     = 0
	icmpDestUnreach   = 3
	icmpRedirect      = 5
	icmpEcho          = 8
	icmpTimeExceeded  = 11
	icmpParamProb     = 12
	icmpNetUnreach    = 0
	icmpHostUnreach   = 1
	icmpProtUnreach   = 2
	icmpPortUnreach   = 3
	icmpFragNeeded    = 4
	icmpPktFiltered   = 13
	icmpRedirectHost  = 1
	icmpErrorMaxBytes = 576 // an ICMP error fits the minimum MTU
)

// EchoHandler receives echo replies (and, for ping sockets, is the
// reply-matching hook): b starts at the ICMP header.
type EchoHandler func(b *skb.Buf, src, dst netip.Addr)

// PMTUUpdater learns path MTUs from frag-needed errors (the FIB's
// next-hop exceptions).
type PMTUUpdater interface {
	UpdatePMTU(dst netip.Addr, mtu int, now time.Duration)
}

// icmpState holds ICMP's rate limits: a namespace-wide token bucket
// (icmp_msgs_per_sec 1000, burst 50) and a per-destination one
// (icmp_ratelimit, burst 6 as XRLIM_BURST_FACTOR), bounded in size.
type icmpState struct {
	l          *Layer
	global     float64
	lastGlobal time.Duration
	peers      map[netip.Addr]*peerLimit
	// Echo receives echo replies, echoErr errors about echo requests.
	echo    EchoHandler
	echoErr func(typ, code uint8, info uint32, inner []byte)
	pmtu    PMTUUpdater
}

type peerLimit struct {
	tokens time.Duration
	last   time.Duration
}

const (
	icmpMsgsPerSec = 1000
	icmpMsgsBurst  = 50
	xrlimBurst     = 6
	maxPeers       = 4096
)

func (s *icmpState) init(l *Layer) {
	s.l = l
	s.global = icmpMsgsBurst
	s.peers = map[netip.Addr]*peerLimit{}
	l.Register(protoICMP, icmpProto{l})
}

// SetEchoErrorHandler registers the receiver of ICMP errors about echo
// requests this namespace sent (the ping sockets).
func (l *Layer) SetEchoErrorHandler(h func(typ, code uint8, info uint32, inner []byte)) {
	l.icmp.echoErr = h
}

// SetEchoHandler installs the receiver of echo replies (ping sockets).
func (l *Layer) SetEchoHandler(h EchoHandler) { l.icmp.echo = h }

// SetPMTU installs the path-MTU cache updater.
func (l *Layer) SetPMTU(p PMTUUpdater) { l.icmp.pmtu = p }

// allow applies the rate limits to an error of type typ towards dst
// (icmpv4_xrlim_allow and icmp_global_allow).
func (s *icmpState) allow(typ uint8, dst netip.Addr) bool {
	if typ > 31 || s.l.Sysctl.ICMPRateMask&(1<<typ) == 0 {
		return true
	}
	now := s.l.exec.Now()
	s.global = min(icmpMsgsBurst, s.global+float64(now-s.lastGlobal)*icmpMsgsPerSec/float64(time.Second))
	s.lastGlobal = now
	if s.global < 1 {
		s.l.Stats.IcmpOutRateLimitGlobal++
		return false
	}
	limit := time.Duration(s.l.Sysctl.ICMPRateLimit)
	p := s.peers[dst]
	if p == nil {
		if len(s.peers) >= maxPeers {
			for k := range s.peers { // evict one: the table is bounded
				delete(s.peers, k)
				break
			}
		}
		p = &peerLimit{tokens: xrlimBurst * limit, last: now}
		s.peers[dst] = p
	}
	p.tokens = min(xrlimBurst*limit, p.tokens+now-p.last)
	p.last = now
	if p.tokens < limit {
		s.l.Stats.IcmpOutRateLimitHost++
		return false
	}
	p.tokens -= limit
	s.global--
	return true
}

// icmpSend is icmp_send: report a problem with the datagram in orig (which
// starts at its IP header) to its source. It never answers an ICMP error,
// a non-first fragment, or a broadcast/multicast, and is rate limited.
// orig stays owned by the caller.
func (l *Layer) icmpSend(orig *skb.Buf, in *netdev.Device, typ, code uint8, info uint32) {
	data := orig.Bytes()
	if len(data) < hdrLen {
		return
	}
	h := hdr(data)
	src, dst := h.src(), h.dst()
	if h.fragOff()&offMask != 0 || orig.PktType == skb.PacketBroadcast || orig.PktType == skb.PacketMulticast ||
		dst == limitedBroadcast || dst.IsMulticast() || src.IsUnspecified() || src.IsMulticast() {
		return
	}
	if h.proto() == protoICMP && len(data) > h.ihl() {
		t := data[h.ihl()]
		if t != icmpEcho && t != icmpEchoReply && t != 13 && t != 14 { // not an error about an error
			return
		}
	}
	if !l.icmp.allow(typ, src) {
		return
	}
	key := FlowKey{Dst: src, Proto: protoICMP}
	if l.IsLocal(dst) {
		key.Src = dst
	}
	rt, err := l.RouteOutput(&key)
	if err != nil {
		l.Stats.IcmpOutErrors++
		return
	}
	quote := min(len(data), icmpErrorMaxBytes-hdrLen-8)
	b := l.pool.Get(skb.DefaultHeadroom, 8+quote)
	m := b.Put(8 + quote)
	m[0], m[1] = typ, code
	m[2], m[3] = 0, 0
	binary.BigEndian.PutUint32(m[4:], info)
	copy(m[8:], data[:quote])
	binary.BigEndian.PutUint16(m[2:], Checksum(m))
	l.Stats.IcmpOutMsgs++
	switch typ {
	case icmpDestUnreach:
		l.Stats.IcmpOutDestUnreachs++
	case icmpTimeExceeded:
		l.Stats.IcmpOutTimeExcds++
	case icmpParamProb:
		l.Stats.IcmpOutParmProbs++
	}
	tos := h.tos()&0x1e | 0xc0 // IPTOS_PREC_INTERNETCONTROL, as icmp_send
	l.Output(b, rt.Src, src, protoICMP, &rt, SendOpts{TOS: tos})
}

// maybeRedirect sends an ICMP redirect when a packet leaves by the device
// it came in on towards a gateway on the sender's subnet (ip_rt_send_redirect
// without the exponential backoff).
func (l *Layer) maybeRedirect(b *skb.Buf, dev *netdev.Device, rt *Route) {
	src := hdr(b.Bytes()).src()
	for _, a := range l.addrs[dev.Ifindex()] {
		if a.Subnet().Contains(src) && a.Subnet().Contains(rt.Gateway) {
			gw := rt.Gateway.As4()
			l.icmpSend(b, dev, icmpRedirect, icmpRedirectHost, binary.BigEndian.Uint32(gw[:]))
			return
		}
	}
}

// icmpProto is ICMP's receive side (icmp_rcv).
type icmpProto struct{ l *Layer }

// Error hands errors about our echo requests to the ping sockets
// (ping_err); errors about other ICMP messages are dropped.
func (p icmpProto) Error(typ, code uint8, info uint32, inner []byte) {
	ihl := int(inner[0]&0x0f) * 4
	if p.l.icmp.echoErr != nil && len(inner) >= ihl+8 && inner[ihl] == icmpEcho {
		p.l.icmp.echoErr(typ, code, info, inner)
	}
}

func (p icmpProto) Receive(b *skb.Buf, src, dst netip.Addr, dev *netdev.Device) {
	l := p.l
	l.Stats.IcmpInMsgs++
	m := b.Bytes()
	if len(m) < 8 || (b.Csum == skb.CsumNone && Checksum(m) != 0) {
		l.Stats.IcmpInErrors++
		b.Free()
		return
	}
	bcast := b.PktType == skb.PacketBroadcast || b.PktType == skb.PacketMulticast || dst == limitedBroadcast
	switch m[0] {
	case icmpEcho:
		l.Stats.IcmpInEchos++
		if l.Sysctl.ICMPEchoIgnoreAll || (bcast && l.Sysctl.ICMPEchoIgnoreBroadcasts) {
			b.Free()
			return
		}
		l.echoReply(b, src, dst)
	case icmpEchoReply:
		l.Stats.IcmpInEchoReps++
		if l.icmp.echo != nil {
			l.icmp.echo(b, src, dst)
			return
		}
		b.Free()
	case icmpDestUnreach, icmpTimeExceeded, icmpParamProb:
		if m[0] == icmpDestUnreach {
			l.Stats.IcmpInDestUnreachs++
		} else if m[0] == icmpTimeExceeded {
			l.Stats.IcmpInTimeExcds++
		}
		l.icmpError(m, dev)
		b.Free()
	default:
		b.Free()
	}
}

// echoReply turns an echo request into the reply in place (icmp_echo):
// same id, sequence and data; the reply's source is the address the
// request was sent to (for broadcasts, the route's preferred source).
func (l *Layer) echoReply(b *skb.Buf, src, dst netip.Addr) {
	key := FlowKey{Dst: src, Proto: protoICMP}
	if l.IsLocal(dst) {
		key.Src = dst
	}
	rt, err := l.RouteOutput(&key)
	if err != nil {
		b.Free()
		return
	}
	if !b.Unshare() {
		b.Free()
		return
	}
	m := b.Bytes()
	m[0] = icmpEchoReply
	m[2], m[3] = 0, 0
	binary.BigEndian.PutUint16(m[2:], Checksum(m))
	b.Csum = skb.CsumNone
	b.GSOSize = 0
	l.Stats.IcmpOutMsgs++
	l.Stats.IcmpOutEchoReps++
	l.Output(b, rt.Src, src, protoICMP, &rt, SendOpts{})
}

// icmpError dispatches an error to the protocol of the datagram it quotes
// (icmp_unreach → err_handler), and feeds frag-needed to the PMTU cache.
func (l *Layer) icmpError(m []byte, dev *netdev.Device) {
	inner := m[8:]
	if len(inner) < hdrLen+8 || inner[0]>>4 != 4 {
		l.Stats.IcmpInErrors++
		return
	}
	ih := hdr(inner)
	if ih.ihl() < hdrLen || len(inner) < ih.ihl()+8 {
		l.Stats.IcmpInErrors++
		return
	}
	info := binary.BigEndian.Uint32(m[4:])
	if m[0] == icmpDestUnreach && m[1] == icmpFragNeeded {
		mtu := int(info & 0xffff)
		if mtu >= 68 && l.icmp.pmtu != nil {
			l.icmp.pmtu.UpdatePMTU(ih.dst(), mtu, l.exec.Now())
		}
	}
	if h := l.handler(ih.proto()); h != nil {
		h.Error(m[0], m[1], info, inner)
	}
}

// PortUnreachable sends ICMP port unreachable about orig (which starts at
// its IP header): the transport layers' "nobody listens".
func (l *Layer) PortUnreachable(orig *skb.Buf, dev *netdev.Device) {
	l.icmpSend(orig, dev, icmpDestUnreach, icmpPortUnreach, 0)
}

// HostUnreachable sends ICMP host unreachable about orig (which starts at
// its IP header): neighbour resolution failed (arp_error_report).
func (l *Layer) HostUnreachable(orig *skb.Buf, dev *netdev.Device) {
	l.icmpSend(orig, dev, icmpDestUnreach, icmpHostUnreach, 0)
}

// ICMPErrno maps an ICMP error to the errno a socket reports
// (icmp_err_convert).
func ICMPErrno(typ, code uint8) error {
	switch typ {
	case icmpDestUnreach:
		switch code {
		case icmpNetUnreach:
			return syscall.ENETUNREACH
		case icmpHostUnreach:
			return syscall.EHOSTUNREACH
		case icmpProtUnreach:
			return syscall.ENOPROTOOPT
		case icmpPortUnreach:
			return syscall.ECONNREFUSED
		case icmpFragNeeded:
			return syscall.EMSGSIZE
		case 5: // source route failed
			return syscall.EOPNOTSUPP
		case 6, 7: // net/host unknown
			return syscall.ENETUNREACH
		case 9, 10, icmpPktFiltered:
			return syscall.EACCES
		default:
			return syscall.EHOSTUNREACH
		}
	case icmpTimeExceeded:
		return syscall.EHOSTUNREACH
	case icmpParamProb:
		return syscall.EPROTO
	}
	return syscall.EHOSTUNREACH
}
