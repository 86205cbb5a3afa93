package iproute

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

var fuzzTypes = []uint16{
	unix.RTM_NEWLINK, unix.RTM_DELLINK, unix.RTM_NEWADDR, unix.RTM_DELADDR,
	unix.RTM_NEWROUTE, unix.RTM_DELROUTE, unix.RTM_NEWNEIGH, unix.RTM_DELNEIGH,
	unix.RTM_NEWRULE, unix.RTM_DELRULE, unix.RTM_NEWNETCONF, unix.RTM_DELNETCONF,
}

// dumpCommands are the listings a fuzzed message is fed to, per type.
var dumpCommands = map[uint16][]string{
	unix.RTM_NEWLINK:  {"link", "-d -s -s link", "-j -d -s link", "-j -p link", "-4 addr"},
	unix.RTM_NEWADDR:  {"addr", "-j addr", "-6 addr"},
	unix.RTM_NEWROUTE: {"route show table all", "-j -d route show table all", "-6 route"},
	unix.RTM_NEWNEIGH: {"-s neigh", "-j neigh", "neigh show proxy"},
	unix.RTM_NEWRULE:  {"rule", "-j -d rule"},
}

func addFuzzSeeds(f *testing.F) {
	for _, name := range []string{"dump-link.txt", "dump-addr.txt", "dump-route.txt",
		"notify-01-veth-create.txt", "notify-05-route-add-gw.txt", "notify-07-rule-add.txt",
		"notify-08-neigh-add.txt", "notify-09-link-down.txt"} {
		for _, d := range readDatagrams(f, name) {
			it := netlink.NewMessageIter(d)
			for it.Next() {
				for i, t := range fuzzTypes {
					if t == it.Header().Type {
						f.Add(uint8(i), append([]byte(nil), it.Data()...))
					}
				}
			}
		}
	}
}

// FuzzFormat feeds arbitrary payloads to every formatter, both as a
// monitor notification and as the single answer of a dump: whatever the
// wire says, the printers must not panic and JSON must stay balanced.
func FuzzFormat(f *testing.F) {
	addFuzzSeeds(f)
	f.Fuzz(func(t *testing.T, sel uint8, data []byte) {
		typ := fuzzTypes[int(sel)%len(fuzzTypes)]
		s := &session{out: &printer{}, links: map[int32]*rtmsg.Link{}}
		s.FormatNotification(netlink.Header{Type: typ}, data, true)
		s.out = &printer{json: true}
		s.FormatNotification(netlink.Header{Type: typ}, data, false)

		cmds := dumpCommands[typ]
		if len(cmds) == 0 {
			return
		}
		// The message is served as the whole dump of its type.
		getType := typ + 2 // RTM_NEWx + 2 == RTM_GETx
		var w netlink.DumpWriter
		w.Reset(0, 0)
		if w.Add(typ, data) != nil {
			return
		}
		w.Finish(0, "")
		var dgrams [][]byte
		for i := range w.NumDatagrams() {
			dgrams = append(dgrams, append([]byte(nil), w.Datagram(i)...))
		}
		for _, c := range cmds {
			ft := &fakeTransport{dumps: map[uint16][][]byte{getType: dgrams}}
			if typ != unix.RTM_NEWLINK {
				ft.dumps[unix.RTM_GETLINK] = dgrams[:0]
			}
			code, out, _ := run(ft, c)
			if code == 0 && strings.HasPrefix(c, "-j") && !json.Valid([]byte(out)) {
				t.Fatalf("ip %s: invalid JSON %q", c, out)
			}
		}
	})
}
