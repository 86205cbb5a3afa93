package iproute

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/usnet/usnet/netlink"
	"golang.org/x/sys/unix"
)

// fakeTransport answers requests from canned kernel recordings: dumps of
// a message type are served from the recorded datagrams (with sequence
// numbers rewritten), other requests are acknowledged or answered with
// errno. Every request is kept for inspection.
type fakeTransport struct {
	dumps    map[uint16][][]byte // RTM_GET* type -> reply datagrams
	errno    syscall.Errno       // answer to non-dump requests (0: ACK)
	extMsg   string              // extended ACK message with errno
	reply    [][]byte            // payload messages sent before the ACK
	requests []netlink.Message
	queue    [][]byte
}

func (f *fakeTransport) Send(b []byte) error {
	msgs, err := netlink.ParseMessages(b)
	if err != nil {
		return err
	}
	for _, m := range msgs {
		m.Data = append([]byte(nil), m.Data...)
		f.requests = append(f.requests, m)
		if m.Header.Flags&unix.NLM_F_DUMP == unix.NLM_F_DUMP {
			for _, d := range f.dumps[m.Header.Type] {
				f.queue = append(f.queue, reseq(d, m.Header.Seq))
			}
			if len(f.dumps[m.Header.Type]) == 0 {
				f.queue = append(f.queue, netlink.AppendDone(nil, m.Header.Seq, 0, 0, 0, false, ""))
			}
			continue
		}
		for _, r := range f.reply {
			f.queue = append(f.queue, reseq(r, m.Header.Seq))
		}
		var ext *netlink.ExtAck
		if f.extMsg != "" {
			ext = &netlink.ExtAck{Msg: f.extMsg}
		}
		f.queue = append(f.queue, netlink.AppendError(nil, m, 1, -int32(f.errno), netlink.AckOptions{ExtAck: true}, ext))
	}
	return nil
}

func (f *fakeTransport) Recv(b []byte) (int, error) {
	if len(f.queue) == 0 {
		return 0, errors.New("fake: nothing to receive")
	}
	d := f.queue[0]
	f.queue = f.queue[1:]
	return copy(b, d), nil
}

func (f *fakeTransport) Close() error { return nil }

// last returns the last request of type typ.
func (f *fakeTransport) last(t *testing.T, typ uint16) netlink.Message {
	t.Helper()
	for i := len(f.requests) - 1; i >= 0; i-- {
		if f.requests[i].Header.Type == typ {
			return f.requests[i]
		}
	}
	t.Fatalf("no request of type %d among %d", typ, len(f.requests))
	return netlink.Message{}
}

// reseq copies a datagram, setting every message's sequence number.
func reseq(d []byte, seq uint32) []byte {
	out := append([]byte(nil), d...)
	it := netlink.NewMessageIter(out)
	for it.Next() {
		binary.NativeEndian.PutUint32(out[it.Offset()+8:], seq)
	}
	return out
}

const refDir = "../tests/kernelref/testdata/"

// readDatagrams returns the "datagram HEX" lines of a kernelref file.
func readDatagrams(t testing.TB, name string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(refDir + name)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<22)
	for sc.Scan() {
		if h, ok := strings.CutPrefix(sc.Text(), "datagram "); ok {
			d, err := hex.DecodeString(strings.TrimSpace(h))
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, d)
		}
	}
	return out
}

// refTransport serves the recorded link, address and route dumps (the
// state after kernelref's step 08: veth0/veth1, 192.0.2.1/24 and .2,
// routes in main and table 100).
func refTransport(t testing.TB) *fakeTransport {
	return &fakeTransport{dumps: map[uint16][][]byte{
		unix.RTM_GETLINK:  readDatagrams(t, "dump-link.txt"),
		unix.RTM_GETADDR:  readDatagrams(t, "dump-addr.txt"),
		unix.RTM_GETROUTE: readDatagrams(t, "dump-route.txt"),
	}}
}

// run executes an ip command line against f.
func run(f *fakeTransport, line string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = Run(strings.Fields(line), Options{Stdout: &o, Stderr: &e,
		Dial: func(string) (Transport, error) { return f, nil }})
	return code, o.String(), e.String()
}
