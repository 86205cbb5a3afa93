package daemon

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/usnet/usnet/internal/nlcheck"
	"github.com/usnet/usnet/iproute"
	"github.com/usnet/usnet/netlink"
	"golang.org/x/sys/unix"
)

// checkedConn is a NetlinkConn whose every received datagram is checked
// (package nlcheck) before the reader sees it: the netlink framing of
// what the daemon sends, whatever the reader makes of it.
type checkedConn struct {
	*NetlinkConn
	report  func(format string, a ...any)
	big     []byte
	timeout time.Duration
}

func (c *checkedConn) Recv(buf []byte) (int, error) {
	if c.timeout > 0 {
		c.c.SetReadDeadline(time.Now().Add(c.timeout))
	}
	k, err := c.NetlinkConn.Recv(c.big)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return 0, unix.EAGAIN
		}
		return 0, err
	}
	d := c.big[:k]
	max := 0
	if h, err := netlink.DecodeHeader(d); err == nil && h.Flags&unix.NLM_F_MULTI != 0 && netlink.Align(int(h.Len)) < len(d) {
		// A dump datagram of several messages, as netlink_dump sizes
		// them (a larger message comes alone).
		max = netlink.DefaultDumpSize
	}
	if err := nlcheck.Datagram(d, max); err != nil {
		c.report("datagram of %d bytes: %v\n% x", k, err, d[:min(len(d), 256)])
	}
	if k > len(buf) {
		c.report("datagram of %d bytes for a %d-byte buffer", k, len(buf))
	}
	return copy(buf, d), nil
}

// SetRecvTimeout lets `ip monitor` notice Options.Done.
func (c *checkedConn) SetRecvTimeout(d time.Duration) error { c.timeout = d; return nil }

// stress is a daemon under a control-plane load.
type stress struct {
	t    *testing.T
	srv  *Server
	mu   sync.Mutex
	errs int
}

func (s *stress) report(format string, a ...any) {
	s.mu.Lock()
	s.errs++
	n := s.errs
	s.mu.Unlock()
	if n <= 20 {
		s.t.Errorf(format, a...)
	}
}

func (s *stress) dial(ns string) (iproute.Transport, error) {
	c, err := Dial(s.srv.Path(), ns)
	if err != nil {
		return nil, err
	}
	return &checkedConn{NetlinkConn: c, report: s.report, big: make([]byte, maxDatagram)}, nil
}

// ip runs one `ip` (or, with "bridge" first, `bridge`) command over
// checked connections and returns its exit code and stderr. A framing
// complaint of the client's own parser is reported whatever the code.
func (s *stress) ip(done <-chan struct{}, args ...string) (int, string) {
	var out, errb bytes.Buffer
	opt := iproute.Options{Dial: s.dial, Stdout: &out, Stderr: &errb, Done: done}
	var code int
	if args[0] == "bridge" {
		code = iproute.RunBridge(args[1:], opt)
	} else {
		code = iproute.Run(args, opt)
	}
	if e := errb.String(); strings.Contains(e, "netlink:") || strings.Contains(e, "nlmsg") {
		s.report("ip %s: %s", strings.Join(args, " "), e)
	}
	return code, errb.String()
}

func (s *stress) must(args ...string) {
	s.t.Helper()
	if code, e := s.ip(nil, args...); code != 0 {
		s.t.Fatalf("ip %s: exit %d: %s", strings.Join(args, " "), code, e)
	}
}

// stressDuration is how long TestControlPlaneStress runs: 3 s, or
// $USNET_NLSTRESS (a Go duration) for a longer hunt.
func stressDuration(t *testing.T) time.Duration {
	if v := os.Getenv("USNET_NLSTRESS"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if testing.Short() {
		return time.Second
	}
	return 3 * time.Second
}

// TestControlPlaneStress builds a bridge whose ports are of every kind
// that can be one (veth, dummy, bond, vlan, macvlan, ipvlan, vxlan, a
// veth whose peer is in another namespace), then, for a while and all at
// once: flaps carriers through the veth peers, releases and re-enslaves
// ports, creates and deletes a port, while `ip -d link show`, `ip -d -j
// link show`, `ip -s -d link show`, `bridge link/fdb show` and friends
// dump in a loop and `ip monitor` plus a raw subscribed socket listen.
// Every datagram any of them receives is checked (nlcheck), dump
// datagrams against netlink_dump's 32 KiB, and the dumping commands
// must succeed.
func TestControlPlaneStress(t *testing.T) {
	srv := startDaemon(t)
	s := &stress{t: t, srv: srv}
	if err := NetnsAdd(srv.Path(), "blue"); err != nil {
		t.Fatal(err)
	}
	s.must("link", "add", "br0", "type", "bridge", "stp_state", "1", "forward_delay", "2")
	s.must("link", "set", "br0", "up")
	const veths = 6
	for i := range veths {
		s.must("link", "add", fmt.Sprintf("v%d", i), "type", "veth", "peer", "name", fmt.Sprintf("p%d", i))
	}
	s.must("link", "add", "d0", "type", "dummy")
	s.must("link", "add", "d1", "type", "dummy")
	s.must("link", "add", "bond0", "type", "bond", "mode", "active-backup", "miimon", "100")
	s.must("link", "set", "d1", "master", "bond0")
	s.must("link", "add", "link", "p0", "name", "p0.10", "type", "vlan", "id", "10", "egress-qos-map", "1:2", "3:4")
	s.must("link", "add", "link", "p1", "name", "mv0", "type", "macvlan", "mode", "bridge")
	s.must("link", "add", "link", "p2", "name", "ipv0", "type", "ipvlan", "mode", "l2")
	s.must("link", "add", "vx0", "type", "vxlan", "id", "42", "dstport", "4789")
	s.must("link", "add", "x0", "type", "veth", "peer", "name", "x1", "netns", "blue")
	ports := []string{"v0", "v1", "v2", "v3", "v4", "v5", "d0", "bond0", "p0.10", "mv0", "ipv0", "vx0", "x0"}
	for _, p := range ports {
		s.must("link", "set", p, "master", "br0")
	}
	for _, d := range append([]string{"d1", "p0", "p1", "p2", "p3", "p4", "p5"}, ports...) {
		s.must("link", "set", d, "up")
	}
	s.must("-n", "blue", "link", "set", "x1", "up")

	stop := make(chan struct{})
	var wg sync.WaitGroup
	run := func(f func(r *rand.Rand)) {
		wg.Add(1)
		seed := uint64(time.Now().UnixNano())
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, 1))
			for {
				select {
				case <-stop:
					return
				default:
				}
				f(r)
			}
		}()
	}
	var changes, dumps, notes sync.Map
	count := func(m *sync.Map, k string) {
		v, _ := m.LoadOrStore(k, new(int64))
		*v.(*int64)++ // one goroutine per key
	}
	// Carrier flaps: a veth port loses carrier when its peer goes down.
	run(func(r *rand.Rand) {
		p := fmt.Sprintf("p%d", r.IntN(veths))
		s.ip(nil, "link", "set", p, "down")
		s.ip(nil, "link", "set", p, "up")
		s.ip(nil, "-n", "blue", "link", "set", "x1", []string{"down", "up"}[r.IntN(2)])
		count(&changes, "flap")
	})
	// Ports leave and join, one is created and deleted, the bond's
	// slave comes and goes.
	run(func(r *rand.Rand) {
		p := ports[r.IntN(len(ports))]
		s.ip(nil, "link", "set", p, "nomaster")
		s.ip(nil, "link", "set", p, "master", "br0")
		s.ip(nil, "link", "set", p, "up")
		s.ip(nil, "link", "add", "t0", "type", "veth", "peer", "name", "t1")
		s.ip(nil, "link", "set", "t0", "master", "br0")
		s.ip(nil, "link", "set", "t0", "up")
		s.ip(nil, "link", "set", "t1", "up")
		s.ip(nil, "link", "del", "t0")
		s.ip(nil, "link", "set", "d1", "nomaster")
		s.ip(nil, "link", "set", "d1", "master", "bond0")
		s.ip(nil, "link", "set", "d1", "up")
		count(&changes, "enslave")
	})
	cmds := [][]string{
		{"-d", "link", "show"},
		{"-d", "-j", "link", "show"},
		{"-s", "-d", "link", "show"},
		{"-d", "link", "show", "master", "br0"},
		{"-d", "link", "show", "dev", "br0"},
		{"addr", "show"},
		{"-d", "-n", "blue", "link", "show"},
		{"bridge", "link", "show"},
		{"bridge", "fdb", "show"},
		{"route", "show"},
	}
	for i := range 2 {
		run(func(r *rand.Rand) {
			c := cmds[r.IntN(len(cmds))]
			if i == 0 {
				c = cmds[r.IntN(2)] // one dumper does what was seen failing
			}
			code, e := s.ip(nil, c...)
			if code != 0 && !strings.Contains(e, "does not exist") {
				s.report("ip %s: exit %d: %s", strings.Join(c, " "), code, e)
			}
			count(&dumps, fmt.Sprint(i))
		})
	}
	// ip monitor, text and JSON-free detail, until stop.
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.ip(stop, "-d", "monitor", "all")
	}()
	// A raw subscriber with a small receive queue, which overruns: the
	// overrun must come as ENOBUFS, never as a broken datagram.
	wg.Add(1)
	go func() {
		defer wg.Done()
		c, err := Dial(srv.Path(), "")
		if err != nil {
			s.report("dial: %v", err)
			return
		}
		defer c.Close()
		c.SetRcvBuf(16 << 10)
		c.Subscribe(unix.RTNLGRP_LINK, unix.RTNLGRP_NEIGH, unix.RTNLGRP_IPV4_IFADDR, unix.RTNLGRP_IPV4_ROUTE, unix.RTNLGRP_IPV4_NETCONF)
		buf := make([]byte, 1<<17)
		for {
			select {
			case <-stop:
				return
			default:
			}
			c.c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
			n, err := c.Recv(buf)
			switch {
			case errors.Is(err, syscall.ENOBUFS):
				count(&notes, "enobufs")
				continue
			case err != nil:
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					continue
				}
				if !errors.Is(err, io.EOF) {
					s.report("raw monitor: %v", err)
				}
				return
			}
			if err := nlcheck.Datagram(buf[:n], 0); err != nil {
				s.report("raw monitor: %v\n% x", err, buf[:min(n, 256)])
			}
			if h, _ := netlink.DecodeHeader(buf[:n]); netlink.Align(int(h.Len)) < n {
				s.report("raw monitor: %d-byte notification datagram holds more than one %d-byte message", n, h.Len)
			}
			count(&notes, "datagrams")
		}
	}()
	time.Sleep(stressDuration(t))
	close(stop)
	wg.Wait()
	var summary []string
	for _, m := range []*sync.Map{&changes, &dumps, &notes} {
		m.Range(func(k, v any) bool {
			summary = append(summary, fmt.Sprintf("%v=%d", k, *v.(*int64)))
			return true
		})
	}
	t.Logf("%s", strings.Join(summary, " "))
}

// TestLargeReplyNotTruncated: a reply datagram larger than 64 KiB (the
// NLMSG_ERROR that echoes a large failed request) reaches the client
// whole. The daemon's pump used to read the rtnl socket into a 64 KiB
// buffer, which silently cut such a datagram, and the client then read
// "nlmsg_len exceeds remaining buffer".
func TestLargeReplyNotTruncated(t *testing.T) {
	srv := startDaemon(t)
	c, err := Dial(srv.Path(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// RTM_SETLINK on a missing device with 100 KiB of attributes: ENODEV,
	// with the request echoed (no NETLINK_CAP_ACK).
	e := netlink.NewAttributeEncoder(nil)
	m := e.BeginMessage(netlink.Header{Type: unix.RTM_SETLINK, Flags: unix.NLM_F_REQUEST | unix.NLM_F_ACK, Seq: 9})
	ifi := make([]byte, unix.SizeofIfInfomsg)
	ifi[4] = 99 // ifindex 99
	e.Append(ifi)
	for range 100 {
		e.PutBytes(unix.IFLA_IFALIAS+1000, make([]byte, 1020))
	}
	e.EndMessage(m)
	if err := c.Send(e.Bytes()); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := c.Recv(buf)
	if err != nil {
		t.Fatal(err)
	}
	if err := nlcheck.Datagram(buf[:n], 0); err != nil {
		t.Fatalf("%d-byte reply: %v", n, err)
	}
	msgs, _ := netlink.ParseMessages(buf[:n])
	if len(msgs) != 1 || msgs[0].Header.Type != unix.NLMSG_ERROR {
		t.Fatalf("reply %+v", msgs)
	}
	r, err := netlink.ParseError(msgs[0].Header.Flags, msgs[0].Data)
	if err != nil || r.Errno != -int32(unix.ENODEV) || len(r.Payload) != len(e.Bytes())-netlink.HeaderLen {
		t.Fatalf("errno %d, %d-byte echo of a %d-byte request: %v", r.Errno, len(r.Payload), len(e.Bytes()), err)
	}
}
