package daemon

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// Protocol constants (see the package documentation).
const (
	helloMagic = "USNET1"
	ctlMagic   = "USNETCTL"
	errMagic   = "USNETERR"

	VerbRtnetlink = "rtnetlink"
	VerbSocket    = "socket"
	VerbNetnsID   = "netns-id"
	VerbCapture   = "capture"
	VerbPortStats = "port-stats"
	VerbNetnsAdd  = "netns-add"
	VerbNetnsDel  = "netns-del"
	VerbNetnsList = "netns-list"
	VerbSysctl    = "sysctl"

	ctlJoin      = 1
	ctlLeave     = 2
	ctlOptionOn  = 3
	ctlOptionOff = 4
	ctlRcvBuf    = 5

	// maxDatagram bounds what either side reads at once: a netlink
	// request batch or a 32 KiB dump datagram fit easily.
	maxDatagram = 1 << 20
)

// Transport is a netlink datagram channel: an in-process rtnl.Socket or
// a NetlinkConn to the daemon. iproute defines the same method set.
type Transport interface {
	Send(datagram []byte) error
	Recv(buf []byte) (int, error)
	Close() error
}

// DefaultPath is where the daemon listens: $USNET_SOCKET, else
// /run/usnet/usnet.sock for root, else $XDG_RUNTIME_DIR/usnet.sock
// (/tmp/usnet-UID.sock without XDG_RUNTIME_DIR).
func DefaultPath() string {
	if p := os.Getenv("USNET_SOCKET"); p != "" {
		return p
	}
	if os.Geteuid() == 0 {
		return "/run/usnet/usnet.sock"
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "usnet.sock")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("usnet-%d.sock", os.Geteuid()))
}

func hello(verb, arg string) []byte {
	return []byte(helloMagic + "\x00" + verb + "\x00" + arg)
}

// parseHello splits a hello datagram.
func parseHello(b []byte) (verb, arg string, err error) {
	f := bytes.SplitN(b, []byte{0}, 3)
	if len(f) < 2 || string(f[0]) != helloMagic {
		return "", "", syscall.EPROTO
	}
	if len(f) == 3 {
		arg = string(f[2])
	}
	return string(f[1]), arg, nil
}

func okReply(payload string) []byte { return []byte("OK\x00" + payload) }

func errReply(err error) []byte {
	errno := syscall.EINVAL
	var e syscall.Errno
	if asErrno(err, &e) {
		errno = e
	}
	return []byte("ERR\x00" + strconv.Itoa(int(errno)) + "\x00" + err.Error())
}

// parseReply returns the payload of an OK reply or the error of an ERR.
func parseReply(b []byte) (string, error) {
	if p, ok := bytes.CutPrefix(b, []byte("OK\x00")); ok {
		return string(p), nil
	}
	if p, ok := bytes.CutPrefix(b, []byte("ERR\x00")); ok {
		f := bytes.SplitN(p, []byte{0}, 2)
		n, err := strconv.Atoi(string(f[0]))
		if err != nil {
			return "", syscall.EPROTO
		}
		msg := ""
		if len(f) == 2 {
			msg = string(f[1])
		}
		return "", &RemoteError{Errno: syscall.Errno(n), Msg: msg}
	}
	return "", syscall.EPROTO
}

// RemoteError is an error the daemon reported.
type RemoteError struct {
	Errno syscall.Errno
	Msg   string
}

func (e *RemoteError) Error() string {
	if e.Msg != "" {
		return "usnet daemon: " + e.Msg
	}
	return "usnet daemon: " + e.Errno.Error()
}

func (e *RemoteError) Unwrap() error { return e.Errno }

func ctl(op, arg uint32) []byte {
	b := make([]byte, 0, 16)
	b = append(b, ctlMagic...)
	b = binary.NativeEndian.AppendUint32(b, op)
	return binary.NativeEndian.AppendUint32(b, arg)
}

// parseCtl recognises a control datagram.
func parseCtl(b []byte) (op, arg uint32, ok bool) {
	if len(b) != 16 || string(b[:8]) != ctlMagic {
		return 0, 0, false
	}
	return binary.NativeEndian.Uint32(b[8:]), binary.NativeEndian.Uint32(b[12:]), true
}

func errDatagram(errno syscall.Errno) []byte {
	return binary.NativeEndian.AppendUint32([]byte(errMagic), uint32(errno))
}

func parseErrDatagram(b []byte) (syscall.Errno, bool) {
	if len(b) != 12 || string(b[:8]) != errMagic {
		return 0, false
	}
	return syscall.Errno(binary.NativeEndian.Uint32(b[8:])), true
}
