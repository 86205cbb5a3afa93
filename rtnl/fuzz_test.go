package rtnl

import (
	"bufio"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/usnet/usnet/netlink"
	"golang.org/x/sys/unix"
)

// FuzzSocket feeds arbitrary request datagrams to a socket: it must never
// panic, and everything it answers must be well-formed netlink addressed
// to the socket (or a notification, port id 0 or the requester's).
func FuzzSocket(f *testing.F) {
	if fh, err := os.Open(filepath.Join(refDir, "errors.txt")); err == nil {
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "request "); ok {
				if b, err := hex.DecodeString(v); err == nil {
					f.Add(b)
				}
			}
		}
		fh.Close()
	}
	e := &env{seq: 1}
	seed := func(typ, flags uint16, p []byte) { f.Add(e.msg(typ, flags, p)) }
	seed(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_ACK, vethReq("veth0", "veth1"))
	seed(unix.RTM_NEWLINK, unix.NLM_F_ACK, upReq(2, true))
	seed(unix.RTM_NEWADDR, unix.NLM_F_CREATE|unix.NLM_F_ACK, addrReq(1, "127.0.0.2/8"))
	seed(unix.RTM_DELADDR, unix.NLM_F_ACK, addrReq(1, "127.0.0.1/8"))
	seed(unix.RTM_NEWNEIGH, unix.NLM_F_CREATE, neighReq(1, "10.0.0.1", []byte{2, 0, 0, 0, 0, 1}, 0x80))
	seed(unix.RTM_GETLINK, unix.NLM_F_DUMP, make([]byte, 16))
	seed(unix.RTM_GETADDR, unix.NLM_F_DUMP, make([]byte, 8))
	seed(unix.RTM_GETNETCONF, unix.NLM_F_DUMP, []byte{2})
	seed(unix.RTM_DELLINK, unix.NLM_F_ACK, enc(linkReq(2, "")))
	seed(unix.RTM_GETROUTE, unix.NLM_F_DUMP, make([]byte, unix.SizeofRtMsg))
	seed(unix.RTM_GETRULE, unix.NLM_F_DUMP, make([]byte, 12))
	seed(unix.RTM_NEWROUTE, unix.NLM_F_CREATE|unix.NLM_F_ACK, []byte{2, 8, 0, 0, 254, 3, 0, 1, 0, 0, 0, 0, 8, 0, 1, 0, 10, 0, 0, 0, 8, 0, 5, 0, 127, 0, 0, 1})
	seed(unix.RTM_NEWRULE, unix.NLM_F_CREATE|unix.NLM_F_ACK, []byte{2, 0, 8, 0, 100, 0, 0, 1, 0, 0, 0, 0, 8, 0, 2, 0, 10, 0, 0, 0})

	var fe *env
	var mon *Socket
	f.Fuzz(func(t *testing.T, b []byte) {
		if fe == nil || fe.st.Default().Dev.Len() > 200 {
			fe = newEnv(t)
			fe.s.SetOption(unix.NETLINK_EXT_ACK, true)
			mon, _ = fe.srv.Open("", Cred{})
			for _, g := range monitorGroups {
				mon.Join(g)
			}
		}
		fe.t = t
		if err := fe.s.Send(b); err != nil {
			t.Fatal(err)
		}
		fe.run()
		for _, s := range []*Socket{fe.s, mon} {
			for _, d := range drain(t, s) {
				msgs, err := netlink.ParseMessages(d)
				if err != nil || len(msgs) == 0 {
					t.Fatalf("malformed datagram %x: %v", d, err)
				}
				for _, m := range msgs {
					if m.Header.Pid != 0 && m.Header.Pid != fe.s.PortID() {
						t.Fatalf("message for port %d", m.Header.Pid)
					}
				}
			}
		}
	})
}
