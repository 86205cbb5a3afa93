package daemon

import (
	"encoding/binary"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"github.com/usnet/usnet/stack"
)

// startDaemonAs starts a daemon that sees every client as who (its real
// SO_PEERCRED pid kept) and whose administrators' group is adminGID
// (-1: none).
func startDaemonAs(t *testing.T, who peer, adminGID int64) *Server {
	t.Helper()
	st, err := stack.NewRealtime()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := Listen(filepath.Join(t.TempDir(), "usnet.sock"), st)
	if err != nil {
		t.Fatal(err)
	}
	if adminGID >= 0 {
		srv.SetAdminGroup(uint32(adminGID))
	}
	srv.identify = func(c *net.UnixConn) (peer, error) {
		p, err := identify(c)
		w := who // a copy per connection: they are served concurrently
		w.pid = p.pid
		return w, err
	}
	go srv.Serve()
	t.Cleanup(func() { srv.Close() })
	return srv
}

// linkChange asks for a dummy link over rtnetlink and returns the
// errno of the acknowledgement.
func linkChange(t *testing.T, srv *Server) syscall.Errno {
	t.Helper()
	c, err := Dial(srv.Path(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	l := rtmsg.Link{Name: "d0", Info: &rtmsg.LinkInfo{Kind: "dummy"}}
	p, _ := l.MarshalBinary()
	c.Send(netlink.AppendMessage(nil, netlink.Header{Type: unix.RTM_NEWLINK,
		Flags: unix.NLM_F_REQUEST | unix.NLM_F_ACK | unix.NLM_F_CREATE, Seq: 1}, p))
	ack := recvType(t, c, unix.NLMSG_ERROR)
	return syscall.Errno(-int32(binary.NativeEndian.Uint32(ack.Data)))
}

// TestReadOnlyClient: a client that is neither root, the daemon's user
// nor in the administrators' group reads but changes nothing, and gets
// Linux's errnos for what needs capabilities.
func TestReadOnlyClient(t *testing.T) {
	srv := startDaemonAs(t, peer{uid: 54321, gid: 1000, groups: []uint32{1000, 24}}, 4242)
	// Reads.
	c, err := Dial(srv.Path(), "")
	if err != nil {
		t.Fatal(err)
	}
	c.Send(netlink.AppendMessage(nil, netlink.Header{Type: unix.RTM_GETLINK, Flags: unix.NLM_F_REQUEST | unix.NLM_F_DUMP, Seq: 1}, make([]byte, 16)))
	recvType(t, c, unix.NLMSG_DONE)
	c.Close()
	if _, err := NetnsList(srv.Path()); err != nil {
		t.Errorf("netns list: %v", err)
	}
	// Changes: CAP_NET_ADMIN, CAP_SYS_ADMIN.
	if errno := linkChange(t, srv); errno != syscall.EPERM {
		t.Errorf("RTM_NEWLINK: errno %v, want EPERM", errno)
	}
	if err := NetnsAdd(srv.Path(), "x"); !errors.Is(err, syscall.EPERM) {
		t.Errorf("netns add: %v, want EPERM", err)
	}
	// Capture: a packet socket needs CAP_NET_RAW.
	if c, err := Capture(srv.Path(), "", "lo"); !errors.Is(err, syscall.EPERM) {
		if err == nil {
			c.Close()
		}
		t.Errorf("capture: %v, want EPERM", err)
	}
	// Sockets: ports below 1024 need CAP_NET_BIND_SERVICE, raw sockets
	// CAP_NET_RAW; the rest is everyone's.
	ns := Sockets(srv.Path(), "")
	if _, err := ns.Listen("tcp", ":80"); !errors.Is(err, syscall.EACCES) {
		t.Errorf("listen on port 80: %v, want EACCES", err)
	}
	if _, err := ns.ListenPacket("ip4:icmp", ""); !errors.Is(err, syscall.EPERM) {
		t.Errorf("raw ICMP socket: %v, want EPERM", err)
	}
	if _, err := ns.ListenPacket("udp4:icmp", ""); !errors.Is(err, syscall.EACCES) {
		t.Errorf("ICMP datagram socket: %v, want EACCES (ping_group_range \"1 0\")", err)
	}
	l, err := ns.Listen("tcp", ":8080")
	if err != nil {
		t.Fatalf("listen on port 8080: %v", err)
	}
	l.Close()
	// The namespace's ping_group_range admits by a supplementary group.
	def := srv.Stack.Default()
	def.Exec().Do(func() { def.IPv4.Sysctl.PingGroupLow, def.IPv4.Sysctl.PingGroupHigh = 20, 30 })
	pc, err := ns.ListenPacket("udp4:icmp", "")
	if err != nil {
		t.Fatalf("ICMP datagram socket for group 24 in ping_group_range 20-30: %v", err)
	}
	pc.Close()
}

// TestAdminGroup: the administrators' group makes a client admin by its
// effective group or a supplementary one.
func TestAdminGroup(t *testing.T) {
	for _, tc := range []struct {
		name  string
		who   peer
		admin int64
		want  bool
	}{
		{"effective gid", peer{uid: 54321, gid: 4242}, 4242, true},
		{"supplementary group", peer{uid: 54321, gid: 1000, groups: []uint32{7, 4242}}, 4242, true},
		{"not a member", peer{uid: 54321, gid: 1000, groups: []uint32{7}}, 4242, false},
		{"no admin group", peer{uid: 54321, gid: 4242, groups: []uint32{4242}}, -1, false},
		{"root", peer{uid: 0, gid: 0}, -1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startDaemonAs(t, tc.who, tc.admin)
			errno := linkChange(t, srv)
			if got := errno == 0; got != tc.want {
				t.Errorf("RTM_NEWLINK: errno %v, want admin %v", errno, tc.want)
			}
			l, err := Sockets(srv.Path(), "").Listen("tcp", ":80")
			if err == nil {
				l.Close()
			}
			if got := err == nil; got != tc.want {
				t.Errorf("listen on port 80: %v, want admin %v", err, tc.want)
			}
			if !tc.want && !errors.Is(err, syscall.EACCES) {
				t.Errorf("listen on port 80: %v, want EACCES", err)
			}
		})
	}
}

// TestIdentify: the daemon reads a real peer's ids and supplementary
// groups (SO_PEERGROUPS), and /proc/PID/status agrees.
func TestIdentify(t *testing.T) {
	srv := startDaemon(t)
	c, err := net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: srv.Path(), Net: "unixpacket"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p, err := identify(c)
	if err != nil {
		t.Fatal(err)
	}
	groups, _ := os.Getgroups()
	want := make([]uint32, len(groups))
	for i, g := range groups {
		want[i] = uint32(g)
	}
	slices.Sort(p.groups)
	slices.Sort(want)
	// Both ends are this process: the "peer" is us.
	if int(p.pid) != os.Getpid() || int(p.uid) != os.Geteuid() || int(p.gid) != os.Getegid() || !slices.Equal(p.groups, want) {
		t.Fatalf("peer %+v, want pid %d uid %d gid %d groups %v", p, os.Getpid(), os.Geteuid(), os.Getegid(), want)
	}
	proc := procGroups(p.pid, p.uid, p.gid)
	slices.Sort(proc)
	if !slices.Equal(proc, want) {
		t.Errorf("/proc groups %v, want %v", proc, want)
	}
	if g := procGroups(p.pid, p.uid+1, p.gid); g != nil {
		t.Errorf("/proc groups of a process with other ids: %v, want none", g)
	}
}

func TestParseStatus(t *testing.T) {
	status := "Name:\tx\nUid:\t1000\t1001\t1000\t1000\nGid:\t100\t101\t100\t100\nFDSize:\t64\nGroups:\t4 24 27 \n"
	g, euid, egid, err := parseStatus(strings.NewReader(status))
	if err != nil || euid != 1001 || egid != 101 || !slices.Equal(g, []uint32{4, 24, 27}) {
		t.Fatalf("got %v %d %d %v", g, euid, egid, err)
	}
	if _, _, _, err := parseStatus(strings.NewReader("Name:\tx\n")); err == nil {
		t.Fatal("a status without ids parsed")
	}
}
