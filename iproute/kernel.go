//go:build linux

package iproute

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// NetnsDir is where iproute2 keeps named network namespaces.
const NetnsDir = "/run/netns"

// KernelTransport is a NETLINK_ROUTE socket to the Linux kernel.
type KernelTransport struct {
	fd int
}

// DialKernel opens a NETLINK_ROUTE socket in the network namespace ns
// (a name under /run/netns, or "" for the current one). A socket keeps
// the namespace it was created in, so it is created on a locked thread
// that joined ns; that thread is then discarded rather than reused.
func DialKernel(ns string) (Transport, error) {
	if ns == "" {
		return newKernelSocket()
	}
	type result struct {
		t   Transport
		err error
	}
	ch := make(chan result, 1)
	go func() {
		// Never unlocked: the goroutine's exit ends the thread, which
		// is still in ns.
		runtime.LockOSThread()
		f, err := os.Open(filepath.Join(NetnsDir, ns))
		if err != nil {
			ch <- result{err: fmt.Errorf("Cannot open network namespace \"%s\": %s", ns, strerror(err))}
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- result{err: fmt.Errorf("setting the network namespace \"%s\" failed: %s", ns, strerror(err))}
			return
		}
		t, err := newKernelSocket()
		ch <- result{t, err}
	}()
	r := <-ch
	return r.t, r.err
}

func newKernelSocket() (*KernelTransport, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("Cannot open netlink socket: %s", strerror(err))
	}
	// Ask for extended ACKs so kernel error strings reach the user, as
	// iproute2 does; large buffers so big dumps are not truncated.
	_ = unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_EXT_ACK, 1)
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 32768)
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 1<<20)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("Cannot bind netlink socket: %s", strerror(err))
	}
	return &KernelTransport{fd: fd}, nil
}

// Send writes one datagram to the kernel.
func (k *KernelTransport) Send(b []byte) error {
	return unix.Sendto(k.fd, b, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
}

// Recv reads one datagram; a datagram longer than buf is an error
// (MSG_TRUNC) rather than silently cut.
func (k *KernelTransport) Recv(buf []byte) (int, error) {
	for {
		n, _, flags, _, err := unix.Recvmsg(k.fd, buf, nil, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, err
		}
		if flags&unix.MSG_TRUNC != 0 {
			return 0, syscall.ENOBUFS
		}
		return n, nil
	}
}

// Subscribe joins rtnetlink multicast groups.
func (k *KernelTransport) Subscribe(groups ...uint32) error {
	for _, g := range groups {
		if err := unix.SetsockoptInt(k.fd, unix.SOL_NETLINK, unix.NETLINK_ADD_MEMBERSHIP, int(g)); err != nil {
			return err
		}
	}
	return nil
}

// SetRecvTimeout makes Recv fail with EAGAIN after d without data, so a
// reader can look at a stop condition (`ip monitor` with Options.Done).
func (k *KernelTransport) SetRecvTimeout(d time.Duration) error {
	tv := unix.NsecToTimeval(d.Nanoseconds())
	return unix.SetsockoptTimeval(k.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
}

// SetOption sets a SOL_NETLINK boolean option (NETLINK_EXT_ACK,
// NETLINK_GET_STRICT_CHK, ...).
func (k *KernelTransport) SetOption(opt int, on bool) error {
	v := 0
	if on {
		v = 1
	}
	return unix.SetsockoptInt(k.fd, unix.SOL_NETLINK, opt, v)
}

// Close closes the socket.
func (k *KernelTransport) Close() error { return unix.Close(k.fd) }
