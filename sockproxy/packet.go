package sockproxy

import (
	"errors"
	"net"
	"net/netip"
	"syscall"

	"golang.org/x/sys/unix"
)

// servePacket passes the client a datagram descriptor joined to pc and
// its control descriptor; conn is pc as a connected net.Conn, or nil.
func servePacket(c *net.UnixConn, pc net.PacketConn, conn net.Conn) error {
	r := Reply{Laddr: pc.LocalAddr().String()}
	if conn != nil {
		r.Raddr = conn.RemoteAddr().String()
	}
	ux, ctl, err := handOver(c, unix.SOCK_SEQPACKET, r)
	if err != nil {
		pc.Close()
		return err
	}
	go func() { // usnet -> client
		buf := make([]byte, addrHeader+maxDatagram)
		for {
			var n, ttl int
			var from net.Addr
			var err error
			if tr, ok := pc.(ttlReader); ok {
				n, from, ttl, err = tr.ReadFromTTL(buf[addrHeader:])
			} else {
				n, from, err = pc.ReadFrom(buf[addrHeader:])
			}
			if err != nil {
				var en syscall.Errno
				if errors.As(err, &en) {
					continue // an ICMP error on a connected socket: keep going
				}
				ux.Close()
				return
			}
			putAddr(buf, addrPortOf(from))
			buf[6] = byte(ttl)
			if _, err := ux.Write(buf[:addrHeader+n]); err != nil {
				pc.Close()
				return
			}
		}
	}()
	go func() { // client -> usnet
		buf := make([]byte, addrHeader+maxDatagram)
		for {
			n, err := ux.Read(buf)
			if err != nil || n == 0 {
				pc.Close()
				ux.Close()
				ctl.Close()
				return
			}
			if n < addrHeader {
				continue
			}
			to := getAddr(buf)
			p := buf[addrHeader:n]
			if to.Addr().IsUnspecified() && conn != nil {
				conn.Write(p)
			} else {
				pc.WriteTo(p, net.UDPAddrFromAddrPort(to))
			}
		}
	}()
	go servePacketControl(ctl, pc)
	return nil
}

// servePacketControl answers option requests for a datagram socket; the
// socket itself ends with its data descriptor.
func servePacketControl(ctl *net.UnixConn, pc net.PacketConn) {
	defer ctl.Close()
	buf := make([]byte, maxControl)
	for {
		req, err := readRequest(ctl, buf)
		if err != nil {
			return
		}
		var r Reply
		switch req.Op {
		case opSetsockopt:
			err = setsockopt(pc, req)
		case opGetsockopt:
			r, err = getsockopt(pc, req)
		case opClose:
			pc.Close()
		default:
			err = syscall.EINVAL
		}
		if err != nil {
			r = errReply(err)
		}
		if reply(ctl, r) != nil {
			return
		}
	}
}

func addrPortOf(a net.Addr) netip.AddrPort {
	switch a := a.(type) {
	case *net.UDPAddr:
		return a.AddrPort()
	case *net.TCPAddr:
		return a.AddrPort()
	}
	return netip.AddrPort{}
}
