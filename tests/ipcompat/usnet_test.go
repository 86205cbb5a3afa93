package ipcompat

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/usnet/usnet/daemon"
	"github.com/usnet/usnet/iproute"
	"github.com/usnet/usnet/stack"
)

// UsnetTarget runs the script against a usnet daemon started in the test
// (a real-time stack behind its unix socket): the same commands, the same
// recording. No root needed.
type UsnetTarget struct {
	srv *daemon.Server
}

var usnetSeq atomic.Int32

func (u *UsnetTarget) Name() string { return "usnet" }

// Settle lets posted link work (veth carrier, unregister) run.
func (u *UsnetTarget) Settle() { time.Sleep(50 * time.Millisecond) }

func (u *UsnetTarget) start(t *testing.T) {
	if u.srv != nil {
		return
	}
	st, err := stack.NewRealtime()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := daemon.Listen(filepath.Join(t.TempDir(), "usnet.sock"), st)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve()
	t.Cleanup(func() { srv.Close() })
	u.srv = srv
}

func (u *UsnetTarget) newNS(t *testing.T, tag string) string {
	u.start(t)
	name := fmt.Sprintf("usnet-ipc-%s-%d", tag, usnetSeq.Add(1))
	if err := daemon.NetnsAdd(u.srv.Path(), name); err != nil {
		t.Fatal(err)
	}
	return name
}

func (u *UsnetTarget) Peer(t *testing.T) string { return u.newNS(t, "peer") }

func (u *UsnetTarget) Setup(t *testing.T) (string, iproute.Dialer) {
	ns := u.newNS(t, "go")
	path := u.srv.Path()
	return ns, func(name string) (iproute.Transport, error) { return daemon.Dial(path, name) }
}

// knownDifferences lists the script steps where usnet still differs from
// the kernel, with the reason (testdata/usnet-known-differences.txt).
func knownDifferences(t *testing.T) map[int]string {
	f, err := os.Open("testdata/usnet-known-differences.txt")
	if err != nil {
		if os.IsNotExist(err) {
			return map[int]string{}
		}
		t.Fatal(err)
	}
	defer f.Close()
	m := map[int]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		num, why, _ := strings.Cut(line, " ")
		n, err := strconv.Atoi(num)
		if err != nil {
			t.Fatalf("known differences: bad line %q", line)
		}
		m[n] = why
	}
	return m
}

// TestUsnetCompat replays the iproute2 script against usnet. Every step
// must match the kernel's recorded outcome except those listed, with a
// reason, as known differences; a listed step that starts matching must
// be taken off the list.
func TestUsnetCompat(t *testing.T) {
	known := knownDifferences(t)
	fails := runScript(t, &UsnetTarget{})
	seen := map[int]bool{}
	for _, f := range fails {
		seen[f.Step] = true
		if _, ok := known[f.Step]; !ok {
			t.Error(f.Report)
		} else if testing.Verbose() {
			t.Logf("known difference: %s", f.Report)
		}
	}
	for n, why := range known {
		if !seen[n] {
			t.Errorf("step %d now matches iproute2: remove it from the known differences (%s)", n, why)
		}
	}
}

// TestKernelRouteGet replays the route-lookup script on the kernel (a
// check that the recording is current).
func TestKernelRouteGet(t *testing.T) {
	for _, f := range runSuite(t, KernelTarget{}, RouteGet) {
		t.Error(f.Report)
	}
}

// TestUsnetRouteGet: issue 3's route-lookup cases, each answered by usnet
// exactly as the kernel answered it (route, source, device, table, error).
func TestUsnetRouteGet(t *testing.T) {
	for _, f := range runSuite(t, &UsnetTarget{}, RouteGet) {
		t.Error(f.Report)
	}
}
