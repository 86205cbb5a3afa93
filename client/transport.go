package client

import (
	"github.com/usnet/usnet/rtnl"
)

// transport is one netlink socket in a namespace: an in-process
// rtnl.Socket or a daemon.NetlinkConn.
type transport interface {
	Send(datagram []byte) error
	Recv(buf []byte) (int, error)
	Close() error
	Join(group int) error
	SetOption(opt int, on bool) error
	SetRcvBuf(bytes int) error
	PortID() uint32
}

// inproc adapts rtnl.Socket, whose SetRcvBuf cannot fail.
type inproc struct{ *rtnl.Socket }

func (s inproc) SetRcvBuf(n int) error {
	s.Socket.SetRcvBuf(n)
	return nil
}
