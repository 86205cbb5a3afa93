package daemon

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/usnet/usnet/sockproxy"
	"github.com/usnet/usnet/stack"
)

// peer is what the daemon knows of a connecting process: its
// credentials when it connected.
type peer struct {
	pid      int32
	uid, gid uint32   // effective ids (SO_PEERCRED)
	groups   []uint32 // supplementary groups
}

// identify reads the peer's credentials: SO_PEERCRED and its
// supplementary groups, both as they were at connect(2), the moment
// Linux checks a netlink socket's opener against (its file credentials).
func identify(c *net.UnixConn) (peer, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return peer{}, err
	}
	var cred *unix.Ucred
	var groups []uint32
	var cerr, gerr error
	err = rc.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
		groups, gerr = peerGroups(int(fd))
	})
	if err == nil {
		err = cerr
	}
	if err != nil {
		return peer{}, err
	}
	p := peer{pid: cred.Pid, uid: cred.Uid, gid: cred.Gid, groups: groups}
	if gerr != nil {
		// A kernel before 4.13 has no SO_PEERGROUPS: read the process's
		// current groups, if it is still the process that connected.
		p.groups = procGroups(cred.Pid, cred.Uid, cred.Gid)
	}
	return p, nil
}

// peerGroups is getsockopt SO_PEERGROUPS: the supplementary groups of
// the peer when it connected.
func peerGroups(fd int) ([]uint32, error) {
	buf := make([]uint32, 32)
	for range 3 {
		n := uint32(len(buf) * 4)
		_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, unix.SO_PEERGROUPS,
			uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&n)), 0)
		switch e {
		case 0:
			return buf[:n/4], nil
		case unix.ERANGE: // n is the size needed
			buf = make([]uint32, n/4+1)
		default:
			return nil, e
		}
	}
	return nil, unix.ERANGE
}

// procGroups reads the Groups: line of /proc/PID/status, provided the
// process's effective ids still match the connection's (a reused pid
// gets no groups).
func procGroups(pid int32, uid, gid uint32) []uint32 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil
	}
	defer f.Close()
	groups, euid, egid, err := parseStatus(f)
	if err != nil || euid != uid || egid != gid {
		return nil
	}
	return groups
}

// parseStatus reads the effective uid and gid and the supplementary
// groups from a /proc/PID/status file.
func parseStatus(f io.Reader) (groups []uint32, euid, egid uint32, err error) {
	seen := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(val)
		switch key {
		case "Uid", "Gid": // real, effective, saved, filesystem
			if len(fields) < 2 {
				return nil, 0, 0, errors.New("short " + key + " line")
			}
			id, err := strconv.ParseUint(fields[1], 10, 32)
			if err != nil {
				return nil, 0, 0, err
			}
			if key == "Uid" {
				euid = uint32(id)
			} else {
				egid = uint32(id)
			}
			seen++
		case "Groups":
			for _, s := range fields {
				g, err := strconv.ParseUint(s, 10, 32)
				if err != nil {
					return nil, 0, 0, err
				}
				groups = append(groups, uint32(g))
			}
			seen++
		}
	}
	if seen != 3 {
		return nil, 0, 0, errors.New("no Uid, Gid or Groups line")
	}
	return groups, euid, egid, sc.Err()
}

// SetAdminGroup makes the members of group gid administrators, by their
// effective or a supplementary group (`usnet daemon --admin-group`).
// Root and the daemon's own user always are.
func (s *Server) SetAdminGroup(gid uint32) { s.adminGID = int64(gid) }

// admin reports whether p may change things: what Linux grants with
// CAP_NET_ADMIN (rtnetlink changes, namespaces), CAP_NET_RAW (capture,
// raw sockets) and CAP_NET_BIND_SERVICE (ports below
// ip_unprivileged_port_start).
func (s *Server) admin(p peer) bool {
	if p.uid == 0 || int(p.uid) == s.uid {
		return true
	}
	if s.adminGID < 0 {
		return false
	}
	g := uint32(s.adminGID)
	return p.gid == g || slices.Contains(p.groups, g)
}

// refuse answers a verb the peer is not allowed, with Linux's errno.
func refuse(c *net.UnixConn, verb string, errno syscall.Errno) {
	c.Write(errReply(fmt.Errorf("%s: %w", verb, errno)))
}

// limitedNS gives the socket proxy a namespace's own settings
// (net.ipv4.ip_unprivileged_port_start, ping_group_range).
type limitedNS struct{ *stack.Namespace }

func (n limitedNS) Limits() sockproxy.Limits {
	var l sockproxy.Limits
	n.Exec().Do(func() {
		sc := &n.IPv4.Sysctl
		l = sockproxy.Limits{UnprivilegedPortStart: int(sc.UnprivilegedPortStart),
			PingGroupLow: sc.PingGroupLow, PingGroupHigh: sc.PingGroupHigh}
	})
	return l
}
