package iproute

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
)

// monitorExpect returns the `ip monitor all` lines recorded in a
// kernelref notify file, grouped into one entry per message.
func monitorExpect(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var entries []string
	in, skip := false, false
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<22)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "# ip monitor all:":
			in = true
		case !in:
		case strings.HasPrefix(line, "#   "):
			l := strings.TrimPrefix(line, "#   ") + "\n"
			if strings.HasPrefix(l, "[") && isIPv6Entry(l) {
				skip = true // kernelref recorded only IPv4 groups
				continue
			}
			if strings.HasPrefix(l, "[") {
				skip = false
			}
			if skip {
				continue
			}
			if strings.HasPrefix(l, "[") || len(entries) == 0 {
				entries = append(entries, l)
			} else {
				entries[len(entries)-1] += l
			}
		default:
			in = false
		}
	}
	return entries
}

func isIPv6Entry(l string) bool {
	return strings.Contains(l, "inet6 ") || strings.Contains(l, " pref medium")
}

// TestMonitorKernelRef formats the kernel's recorded notifications and
// compares with what iproute2's `ip monitor all` printed for them.
func TestMonitorKernelRef(t *testing.T) {
	files, err := filepath.Glob(refDir + "notify-*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no recordings: %v", err)
	}
	sort.Strings(files)
	// Names of links that notifications mention before announcing them
	// come from a dump, as iproute2 asks the kernel for unknown ones.
	s := &session{out: &printer{}, links: map[int32]*rtmsg.Link{}}
	for _, d := range readDatagrams(t, "dump-link.txt") {
		it := netlink.NewMessageIter(d)
		for it.Next() {
			var l rtmsg.Link
			if l.UnmarshalBinary(it.Data()) == nil {
				s.links[l.Index] = &rtmsg.Link{Index: l.Index, Name: l.Name}
			}
		}
	}
	total := 0
	for _, f := range files {
		var got []string
		for _, d := range readDatagrams(t, filepath.Base(f)) {
			it := netlink.NewMessageIter(d)
			for it.Next() {
				s.out.b.Reset()
				s.FormatNotification(it.Header(), it.Data(), true)
				if s.out.b.Len() > 0 {
					got = append(got, s.out.b.String())
				}
			}
		}
		want := monitorExpect(t, f)
		sort.Strings(got)
		sort.Strings(want)
		if strings.Join(got, "") != strings.Join(want, "") {
			t.Errorf("%s:\n--- usnet\n%s--- iproute2\n%s", filepath.Base(f), strings.Join(got, ""), strings.Join(want, ""))
		}
		total += len(want)
	}
	if total < 30 {
		t.Errorf("only %d monitor entries compared", total)
	}
}

// TestFormatKernelDumps prints the kernel's recorded dumps and checks the
// result against golden files (testdata/*.golden; UPDATE_GOLDEN=1 writes
// them) and that JSON output is valid JSON.
func TestFormatKernelDumps(t *testing.T) {
	for _, c := range []struct{ name, line string }{
		{"link", "link show"},
		{"link-details", "-d link show"},
		{"link-stats", "-s link show dev veth0"},
		{"addr", "addr show"},
		{"addr-v4", "-4 addr show"},
		{"route", "route show"},
		{"route-all", "route show table all"},
		{"route-100", "route show table 100"},
		{"route-v6", "-6 route show"},
	} {
		for _, js := range []bool{false, true} {
			line, name := c.line, c.name
			if js {
				line, name = "-j "+line, name+"-json"
			}
			f := refTransport(t)
			code, out, errOut := run(f, line)
			if code != 0 {
				t.Errorf("ip %s: exit %d %s", line, code, errOut)
				continue
			}
			if js && !json.Valid([]byte(out)) {
				t.Errorf("ip %s: invalid JSON %q", line, out)
			}
			golden := filepath.Join("testdata", name+".golden")
			if os.Getenv("UPDATE_GOLDEN") != "" {
				os.MkdirAll("testdata", 0o755)
				if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if out != string(want) {
				t.Errorf("ip %s:\n--- got\n%s--- want\n%s", line, out, want)
			}
		}
	}
}

// TestPrettyJSON checks -p against iproute2's indentation style.
func TestPrettyJSON(t *testing.T) {
	p := &printer{json: true, pretty: true}
	p.openArray("")
	p.openObject("")
	p.str(anyOut, "dst", "", "10.2.0.0/16")
	p.openArray("flags")
	p.closeArray()
	p.openArray("nexthops")
	for _, gw := range []string{"10.0.0.3", "10.0.0.4"} {
		p.openObject("")
		p.str(anyOut, "gateway", "", gw)
		p.openArray("flags")
		p.str(anyOut, "", "", "onlink")
		p.closeArray()
		p.closeObject()
	}
	p.closeArray()
	p.closeObject()
	p.closeArray()
	want := `[ {
        "dst": "10.2.0.0/16",
        "flags": [ ],
        "nexthops": [ {
                "gateway": "10.0.0.3",
                "flags": [ "onlink" ]
            },{
                "gateway": "10.0.0.4",
                "flags": [ "onlink" ]
            } ]
    } ]`
	if got := p.b.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got := quote("a\"b\\c\n\x01"); got != `"a\"b\\c\n\u0001"` {
		t.Errorf("quote: %s", got)
	}
}
