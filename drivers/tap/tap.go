package tap

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/usnet/usnet/framedio"
	"github.com/usnet/usnet/netdev"
)

// MaxFrame is the largest frame the TAP hands usnet: a 64 KiB IP
// datagram (a GSO super-frame) behind an Ethernet header.
const MaxFrame = 65535 + 14

// maxVecs bounds the vectors of one frame, the header vector included.
const maxVecs = 8

// Port is a host TAP interface as a framedio.Port.
type Port struct {
	f        *os.File
	rc       syscall.RawConn
	ctl      int // datagram socket in the TAP's namespace, for SIOCSIFTXQLEN
	hostName string
	ctr      framedio.Counters

	mu           sync.Mutex
	rxbuf, txbuf int

	rd, wr ioState
}

// ioState is the state of one direction's Read or Write call, kept in the
// Port so that the callback handed to the poller is a method value built
// once: the data path allocates nothing.
type ioState struct {
	fio  *framedio.FrameIO
	fc   framedio.FlowControl
	n    int
	err  error
	hdr  [vnetHdrLen]byte
	iov  [maxVecs]unix.Iovec
	fn   func(fd uintptr) bool
	fcev bool
}

// New creates a usnet device name in t backed by a new TAP interface
// called hostName on the host. If hostNetnsPath is set (/run/netns/X),
// the TAP is created inside that kernel namespace rather than the
// caller's. Call it from outside any executor.
func New(t *netdev.Table, name, hostName, hostNetnsPath string) (*netdev.Device, error) {
	p, err := Open(hostName, hostNetnsPath)
	if err != nil {
		return nil, err
	}
	return framedio.NewDevice(t, name, p)
}

// Open creates the TAP interface and returns it as a port.
func Open(hostName, hostNetnsPath string) (*Port, error) {
	if err := netdev.ValidName(hostName); err != nil {
		return nil, err
	}
	p := &Port{hostName: hostName, ctl: -1, rxbuf: framedio.DefaultBuf, txbuf: framedio.DefaultBuf}
	var fd int
	open := func() error {
		var err error
		fd, p.ctl, err = openTap(hostName)
		return err
	}
	var err error
	if hostNetnsPath != "" {
		err = framedio.InNetns(hostNetnsPath, open)
	} else {
		err = open()
	}
	if err != nil {
		return nil, err
	}
	p.f = os.NewFile(uintptr(fd), "tap:"+hostName)
	if p.rc, err = p.f.SyscallConn(); err != nil {
		p.Close()
		return nil, err
	}
	p.rd.fn, p.wr.fn = p.readSome, p.writeSome
	if err := p.SetBufs(p.rxbuf, p.txbuf); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// openTap opens /dev/net/tun in the calling thread's namespace and
// attaches it to a new TAP interface with virtio headers and offloads.
func openTap(name string) (fd, ctl int, err error) {
	fd, err = unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, -1, fmt.Errorf("tap: open /dev/net/tun: %w", err)
	}
	fail := func(what string, e error) (int, int, error) {
		unix.Close(fd)
		return -1, -1, fmt.Errorf("tap: %s %s: %w", what, name, e)
	}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return fail("name", err)
	}
	ifr.SetUint16(unix.IFF_TAP | unix.IFF_NO_PI | unix.IFF_VNET_HDR)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		return fail("TUNSETIFF", err)
	}
	if err := unix.IoctlSetPointerInt(fd, unix.TUNSETVNETHDRSZ, vnetHdrLen); err != nil {
		return fail("TUNSETVNETHDRSZ", err)
	}
	if err := unix.IoctlSetInt(fd, unix.TUNSETOFFLOAD, unix.TUN_F_CSUM|unix.TUN_F_TSO4|unix.TUN_F_TSO6); err != nil {
		return fail("TUNSETOFFLOAD", err)
	}
	ctl, err = unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fail("control socket", err)
	}
	return fd, ctl, nil
}

// HostName returns the name of the TAP interface on the host.
func (p *Port) HostName() string { return p.hostName }

// Info describes the port: kind "tun" (as Linux reports a TAP), GSO
// frames up to MaxFrame, offloads on.
func (p *Port) Info() framedio.Info {
	return framedio.Info{Kind: "tun", MaxFrame: MaxFrame, MTU: 1500, Offload: true}
}

// Stats returns the port's counters.
func (p *Port) Stats() framedio.Stats { return p.ctr.Snapshot() }

// Bufs returns rxbuf and txbuf.
func (p *Port) Bufs() (int, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rxbuf, p.txbuf
}

// SetBufs bounds the kernel's queues: txbuf is the TAP's send buffer in
// bytes (TUNSETSNDBUF: writes beyond it fail with EAGAIN and are counted
// as flow control), rxbuf the kernel's queue of frames for usnet, which
// Linux bounds in frames: the host interface's txqueuelen becomes
// rxbuf/1514 (frames the kernel cannot queue it counts in the host
// interface's tx_dropped).
func (p *Port) SetBufs(rx, tx int) error {
	for _, n := range []int{rx, tx} {
		if n != 0 {
			if err := framedio.CheckBuf(n); err != nil {
				return err
			}
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var err error
	if tx != 0 {
		err = p.rc.Control(func(fd uintptr) {
			err = unix.IoctlSetPointerInt(int(fd), unix.TUNSETSNDBUF, tx)
		})
		if err != nil {
			return fmt.Errorf("tap: TUNSETSNDBUF: %w", err)
		}
		p.txbuf = tx
	}
	if rx != 0 {
		ifr, _ := unix.NewIfreq(p.hostName)
		ifr.SetUint32(uint32(max(1, rx/1514)))
		if err := unix.IoctlIfreq(p.ctl, unix.SIOCSIFTXQLEN, ifr); err != nil {
			return fmt.Errorf("tap: SIOCSIFTXQLEN: %w", err)
		}
		p.rxbuf = rx
	}
	return nil
}

// Close detaches from the TAP; the kernel deletes the interface.
func (p *Port) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ctl >= 0 {
		unix.Close(p.ctl)
		p.ctl = -1
	}
	if p.f != nil {
		return p.f.Close() // wakes a blocked Read; the fd closes after it
	}
	return nil
}

func ioErr(err error) error {
	if errors.Is(err, os.ErrClosed) {
		return framedio.ErrClosed
	}
	return err
}

// iovec fills st.iov with the header and frame i's vectors; it returns
// how many entries it used.
func (st *ioState) iovec(i int, write bool) int {
	st.iov[0] = unix.Iovec{Base: &st.hdr[0], Len: vnetHdrLen}
	n := 1
	for _, v := range st.fio.Frame(i) {
		l := len(v.Buf)
		if write {
			l = v.Len
		}
		if l == 0 || n == maxVecs {
			continue
		}
		st.iov[n] = unix.Iovec{Base: &v.Buf[0], Len: uint64(l)}
		n++
	}
	return n
}

func rw(trap, fd uintptr, iov []unix.Iovec, n int) (int, unix.Errno) {
	r, _, e := unix.Syscall(trap, fd, uintptr(unsafe.Pointer(&iov[0])), uintptr(n))
	return int(r), e
}
