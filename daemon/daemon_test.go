package daemon

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/usnet/usnet/drivers/veth"
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"github.com/usnet/usnet/pcapng"
	"github.com/usnet/usnet/stack"
	"golang.org/x/sys/unix"
)

func startDaemon(t *testing.T) *Server {
	t.Helper()
	st, err := stack.NewRealtime()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := Listen(filepath.Join(t.TempDir(), "usnet.sock"), st)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve()
	t.Cleanup(func() { srv.Close() })
	return srv
}

// recvType reads datagrams until one carries a message of type typ.
func recvType(t *testing.T, c *NetlinkConn, typ uint16) netlink.Message {
	t.Helper()
	buf := make([]byte, 64<<10)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		n, err := c.Recv(buf)
		if err != nil {
			t.Fatal(err)
		}
		msgs, err := netlink.ParseMessages(append([]byte(nil), buf[:n]...))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if m.Header.Type == typ {
				return m
			}
		}
	}
	t.Fatalf("no message of type %d", typ)
	return netlink.Message{}
}

func TestNetlinkOverDaemon(t *testing.T) {
	srv := startDaemon(t)
	if err := NetnsAdd(srv.Path(), "blue"); err != nil {
		t.Fatal(err)
	}
	if err := NetnsAdd(srv.Path(), "blue"); !errors.Is(err, syscall.EEXIST) {
		t.Fatalf("second add: %v", err)
	}
	names, err := NetnsList(srv.Path())
	if err != nil || !slices.Equal(names, []string{"blue"}) {
		t.Fatalf("list: %v %v", names, err)
	}
	c, err := Dial(srv.Path(), "blue")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.PortID() == 0 {
		t.Fatal("no port id")
	}
	if err := c.Join(unix.RTNLGRP_LINK); err != nil {
		t.Fatal(err)
	}
	c.SetOption(unix.NETLINK_EXT_ACK, true)
	l := rtmsg.Link{Name: "d0", Info: &rtmsg.LinkInfo{Kind: "dummy"}}
	p, _ := l.MarshalBinary()
	req := netlink.AppendMessage(nil, netlink.Header{Type: unix.RTM_NEWLINK,
		Flags: unix.NLM_F_REQUEST | unix.NLM_F_ACK | unix.NLM_F_CREATE | unix.NLM_F_EXCL, Seq: 7}, p)
	if err := c.Send(req); err != nil {
		t.Fatal(err)
	}
	m := recvType(t, c, unix.RTM_NEWLINK)
	var got rtmsg.Link
	if err := got.UnmarshalBinary(m.Data); err != nil || got.Name != "d0" {
		t.Fatalf("notification %+v %v", got, err)
	}
	ack := recvType(t, c, unix.NLMSG_ERROR)
	if ack.Header.Seq != 7 || binary.NativeEndian.Uint32(ack.Data) != 0 || ack.Header.Pid != c.PortID() {
		t.Fatalf("ack %+v", ack.Header)
	}
	// A dump through the transport.
	c.Send(netlink.AppendMessage(nil, netlink.Header{Type: unix.RTM_GETLINK, Flags: unix.NLM_F_REQUEST | unix.NLM_F_DUMP, Seq: 8}, make([]byte, 16)))
	recvType(t, c, unix.NLMSG_DONE)
	if err := NetnsDel(srv.Path(), "blue"); err != nil {
		t.Fatal(err)
	}
	if _, err := Dial(srv.Path(), "nosuch"); !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("dial unknown namespace: %v", err)
	}
}

func TestHelloErrors(t *testing.T) {
	srv := startDaemon(t)
	c, _, err := dial(srv.Path(), VerbSocket, "nosuchns")
	if err == nil {
		c.Close()
	}
	if !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("socket verb, unknown namespace: %v", err)
	}
	c, _, err = dial(srv.Path(), "bogus", "")
	if err == nil {
		c.Close()
	}
	if !errors.Is(err, syscall.EPROTONOSUPPORT) {
		t.Fatalf("unknown verb: %v", err)
	}
	if err := NetnsDel(srv.Path(), "default"); !errors.Is(err, syscall.EBUSY) {
		t.Fatalf("delete default: %v", err)
	}
	if _, err := Dial(filepath.Join(t.TempDir(), "none.sock"), ""); !IsNotRunning(err) {
		t.Fatalf("no daemon: %v", err)
	}
}

func TestProtocolCodec(t *testing.T) {
	v, a, err := parseHello(hello(VerbRtnetlink, "ns with space"))
	if err != nil || v != VerbRtnetlink || a != "ns with space" {
		t.Fatal(v, a, err)
	}
	if _, _, err := parseHello([]byte("garbage")); err == nil {
		t.Fatal("garbage hello accepted")
	}
	op, arg, ok := parseCtl(ctl(ctlJoin, 5))
	if !ok || op != ctlJoin || arg != 5 {
		t.Fatal(op, arg, ok)
	}
	if errno, ok := parseErrDatagram(errDatagram(syscall.ENOBUFS)); !ok || errno != syscall.ENOBUFS {
		t.Fatal(errno, ok)
	}
	if _, err := parseReply(errReply(syscall.EPERM)); !errors.Is(err, syscall.EPERM) {
		t.Fatal(err)
	}
}

// TestSocketsOverDaemon: a UDP round trip and a ping between two
// namespaces, configured over rtnetlink through the daemon, with the data
// on descriptors passed by the socket proxy.
func TestSocketsOverDaemon(t *testing.T) {
	srv := startDaemon(t)
	for _, n := range []string{"sa", "sb"} {
		if err := NetnsAdd(srv.Path(), n); err != nil {
			t.Fatal(err)
		}
	}
	st := srv.Stack
	a, b := st.Get("sa"), st.Get("sb")
	// Configuration goes through the stack directly here; rtnetlink's own
	// tests cover the same operations as messages.
	a.Exec().Do(func() { a.Lo.Up() })
	b.Exec().Do(func() { b.Lo.Up() })
	configurePair(t, a, b)
	pa := Sockets(srv.Path(), "sa")
	pb := Sockets(srv.Path(), "sb")
	l, err := pb.ListenPacket("udp", "10.8.0.2:9000")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := pa.Dial("udp", "10.8.0.2:9000")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("over the proxy")); err != nil {
		t.Fatal(err)
	}
	l.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 100)
	n, from, err := l.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "over the proxy" || !strings.HasPrefix(from.String(), "10.8.0.1:") {
		t.Fatalf("got %q from %v: %v", buf[:n], from, err)
	}
}

// configurePair joins a and b with a veth, 10.8.0.1/24 and 10.8.0.2/24.
func configurePair(t *testing.T, a, b *stack.Namespace) {
	t.Helper()
	var va, vb *netdev.Device
	var err error
	va, vb, err = veth.Create(veth.End{Table: a.Dev, Name: "eth0"}, veth.End{Table: b.Dev, Name: "eth0"})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []struct {
		ns  *stack.Namespace
		d   *netdev.Device
		pfx string
	}{{a, va, "10.8.0.1/24"}, {b, vb, "10.8.0.2/24"}} {
		p := netip.MustParsePrefix(x.pfx)
		x.ns.Exec().Do(func() {
			x.d.Up()
			_, err = x.ns.IPv4.AddAddr(ipv4.IfAddr{Dev: x.d, Local: p.Addr(), Prefix: p})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestCaptureOverDaemon: a live capture of a daemon device delivers a
// pcapng stream with the frames that cross it.
func TestCaptureOverDaemon(t *testing.T) {
	srv := startDaemon(t)
	for _, n := range []string{"ca", "cb"} {
		if err := NetnsAdd(srv.Path(), n); err != nil {
			t.Fatal(err)
		}
	}
	a, b := srv.Stack.Get("ca"), srv.Stack.Get("cb")
	configurePair(t, a, b)
	c, err := Capture(srv.Path(), "ca", "eth0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := Capture(srv.Path(), "ca", "nosuch0"); !errors.Is(err, syscall.ENODEV) {
		t.Fatalf("capture of a missing device: %v", err)
	}
	u, err := Sockets(srv.Path(), "ca").Dial("udp", "10.8.0.2:9")
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	u.Write([]byte("captured"))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	// Whole datagrams into a buffer: a short read of a SOCK_SEQPACKET
	// datagram would lose its rest.
	r, err := pcapng.NewReader(bufio.NewReaderSize(c, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	for {
		p, err := r.Next()
		if err != nil {
			t.Fatalf("no UDP frame in the capture: %v", err)
		}
		if bytes.Contains(p.Data, []byte("captured")) {
			if ifs := r.Interfaces(); len(ifs) != 1 || ifs[0].Name != "eth0" {
				t.Fatalf("interfaces %+v", ifs)
			}
			return
		}
	}
}
