package netlink

import (
	"bufio"
	"encoding/hex"
	"os"
	"strconv"
	"strings"
	"testing"
)

// refCase is one request/reply pair of tests/kernelref/testdata/errors.txt.
type refCase struct {
	name           string
	extAck, capAck bool
	req            []byte
	portid         uint32
	reply          []byte
}

func loadErrorCases(t *testing.T) []refCase {
	t.Helper()
	f, err := os.Open("../tests/kernelref/testdata/errors.txt")
	if err != nil {
		t.Skip("no kernel recording:", err)
	}
	defer f.Close()
	var cs []refCase
	var c *refCase
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		k, v, _ := strings.Cut(line, " ")
		switch {
		case strings.HasPrefix(line, "# case: "):
			cs = append(cs, refCase{name: strings.TrimPrefix(line, "# case: ")})
			c = &cs[len(cs)-1]
		case c == nil:
		case k == "case":
			c.extAck = strings.Contains(v, "ext_ack=true")
			c.capAck = strings.Contains(v, "cap_ack=true")
		case k == "request":
			c.req, _ = hex.DecodeString(v)
		case k == "portid":
			n, _ := strconv.Atoi(v)
			c.portid = uint32(n)
		case k == "datagram":
			c.reply, _ = hex.DecodeString(v)
		}
	}
	return cs
}

// TestErrorMatchesKernel rebuilds each recorded NLMSG_ERROR from the
// request and the kernel's verdict and requires identical bytes.
func TestErrorMatchesKernel(t *testing.T) {
	cs := loadErrorCases(t)
	if len(cs) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range cs {
		t.Run(c.name, func(t *testing.T) {
			msgs, err := ParseMessages(c.req)
			if err != nil || len(msgs) != 1 {
				t.Fatal(err)
			}
			rep, err := ParseMessages(c.reply)
			if err != nil || len(rep) != 1 {
				t.Fatal(err)
			}
			er, err := ParseError(rep[0].Header.Flags, rep[0].Data)
			if err != nil {
				t.Fatal(err)
			}
			var ext *ExtAck
			if strings.HasPrefix(c.name, "short IFLA_MTU") {
				// The kernel's verdict: the 2-byte IFLA_MTU at offset 32
				// (16 nlmsghdr + 16 ifinfomsg) fails the u32 policy.
				ext = &ExtAck{Msg: MsgPolicyValidation, HasOffset: true, Offset: 32,
					Policy: AppendPolicyUnsigned(nil, 32)}
			}
			got := AppendError(nil, msgs[0], c.portid, er.Errno, AckOptions{CapAck: c.capAck, ExtAck: c.extAck}, ext)
			if string(got) != string(c.reply) {
				t.Fatalf("errno %d\n got %x\nwant %x", er.Errno, got, c.reply)
			}
			if er.Request != msgs[0].Header {
				t.Errorf("echoed header %+v, want %+v", er.Request, msgs[0].Header)
			}
		})
	}
}

// loadDatagrams reads the "datagram HEX" lines of a recording.
func loadDatagrams(t *testing.T, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Skip("no kernel recording:", err)
	}
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "datagram "); ok {
			b, err := hex.DecodeString(v)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, b)
		}
	}
	if len(out) == 0 {
		t.Fatal("no datagrams in", path)
	}
	return out
}
