package tsharktest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/usnet/usnet/pcapng"
)

// frame is one packet of a test capture.
type frame struct {
	ifc     int
	data    []byte
	dir     pcapng.Direction
	comment string
}

// goodFrames are well formed: an ARP request out of veth0, then an echo
// request and reply, a UDP datagram and a TCP SYN on veth1, all with
// correct checksums.
func goodFrames() []frame {
	return []frame{
		{0, arpRequest(macA, ipA, ipB), pcapng.Outbound, ""},
		// A comment that reads like a problem must not be taken for one.
		{1, icmpEcho(macB, macA, ipA, ipB, false, 1, false), pcapng.Inbound, "[Checksum Status: Bad]"},
		{1, icmpEcho(macA, macB, ipB, ipA, true, 1, false), pcapng.Outbound, ""},
		{1, udp(ipA, ipB, false), pcapng.Inbound, ""},
		{1, tcpSYN(ipA, ipB, false), pcapng.Inbound, ""},
	}
}

// writeCapture writes frames to a pcapng file in a temporary directory,
// declaring veth1 only after veth0's first packet.
func writeCapture(t *testing.T, name string, frames []frame) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := pcapng.NewWriter(f, pcapng.Options{UserAppl: "usnet"})
	if err != nil {
		t.Fatal(err)
	}
	ifcs := []pcapng.Interface{
		{Name: "veth0", Description: "veth0 in namespace a", LinkType: pcapng.LinkTypeEthernet, SnapLen: 262144},
		{Name: "veth1", Description: "veth1 in namespace b", LinkType: pcapng.LinkTypeEthernet, SnapLen: 262144},
	}
	added := 0
	for i, fr := range frames {
		for added <= fr.ifc {
			if _, err := w.AddInterface(ifcs[added]); err != nil {
				t.Fatal(err)
			}
			added++
		}
		ts := int64(1_700_000_000_000_000_000) + int64(i)*1_000_123
		if err := w.WritePacket(fr.ifc, ts, fr.data, len(fr.data), fr.dir, fr.comment); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func tsharkPath(t *testing.T) string {
	bin, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed")
	}
	return bin
}

func TestCheckPassesGoodCapture(t *testing.T) {
	Check(t, writeCapture(t, "good.pcapng", goodFrames()))
}

// recorder stands in for a test so the checker's own failures can be
// observed; what it does not override goes to the real test.
type recorder struct {
	testing.TB
	errs    []string
	skipped string
}

func (r *recorder) Helper()                   {}
func (r *recorder) Errorf(f string, a ...any) { r.errs = append(r.errs, fmt.Sprintf(f, a...)) }
func (r *recorder) Skipf(f string, a ...any)  { r.skipped = fmt.Sprintf(f, a...) }

// TestCheckReportsProblems shows each kind of damage is caught, and
// caught in the right frame, including the IPv4, UDP and TCP checksums
// that tshark ignores unless told otherwise.
func TestCheckReportsProblems(t *testing.T) {
	bin := tsharkPath(t)
	truncated := icmpEcho(macB, macA, ipA, ipB, false, 3, false)[:30]
	badICMP := icmpEcho(macB, macA, ipA, ipB, false, 4, false)
	badICMP[len(badICMP)-1]++ // the last payload byte: ICMP sum now wrong
	cases := []struct {
		name string
		data []byte
		want []string // each must appear in some reported line for frame 2
	}{
		{"ipv4-checksum", icmpEcho(macB, macA, ipA, ipB, false, 2, true), []string{"Bad checksum", "Header checksum status: Bad"}},
		{"icmp-checksum", badICMP, []string{"(Warning/Checksum): Bad checksum"}},
		{"udp-checksum", udp(ipA, ipB, true), []string{"Bad checksum"}},
		{"tcp-checksum", tcpSYN(ipA, ipB, true), []string{"Bad checksum"}},
		{"truncated", truncated, []string{"Malformed Packet"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			frames := goodFrames()[:2]
			frames[1].data = c.data
			path := writeCapture(t, c.name+".pcapng", frames)
			probs, err := problems(bin, path, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			if len(probs) == 0 {
				t.Fatal("no problems reported")
			}
			for _, p := range probs {
				if !strings.HasPrefix(p, "frame 2: ") {
					t.Errorf("problem outside frame 2: %q", p)
				}
			}
			for _, w := range c.want {
				if !slices.ContainsFunc(probs, func(p string) bool { return strings.Contains(p, w) }) {
					t.Errorf("no report containing %q in %q", w, probs)
				}
			}
			r := &recorder{TB: t}
			Check(r, path)
			if len(r.errs) != len(probs) {
				t.Errorf("Check reported %q, want one error per problem %q", r.errs, probs)
			}
		})
	}
}

func TestCheckReportsUnreadableFile(t *testing.T) {
	tsharkPath(t)
	path := filepath.Join(t.TempDir(), "junk.pcapng")
	if err := os.WriteFile(path, []byte("this is not a capture file at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &recorder{TB: t}
	Check(r, path)
	if len(r.errs) != 1 {
		t.Fatalf("errors %q, want one", r.errs)
	}
	if strings.Contains(r.errs[0], "Running as user") {
		t.Errorf("root warning leaked into %q", r.errs[0])
	}
	t.Log(r.errs[0])
}

func TestSkipsWithoutTshark(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	r := &recorder{TB: t}
	Check(r, "/nonexistent.pcapng")
	if rows := Fields(r, "/nonexistent.pcapng", "frame.number"); rows != nil {
		t.Errorf("Fields without tshark returned %q", rows)
	}
	if !strings.Contains(r.skipped, "tshark not installed") || len(r.errs) != 0 {
		t.Errorf("skipped %q, errors %q", r.skipped, r.errs)
	}
}

// TestFieldsShowWhatWeWrote checks tshark decodes the interface names,
// directions, comments and headers the writer put in the file.
func TestFieldsShowWhatWeWrote(t *testing.T) {
	path := writeCapture(t, "good.pcapng", goodFrames())
	rows := Fields(t, path, "frame.interface_name", "frame.interface_description",
		"frame.p2p_dir", "frame.packet_flags_direction", "frame.comment",
		"eth.type", "ip.ttl", "ip.proto", "frame.time_epoch")
	want := [][]string{
		{"veth0", "veth0 in namespace a", "0", "0x00000002", "", "0x0806", "", "", "1700000000.000000000"},
		{"veth1", "veth1 in namespace b", "1", "0x00000001", "[Checksum Status: Bad]", "0x0800", "64", "1", "1700000000.001000123"},
		{"veth1", "veth1 in namespace b", "0", "0x00000002", "", "0x0800", "64", "1", "1700000000.002000246"},
		{"veth1", "veth1 in namespace b", "1", "0x00000001", "", "0x0800", "64", "17", "1700000000.003000369"},
		{"veth1", "veth1 in namespace b", "1", "0x00000001", "", "0x0800", "64", "6", "1700000000.004000492"},
	}
	if !slices.EqualFunc(rows, want, slices.Equal) {
		t.Errorf("tshark fields:\n got %q\nwant %q", rows, want)
	}
}

func TestFrameNumber(t *testing.T) {
	for line, want := range map[string]string{
		"Frame 12: 60 bytes on wire": "12",
		"Frame : x":                  "",
		"Frame 1a: x":                "",
		"    Frame Number: 1":        "",
		"Frame Number: 1":            "",
	} {
		got, ok := frameNumber(line)
		if got != want || ok != (want != "") {
			t.Errorf("frameNumber(%q) = %q, %v; want %q", line, got, ok, want)
		}
	}
}

func TestBadLines(t *testing.T) {
	for line, want := range map[string]bool{
		"        [Expert Info (Error/Checksum): Bad checksum [should be 0x26bb]]":    true,
		"        [Expert Info (Warning/Checksum): Bad checksum [should be 0xdbf2]]":  true,
		"    [Expert Info (Error/Malformed): Malformed Packet (Exception occurred)]": true,
		"[Malformed Packet: IPv4]":                                                true,
		"    [Header checksum status: Bad]":                                       true,
		"    [Checksum Status: Bad]":                                              true,
		"    [Checksum Status: Good]":                                             false,
		"    [Header checksum status: Unverified]":                                false,
		"        [Expert Info (Warning/Sequence): Previous segment not captured]": false,
		"        [Expert Info (Comment/Comment): Checksum Status: Bad]":           false,
		"    Data: 5b436865636b73756d205374617475733a204261645d":                  false,
	} {
		if bad(line) != want {
			t.Errorf("bad(%q) = %v", line, !want)
		}
	}
}
