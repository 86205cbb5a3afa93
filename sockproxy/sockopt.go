package sockproxy

import (
	"github.com/usnet/usnet/tcp"
	"net"
	"syscall"
	"time"
)

// The option setters and getters of usnet's sockets (socket.TCPConn,
// socket.UDPConn), the methods of *net.TCPConn and *net.UDPConn with
// usnet's getters and TCP_CONGESTION added.
type (
	noDelaySetter     interface{ SetNoDelay(bool) error }
	noDelayGetter     interface{ NoDelay() bool }
	quickAckSetter    interface{ SetQuickAck(bool) error }
	quickAckGetter    interface{ QuickAck() bool }
	keepAliveSetter   interface{ SetKeepAlive(bool) error }
	keepAlivePeriod   interface{ SetKeepAlivePeriod(time.Duration) error }
	keepAliveConfiger interface {
		SetKeepAliveConfig(net.KeepAliveConfig) error
	}
	keepAliveGetter  interface{ KeepAliveConfig() net.KeepAliveConfig }
	readBufSetter    interface{ SetReadBuffer(int) error }
	writeBufSetter   interface{ SetWriteBuffer(int) error }
	congestionSetter interface{ SetCongestion(string) error }
	congestionGetter interface{ Congestion() string }
	infoGetter       interface{ Info() tcp.Info }
)

// setsockopt applies option req.Opt to the usnet socket s; ENOPROTOOPT
// when s has no such option.
func setsockopt(s any, req Request) error {
	switch req.Opt {
	case optNoDelay:
		if x, ok := s.(noDelaySetter); ok {
			return x.SetNoDelay(req.Int != 0)
		}
	case optQuickAck:
		if x, ok := s.(quickAckSetter); ok {
			return x.SetQuickAck(req.Int != 0)
		}
	case optKeepAlive:
		if x, ok := s.(keepAliveSetter); ok {
			return x.SetKeepAlive(req.Int != 0)
		}
	case optKeepAlivePeriod:
		if x, ok := s.(keepAlivePeriod); ok {
			return x.SetKeepAlivePeriod(time.Duration(req.Int))
		}
	case optKeepAliveConfig:
		if x, ok := s.(keepAliveConfiger); ok && req.KeepAlive != nil {
			return x.SetKeepAliveConfig(*req.KeepAlive)
		}
	case optRcvBuf:
		if x, ok := s.(readBufSetter); ok {
			return x.SetReadBuffer(req.Int)
		}
	case optSndBuf:
		if x, ok := s.(writeBufSetter); ok {
			return x.SetWriteBuffer(req.Int)
		}
		if _, ok := s.(net.PacketConn); ok {
			// usnet's datagram sockets queue nothing on the way out
			// (a datagram leaves within the send call): SO_SNDBUF
			// has nothing to bound, and Linux accepts it.
			return nil
		}
	case optCongestion:
		if x, ok := s.(congestionSetter); ok {
			return x.SetCongestion(req.Str)
		}
	}
	return syscall.ENOPROTOOPT
}

// getsockopt reads option req.Opt of the usnet socket s.
func getsockopt(s any, req Request) (Reply, error) {
	switch req.Opt {
	case optNoDelay:
		if x, ok := s.(noDelayGetter); ok {
			r := Reply{}
			if x.NoDelay() {
				r.Int = 1
			}
			return r, nil
		}
	case optQuickAck:
		if x, ok := s.(quickAckGetter); ok {
			r := Reply{}
			if x.QuickAck() {
				r.Int = 1
			}
			return r, nil
		}
	case optKeepAliveConfig:
		if x, ok := s.(keepAliveGetter); ok {
			k := x.KeepAliveConfig()
			return Reply{KeepAlive: &k}, nil
		}
	case optCongestion:
		if x, ok := s.(congestionGetter); ok {
			return Reply{Str: x.Congestion()}, nil
		}
	case optInfo:
		if x, ok := s.(infoGetter); ok {
			i := x.Info()
			return Reply{Info: &i}, nil
		}
	}
	return Reply{}, syscall.ENOPROTOOPT
}
