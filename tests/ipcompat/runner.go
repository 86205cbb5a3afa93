package ipcompat

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/usnet/usnet/iproute"
)

// dataDir is this package's testdata directory, wherever the caller's
// test runs.
func dataDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "testdata")
}

func loadSteps(t *testing.T) []Step { return loadStepsFrom(t, Main) }

// Suite names a script and its kernel recording in testdata.
type Suite struct{ Script, Recording string }

// The suites: the general one and the route-lookup one (issue 3).
var (
	Main     = Suite{"script.txt", "iproute2.txt"}
	RouteGet = Suite{"routeget-script.txt", "routeget-iproute2.txt"}
)

func loadStepsFrom(t *testing.T, suite Suite) []Step {
	t.Helper()
	sf, err := os.Open(filepath.Join(dataDir(), suite.Script))
	if err != nil {
		t.Fatal(err)
	}
	defer sf.Close()
	script, err := ParseScript(sf)
	if err != nil {
		t.Fatal(err)
	}
	rf, err := os.Open(filepath.Join(dataDir(), suite.Recording))
	if err != nil {
		t.Fatal(err)
	}
	defer rf.Close()
	rec, err := ParseRecording(rf)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec) != len(script) {
		t.Fatalf("recording has %d commands, script %d: re-run gen.sh", len(rec), len(script))
	}
	for i := range rec {
		if rec[i].Line != script[i].Line {
			t.Fatalf("recording step %d is %q, script says %q: re-run gen.sh", i, rec[i].Line, script[i].Line)
		}
		rec[i].SettleAfter = script[i].SettleAfter
	}
	return rec
}

// RunScript replays the recorded script with `usnet ip` against target
// and compares every step with what iproute2 did. Tests of other
// transports (the usnet daemon) call it with their own Target.
func RunScript(t *testing.T, target Target) {
	for _, f := range runSuite(t, target, Main) {
		t.Error(f.Report)
	}
}

// Failure is one script step whose outcome differs from iproute2's.
type Failure struct {
	Step   int    // 1-based
	Line   string // the command
	Report string
}

// runScript replays the script on target and returns the steps that
// differ from the recording.
func runScript(t *testing.T, target Target) []Failure { return runSuite(t, target, Main) }

func runSuite(t *testing.T, target Target, suite Suite) []Failure {
	var fails []Failure
	steps := loadStepsFrom(t, suite)
	ns, dial := target.Setup(t)
	peer := target.Peer(t)
	failed := 0
	for i, want := range steps {
		var stdout, stderr bytes.Buffer
		args := []string{"-n", ns}
		for _, a := range want.Args {
			args = append(args, strings.ReplaceAll(strings.ReplaceAll(a, "@PEER", peer), "@SELF", ns))
		}
		code := iproute.Run(args, iproute.Options{Stdout: &stdout, Stderr: &stderr, Dial: dial})
		got := Step{Exit: code, Stdout: stdout.String(), Stderr: stderr.String()}
		var problems []string
		if got.Exit != want.Exit {
			problems = append(problems, "exit status")
		}
		g, w := Normalize(trimNL(got.Stdout)), Normalize(trimNL(want.Stdout))
		if isNeigh(want.Args) {
			// The kernel dumps neighbours in the order of a hash
			// table seeded per namespace: compare as sets.
			g, w = sortEntries(g), sortEntries(w)
		}
		if g != w {
			problems = append(problems, "stdout:\n--- usnet ip\n"+g+"--- iproute2\n"+w)
		}
		if trimNL(got.Stderr) != trimNL(want.Stderr) {
			problems = append(problems, "stderr:\n--- usnet ip\n"+got.Stderr+"--- iproute2\n"+want.Stderr)
		}
		if want.SettleAfter {
			target.Settle()
		}
		if os.Getenv("IPCOMPAT_RAW") != "" && len(problems) > 0 {
			t.Logf("raw: %s", got.Stdout)
		}
		if len(problems) > 0 {
			failed++
			fails = append(fails, Failure{Step: i + 1, Line: want.Line, Report: fmt.Sprintf("step %d `ip %s` (%s): exit usnet %d iproute2 %d; %s", i+1, want.Line, target.Name(),
				got.Exit, want.Exit, strings.Join(problems, "\n"))})
		}
	}
	t.Logf("%s: %d of %d commands match iproute2", target.Name(), len(steps)-failed, len(steps))
	return fails
}

// trimNL makes a missing final newline irrelevant (the recording format
// cannot tell).
func trimNL(s string) string {
	if s != "" && !strings.HasSuffix(s, "\n") {
		return s + "\n"
	}
	return s
}
