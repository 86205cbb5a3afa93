package tsharktest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// checksumPrefs switch on the checksum validation Wireshark leaves off.
var checksumPrefs = []string{
	"-o", "ip.check_checksum:TRUE",
	"-o", "tcp.check_checksum:TRUE",
	"-o", "udp.check_checksum:TRUE",
}

// timeout bounds one tshark run; a test capture dissects in well under
// a second, so hitting it means tshark hung.
const timeout = 2 * time.Minute

// maxReported caps the problems Check lists; the first few say enough.
const maxReported = 20

// Check runs tshark over the capture at path and fails t for every
// malformed packet, bad checksum or expert error it reports, and if
// tshark cannot read the file. It skips t if tshark is not installed.
func Check(t testing.TB, path string) {
	t.Helper()
	bin, ok := lookTshark(t)
	if !ok {
		return
	}
	probs, err := problems(bin, path, t.TempDir())
	if err != nil {
		t.Errorf("tshark on %s: %v", path, err)
		return
	}
	for i, p := range probs {
		if i == maxReported {
			t.Errorf("tshark on %s: ... and %d more problems", path, len(probs)-i)
			break
		}
		t.Errorf("tshark on %s: %s", path, p)
	}
}

// Fields runs tshark -T fields over the capture at path and returns one
// row per packet with one column per field, in order. A field absent
// from a packet is ""; one occurring several times is its values joined
// by ",". It fails t if tshark does, and skips t without tshark.
func Fields(t testing.TB, path string, fields ...string) [][]string {
	t.Helper()
	bin, ok := lookTshark(t)
	if !ok {
		return nil
	}
	args := []string{"-T", "fields", "-E", "separator=/t", "-E", "occurrence=a",
		"-E", "aggregator=,", "-E", "quote=n"}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	out, err := run(bin, path, t.TempDir(), args...)
	if err != nil {
		t.Errorf("tshark fields on %s: %v", path, err)
		return nil
	}
	var rows [][]string
	for line := range strings.Lines(string(out)) {
		line = strings.TrimSuffix(line, "\n")
		row := strings.Split(line, "\t")
		if len(row) != len(fields) {
			t.Errorf("tshark fields on %s: row %q has %d columns, want %d", path, line, len(row), len(fields))
			return nil
		}
		rows = append(rows, row)
	}
	return rows
}

func lookTshark(t testing.TB) (string, bool) {
	t.Helper()
	bin, err := exec.LookPath("tshark")
	if err != nil {
		t.Skipf("tshark not installed (%v); install the tshark package to check captures", err)
		return "", false
	}
	return bin, true
}

// problems dissects the file verbosely and returns one line per
// suspicious tree item, prefixed with its frame number.
func problems(bin, path, confDir string) ([]string, error) {
	out, err := run(bin, path, confDir, "-V")
	if err != nil {
		return nil, err
	}
	var probs []string
	frame := "?"
	comments := false // inside a "Packet comments" tree: our own free text
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" { // packets are separated by an empty line
			frame = "?"
			continue
		}
		if !strings.HasPrefix(line, " ") { // a top-level tree
			comments = line == "Packet comments"
		}
		if n, ok := frameNumber(line); ok {
			frame = n
		}
		if bad(line) && !comments {
			probs = append(probs, fmt.Sprintf("frame %s: %s", frame, strings.TrimSpace(line)))
		}
	}
	return probs, sc.Err()
}

// frameNumber recognises the top-level "Frame 12: ..." line.
func frameNumber(line string) (string, bool) {
	rest, ok := strings.CutPrefix(line, "Frame ")
	if !ok {
		return "", false
	}
	n, _, ok := strings.Cut(rest, ":")
	if !ok || n == "" || strings.Trim(n, "0123456789") != "" {
		return "", false
	}
	return n, true
}

// bad reports whether a line of tshark -V output shows a problem: an
// expert error, a malformed packet, or a checksum found bad (ICMP's is
// only a warning, and IPv4's status line names no expert level).
func bad(line string) bool {
	s := strings.TrimSpace(line)
	switch {
	case strings.HasPrefix(s, "[Expert Info (Error/"),
		strings.HasPrefix(s, "[Expert Info (Warning/Checksum)"),
		strings.HasPrefix(s, "[Expert Info (") && strings.Contains(s, "/Malformed)"),
		strings.HasPrefix(s, "[Malformed Packet"):
		return true
	}
	lower := strings.ToLower(s)
	return strings.HasPrefix(lower, "[") && !strings.HasPrefix(lower, "[expert info") &&
		strings.HasSuffix(lower, "checksum status: bad]")
}

// run runs tshark on path with the checksum preferences and extra args
// and returns its standard output. Anything on standard error other
// than the warning about running as root is an error.
func run(bin, path, confDir string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	all := append([]string{"-r", path, "-n"}, checksumPrefs...)
	cmd := exec.CommandContext(ctx, bin, append(all, args...)...)
	cmd.Env = append(os.Environ(), "WIRESHARK_CONFIG_DIR="+confDir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var msgs []string
	for line := range strings.Lines(stderr.String()) {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, `Running as user "`) {
			msgs = append(msgs, line)
		}
	}
	switch {
	case err != nil && len(msgs) > 0:
		return nil, fmt.Errorf("%v: %s", err, strings.Join(msgs, "; "))
	case err != nil:
		return nil, err
	case len(msgs) > 0:
		return nil, fmt.Errorf("%s", strings.Join(msgs, "; "))
	}
	return stdout.Bytes(), nil
}
