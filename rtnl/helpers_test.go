package rtnl

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"github.com/usnet/usnet/stack"
	"golang.org/x/sys/unix"
)

const refDir = "../tests/kernelref/testdata"

// env is a simulated stack with a server and one admin socket.
type env struct {
	t   *testing.T
	st  *stack.Stack
	srv *Server
	s   *Socket
	seq uint32
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, err := stack.NewSim(1)
	if err != nil {
		t.Fatal(err)
	}
	srv := New(st)
	s, err := srv.Open("", Cred{PID: 4242, Admin: true})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, st: st, srv: srv, s: s, seq: 100}
}

// run lets the simulation deliver posted work (carrier changes).
func (e *env) run() { e.st.Sim.RunFor(10 * time.Millisecond) }

// msg builds one request message.
func (e *env) msg(typ, flags uint16, payload []byte) []byte {
	e.seq++
	return netlink.AppendMessage(nil, netlink.Header{Type: typ, Flags: flags | unix.NLM_F_REQUEST, Seq: e.seq}, payload)
}

// drain returns every datagram queued on s without blocking.
func drain(t *testing.T, s *Socket) [][]byte {
	t.Helper()
	var out [][]byte
	buf := make([]byte, 1<<16)
	for s.Pending() > 0 {
		n, err := s.Recv(buf)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, append([]byte(nil), buf[:n]...))
	}
	return out
}

// do sends one request and returns the errno of its ACK/error (0 for
// success) and every other datagram received before it.
func (e *env) do(typ, flags uint16, payload []byte) (int32, [][]byte) {
	e.t.Helper()
	if err := e.s.Send(e.msg(typ, flags|unix.NLM_F_ACK, payload)); err != nil {
		e.t.Fatal(err)
	}
	var other [][]byte
	errno := int32(1)
	for _, d := range drain(e.t, e.s) {
		h, _ := netlink.DecodeHeader(d)
		if h.Type == unix.NLMSG_ERROR && h.Seq == e.seq {
			errno = int32(binary.NativeEndian.Uint32(d[16:]))
			continue
		}
		other = append(other, d)
	}
	if errno == 1 {
		e.t.Fatalf("no ACK for request type %d", typ)
	}
	return errno, other
}

func (e *env) mustDo(typ, flags uint16, payload []byte) [][]byte {
	e.t.Helper()
	errno, other := e.do(typ, flags, payload)
	if errno != 0 {
		e.t.Fatalf("request type %d: errno %d", typ, -errno)
	}
	return other
}

func enc(m interface{ MarshalBinary() ([]byte, error) }) []byte {
	b, err := m.MarshalBinary()
	if err != nil {
		panic(err)
	}
	return b
}

// dump sends a dump request and returns the messages up to NLMSG_DONE.
func (e *env) dump(typ uint16, payload []byte) []netlink.Message {
	e.t.Helper()
	if err := e.s.Send(e.msg(typ, unix.NLM_F_DUMP, payload)); err != nil {
		e.t.Fatal(err)
	}
	var out []netlink.Message
	buf := make([]byte, 1<<16)
	for {
		n, err := e.s.Recv(buf)
		if err != nil {
			e.t.Fatal(err)
		}
		if n > netlink.DefaultDumpSize {
			e.t.Fatalf("dump datagram of %d bytes", n)
		}
		msgs, err := netlink.ParseMessages(append([]byte(nil), buf[:n]...))
		if err != nil {
			e.t.Fatal(err)
		}
		for _, m := range msgs {
			if m.Header.Type == unix.NLMSG_ERROR {
				e.t.Fatalf("dump failed: %d", int32(binary.NativeEndian.Uint32(m.Data)))
			}
			out = append(out, m)
			if m.Header.Type == unix.NLMSG_DONE {
				return out
			}
		}
	}
}

// Request builders, as iproute2 6.1 builds them.

func linkReq(index int32, name string) *rtmsg.Link {
	l := &rtmsg.Link{Index: index, Name: name}
	return l
}

func vethReq(name, peer string) []byte {
	p := rtmsg.Link{Name: peer}
	data, _ := rtmsg.EncodeVethPeer(&p)
	l := rtmsg.Link{Name: name, Info: &rtmsg.LinkInfo{Kind: "veth", Data: data}}
	return enc(&l)
}

func upReq(index int32, up bool) []byte {
	l := rtmsg.Link{Index: index, Change: unix.IFF_UP}
	if up {
		l.Flags = unix.IFF_UP
	}
	return enc(&l)
}

func addrReq(index uint32, p string) []byte {
	pf := netip.MustParsePrefix(p)
	a := rtmsg.Addr{Family: unix.AF_INET, PrefixLen: uint8(pf.Bits()), Index: index, Local: pf.Addr(), Address: pf.Addr()}
	return enc(&a)
}

func neighReq(index int32, dst string, ll []byte, state uint16) []byte {
	n := rtmsg.Neigh{Family: unix.AF_INET, Index: index, State: state, Dst: netip.MustParseAddr(dst), LLAddr: ll}
	return enc(&n)
}

// refFile reads the datagrams of a kernel recording.
func refFile(t *testing.T, name string) [][]byte {
	t.Helper()
	f, err := os.Open(filepath.Join(refDir, name))
	if err != nil {
		t.Skip("no kernel recording:", err)
	}
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		v, ok := strings.CutPrefix(sc.Text(), "datagram ")
		if !ok {
			continue
		}
		b, err := hex.DecodeString(v)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}
