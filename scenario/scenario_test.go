package scenario_test

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/usnet/usnet/internal/tsharktest"
	"github.com/usnet/usnet/scenario"
)

func run(t *testing.T, seed uint64, procs int) (string, *scenario.Summary) {
	t.Helper()
	old := runtime.GOMAXPROCS(procs)
	defer runtime.GOMAXPROCS(old)
	dir := t.TempDir()
	sum, err := scenario.Default(seed, dir)
	if err != nil {
		t.Fatal(err)
	}
	return dir, sum
}

// TestDefaultDeterministic runs the default scenario twice with the same
// seed, under GOMAXPROCS 1 and 2, and requires byte-identical captures and
// summaries; another seed must change something.
func TestDefaultDeterministic(t *testing.T) {
	d1, s1 := run(t, 42, 1)
	d2, _ := run(t, 42, 2)
	if len(s1.Captures) == 0 {
		t.Fatal("no captures written")
	}
	files := append(append([]string(nil), s1.Captures...), "summary.json")
	for _, f := range files {
		a, err := os.ReadFile(filepath.Join(d1, f))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(d2, f))
		if err != nil {
			t.Fatal(err)
		}
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s differs between runs with the same seed (%d vs %d bytes)", f, len(a), len(b))
		}
	}
	d3, _ := run(t, 43, 2)
	same := true
	for _, f := range s1.Captures {
		a, _ := os.ReadFile(filepath.Join(d1, f))
		c, _ := os.ReadFile(filepath.Join(d3, f))
		same = same && bytes.Equal(a, c)
	}
	if same {
		t.Error("a different seed gave identical captures (MACs and timing should change)")
	}
}

// TestCapturesDecodeCleanly has tshark read every capture of the default
// scenario with checksum validation on: no malformed packet, no bad
// checksum, interface names and directions present.
func TestCapturesDecodeCleanly(t *testing.T) {
	dir, sum := run(t, 1, 2)
	for _, f := range sum.Captures {
		path := filepath.Join(dir, f)
		tsharktest.Check(t, path)
	}
}
