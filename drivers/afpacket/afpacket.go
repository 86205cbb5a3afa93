package afpacket

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/usnet/usnet/framedio"
	"github.com/usnet/usnet/netdev"
)

// Mode says whether the host may keep using the interface.
type Mode uint8

const (
	// Exclusive: the interface must have no IP addresses (EBUSY).
	Exclusive Mode = iota
	// Shared: the host stack keeps its addresses and sees the traffic.
	Shared
)

// Config describes a device to create.
type Config struct {
	Name   string // usnet device name, may hold %d
	HostIf string // host interface to bind to
	Mode   Mode
	// RxBuf is the receive ring's size in bytes (0: framedio.DefaultBuf).
	// It is fixed once the ring exists.
	RxBuf int
	// TxBuf is the socket send buffer (0: framedio.DefaultBuf).
	TxBuf int
}

// Port is a packet socket bound to a host interface, as a framedio.Port.
type Port struct {
	f       *os.File
	rc      syscall.RawConn
	ifindex int
	vnet    bool // PACKET_VNET_HDR is on
	ctr     framedio.Counters

	r ring

	mu           sync.Mutex
	rxbuf, txbuf int

	rd rdState
	wr wrState
}

// New creates a usnet device name in t bound to host interface hostIf,
// with the default buffers. Call it from outside any executor.
func New(t *netdev.Table, name, hostIf string, mode Mode) (*netdev.Device, error) {
	return NewConfig(t, Config{Name: name, HostIf: hostIf, Mode: mode})
}

// NewConfig is New with buffer sizes.
func NewConfig(t *netdev.Table, c Config) (*netdev.Device, error) {
	p, err := Open(c)
	if err != nil {
		return nil, err
	}
	return framedio.NewDevice(t, c.Name, p)
}

// Open opens and binds the packet socket (in the calling thread's
// namespace) and maps its receive ring.
func Open(c Config) (*Port, error) {
	if c.RxBuf == 0 {
		c.RxBuf = framedio.DefaultBuf
	}
	if c.TxBuf == 0 {
		c.TxBuf = framedio.DefaultBuf
	}
	for _, n := range []int{c.RxBuf, c.TxBuf} {
		if err := framedio.CheckBuf(n); err != nil {
			return nil, err
		}
	}
	if err := netdev.ValidName(c.HostIf); err != nil {
		return nil, err
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("afpacket: socket: %w", err)
	}
	p := &Port{ifindex: -1}
	if err := p.setup(fd, c); err != nil {
		if p.r.mem != nil {
			unix.Munmap(p.r.mem)
		}
		unix.Close(fd)
		return nil, fmt.Errorf("afpacket: %s: %w", c.HostIf, err)
	}
	p.f = os.NewFile(uintptr(fd), "afpacket:"+c.HostIf)
	if p.rc, err = p.f.SyscallConn(); err != nil {
		p.Close()
		return nil, err
	}
	p.rd.fn, p.wr.fn = p.readSome, p.writeSome
	return p, nil
}

func (p *Port) setup(fd int, c Config) error {
	ifr, err := unix.NewIfreq(c.HostIf)
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFINDEX, ifr); err != nil {
		return fmt.Errorf("no such interface: %w", err)
	}
	p.ifindex = int(ifr.Uint32())
	if c.Mode == Exclusive {
		n, err := addrCount(p.ifindex)
		if err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("exclusive use of an interface with %d IP addresses: %w", n, syscall.EBUSY)
		}
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1); err != nil {
		return fmt.Errorf("PACKET_IGNORE_OUTGOING: %w", err)
	}
	// The virtio header must be chosen before the ring exists.
	p.vnet = unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VNET_HDR, 1) == nil
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V3); err != nil {
		return fmt.Errorf("TPACKET_V3: %w", err)
	}
	if err := p.r.setup(fd, c.RxBuf); err != nil {
		return err
	}
	p.rxbuf = p.r.size()
	if err := setSndbuf(fd, c.TxBuf); err != nil {
		return err
	}
	p.txbuf = c.TxBuf
	mreq := &unix.PacketMreq{Ifindex: int32(p.ifindex), Type: unix.PACKET_MR_PROMISC}
	if err := unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, mreq); err != nil {
		return fmt.Errorf("promiscuous mode: %w", err)
	}
	sa := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: p.ifindex}
	if err := unix.Bind(fd, sa); err != nil {
		return fmt.Errorf("bind: %w", err)
	}
	return nil
}

func setSndbuf(fd, n int) error {
	// SO_SNDBUFFORCE ignores wmem_max (we are privileged anyway: we
	// opened a packet socket); the kernel doubles the value for its
	// bookkeeping, so ask for half.
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, n/2); err != nil {
		return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, n/2)
	}
	return nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// addrCount counts the IPv4 and IPv6 addresses of ifindex (an
// RTM_GETADDR dump over netlink, in the calling thread's namespace).
func addrCount(ifindex int) (int, error) {
	rib, err := syscall.NetlinkRIB(syscall.RTM_GETADDR, syscall.AF_UNSPEC)
	if err != nil {
		return 0, fmt.Errorf("RTM_GETADDR: %w", err)
	}
	msgs, err := syscall.ParseNetlinkMessage(rib)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, m := range msgs {
		if m.Header.Type != syscall.RTM_NEWADDR || len(m.Data) < syscall.SizeofIfAddrmsg {
			continue
		}
		idx := uint32(m.Data[4]) | uint32(m.Data[5])<<8 | uint32(m.Data[6])<<16 | uint32(m.Data[7])<<24
		if int(idx) == ifindex {
			n++
		}
	}
	return n, nil
}

// Ifindex returns the host interface's index.
func (p *Port) Ifindex() int { return p.ifindex }

// Info: kind "afpacket"; frames up to what one ring block holds; offloads
// when the kernel accepted PACKET_VNET_HDR.
func (p *Port) Info() framedio.Info {
	return framedio.Info{Kind: "afpacket", MaxFrame: p.r.maxFrame(), MTU: 1500, Offload: p.vnet}
}

// Stats returns the port's counters, the kernel's ring drops included.
func (p *Port) Stats() framedio.Stats { return p.ctr.Snapshot() }

// Bufs returns the ring size and the send buffer.
func (p *Port) Bufs() (int, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rxbuf, p.txbuf
}

// SetBufs changes the send buffer; the ring's size is fixed once mapped
// (EBUSY for a different rx size).
func (p *Port) SetBufs(rx, tx int) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if rx != 0 && rx != p.rxbuf {
		return fmt.Errorf("afpacket: receive ring size is fixed at open: %w", syscall.EBUSY)
	}
	if tx == 0 {
		return nil
	}
	if err := framedio.CheckBuf(tx); err != nil {
		return err
	}
	var err error
	if cerr := p.rc.Control(func(fd uintptr) { err = setSndbuf(int(fd), tx) }); cerr != nil {
		return cerr
	}
	if err == nil {
		p.txbuf = tx
	}
	return err
}

// Close closes the socket (waking and waiting out a blocked Read) and
// then unmaps the ring.
func (p *Port) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.f == nil {
		return nil
	}
	// File.Close returns once no Read is inside the ring (an in-flight
	// call holds a reference to the fd that Close waits out), and later
	// calls fail before touching it: only then may the ring go.
	err := p.f.Close()
	p.f = nil
	if p.r.mem != nil {
		unix.Munmap(p.r.mem)
	}
	return err
}

func ioErr(err error) error {
	if errors.Is(err, os.ErrClosed) {
		return framedio.ErrClosed
	}
	return err
}

var _ framedio.Port = (*Port)(nil)
