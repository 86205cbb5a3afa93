package rtmsg

import (
	"bufio"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/usnet/usnet/netlink"
	"golang.org/x/sys/unix"
)

const refDir = "../../tests/kernelref/testdata"

// refMessages returns every rtnetlink message recorded in one file.
func refMessages(t *testing.T, name string) []netlink.Message {
	t.Helper()
	f, err := os.Open(filepath.Join(refDir, name))
	if err != nil {
		t.Skip("no kernel recording:", err)
	}
	defer f.Close()
	var out []netlink.Message
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
		msgs, err := netlink.ParseMessages(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out = append(out, msgs...)
	}
	return out
}

// TestDecodeKernelRecordings decodes every recorded notification and dump
// reply, re-encodes it, and checks the result decodes to the same value.
// Messages without attributes this package leaves in Unknown must
// re-encode to the kernel's exact bytes, which checks attribute order.
func TestDecodeKernelRecordings(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(refDir, "*.txt"))
	if len(files) == 0 {
		t.Skip("no kernel recordings")
	}
	total, exact := 0, 0
	for _, path := range files {
		name := filepath.Base(path)
		if name == "errors.txt" {
			continue
		}
		for i, m := range refMessages(t, name) {
			if m.Header.Type == unix.NLMSG_DONE {
				continue
			}
			v, err := Decode(m.Header.Type, m.Data)
			if err != nil {
				t.Errorf("%s #%d type %d: %v", name, i, m.Header.Type, err)
				continue
			}
			total++
			b, err := v.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			w := New(m.Header.Type)
			if err := w.UnmarshalBinary(b); err != nil {
				t.Fatalf("%s #%d: re-decode: %v", name, i, err)
			}
			if !reflect.DeepEqual(v, w) {
				t.Errorf("%s #%d: round trip differs\n%+v\n%+v", name, i, v, w)
			}
			if !hasUnknown(v) {
				if string(b) != string(m.Data) {
					t.Errorf("%s #%d type %d: bytes differ\n got %x\nwant %x", name, i, m.Header.Type, b, m.Data)
				} else {
					exact++
				}
			}
		}
	}
	t.Logf("%d kernel messages decoded, %d re-encoded byte for byte", total, exact)
	if total < 30 {
		t.Fatalf("only %d messages decoded", total)
	}
}

func hasUnknown(v Message) bool {
	switch m := v.(type) {
	case *Link:
		return true // the kernel sends many IFLA_* this package keeps raw
	case *Addr:
		return len(m.Unknown) > 0
	case *Route:
		return len(m.Unknown) > 0
	case *Neigh:
		return len(m.Unknown) > 0
	case *Rule:
		return len(m.Unknown) > 0
	case *Netconf:
		return len(m.Unknown) > 0
	}
	return true
}

func first[T any](t *testing.T, file string, typ uint16) *T {
	t.Helper()
	for _, m := range refMessages(t, file) {
		if m.Header.Type == typ {
			v, err := Decode(typ, m.Data)
			if err != nil {
				t.Fatal(err)
			}
			return any(v).(*T)
		}
	}
	t.Fatalf("%s: no message of type %d", file, typ)
	return nil
}

func TestKernelVethCreate(t *testing.T) {
	l := first[Link](t, "notify-01-veth-create.txt", unix.RTM_NEWLINK)
	if l.Info == nil || l.Info.Kind != "veth" || !strings.HasPrefix(l.Name, "veth") {
		t.Fatalf("link %q info %+v", l.Name, l.Info)
	}
	if l.MTU != 1500 || l.Type != unix.ARPHRD_ETHER || len(l.Address) != 6 || l.Stats64 == nil || l.Stats == nil {
		t.Fatalf("mtu %d type %d addr %x stats %v/%v", l.MTU, l.Type, l.Address, l.Stats64 != nil, l.Stats != nil)
	}
	if l.Qdisc != "noop" || l.MaxMTU == 0 || l.NumTxQueues == 0 || !l.Attrs.Has(unix.IFLA_CARRIER) {
		t.Fatalf("qdisc %q maxmtu %d txq %d", l.Qdisc, l.MaxMTU, l.NumTxQueues)
	}
}

func TestKernelAddr(t *testing.T) {
	a := first[Addr](t, "notify-03-addr-add.txt", unix.RTM_NEWADDR)
	if a.Local.String() != "192.0.2.1" || a.PrefixLen != 24 || a.Label != "veth0" || a.Cacheinfo == nil ||
		a.Cacheinfo.Valid != 0xffffffff || a.AllFlags()&unix.IFA_F_PERMANENT == 0 {
		t.Fatalf("%+v", a)
	}
	s := first[Addr](t, "notify-04-addr-add-secondary.txt", unix.RTM_NEWADDR)
	if s.AllFlags()&unix.IFA_F_SECONDARY == 0 || s.Local.String() != "192.0.2.2" {
		t.Fatalf("secondary %+v", s)
	}
}

func TestKernelRoutes(t *testing.T) {
	r := first[Route](t, "notify-05-route-add-gw.txt", unix.RTM_NEWROUTE)
	if r.Dst.String() != "198.51.100.0" || r.DstLen != 24 || r.Gateway.String() != "192.0.2.254" ||
		r.TableID() != unix.RT_TABLE_MAIN || r.Protocol != unix.RTPROT_BOOT || r.OIF == 0 {
		t.Fatalf("%+v", r)
	}
	r = first[Route](t, "notify-06-route-add-table100.txt", unix.RTM_NEWROUTE)
	if r.TableID() != 100 || r.Table8 != 100 {
		t.Fatalf("table %d/%d", r.TableID(), r.Table8)
	}
}

func TestKernelRuleNeighNetconf(t *testing.T) {
	ru := first[Rule](t, "notify-07-rule-add.txt", unix.RTM_NEWRULE)
	if ru.Src.String() != "192.0.2.0" || ru.SrcLen != 24 || ru.Table != 100 || ru.Priority != 1000 ||
		ru.SuppressPrefixLen != 0xffffffff || ru.Action != unix.FR_ACT_TO_TBL {
		t.Fatalf("%+v", ru)
	}
	n := first[Neigh](t, "notify-08-neigh-add.txt", unix.RTM_NEWNEIGH)
	if n.Dst.String() != "192.0.2.254" || n.State != unix.NUD_PERMANENT || hex.EncodeToString(n.LLAddr) != "0200000000fe" ||
		n.Cacheinfo == nil {
		t.Fatalf("%+v", n)
	}
	nc := first[Netconf](t, "notify-01-veth-create.txt", unix.RTM_NEWNETCONF)
	if nc.Family != unix.AF_INET || nc.Ifindex <= 0 || !nc.Attrs.Has(NetconfRPFilter) || !nc.Attrs.Has(NetconfIgnoreRoutesWithLinkdown) {
		t.Fatalf("%+v", nc)
	}
	d := first[Netconf](t, "notify-11-link-del.txt", unix.RTM_DELNETCONF)
	if d.Ifindex <= 0 || d.Attrs.Has(NetconfForwarding) {
		t.Fatalf("%+v", d)
	}
}
