package main

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"syscall"

	"golang.org/x/sys/unix"
)

// routeGetter asks the kernel's FIB for one route at a time with
// RTM_GETROUTE, as `ip route get` does, without forking a process per
// lookup.
type routeGetter struct {
	fd  int
	seq uint32
	buf []byte
	req []byte
}

func newRouteGetter() (*routeGetter, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, err
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return &routeGetter{fd: fd, buf: make([]byte, 8192), req: make([]byte, 16+12+8)}, nil
}

func (g *routeGetter) close() { unix.Close(g.fd) }

// get sends one RTM_GETROUTE for dst and waits for its answer.
func (g *routeGetter) get(dst netip.Addr) error {
	g.seq++
	r := g.req
	le := binary.LittleEndian // netlink is host order; this tool runs on amd64/arm64
	le.PutUint32(r[0:], uint32(len(r)))
	le.PutUint16(r[4:], unix.RTM_GETROUTE)
	le.PutUint16(r[6:], unix.NLM_F_REQUEST)
	le.PutUint32(r[8:], g.seq)
	le.PutUint32(r[12:], 0)
	// struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags
	clear(r[16:28])
	r[16] = unix.AF_INET
	r[17] = 32
	// RTA_DST attribute
	le.PutUint16(r[28:], 8)
	le.PutUint16(r[30:], unix.RTA_DST)
	a := dst.As4()
	copy(r[32:36], a[:])
	if err := unix.Sendto(g.fd, r, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	for {
		n, _, err := unix.Recvfrom(g.fd, g.buf, 0)
		if err != nil {
			return err
		}
		for b := g.buf[:n]; len(b) >= 16; {
			l := int(le.Uint32(b[0:]))
			typ := le.Uint16(b[4:])
			seq := le.Uint32(b[8:])
			if l < 16 || l > len(b) {
				return fmt.Errorf("bad netlink length %d", l)
			}
			if seq == g.seq {
				switch typ {
				case unix.NLMSG_ERROR:
					if code := int32(le.Uint32(b[16:])); code != 0 {
						return syscall.Errno(-code)
					}
					return nil
				case unix.RTM_NEWROUTE:
					return nil
				}
			}
			b = b[(l+3)&^3:]
		}
	}
}
