// Package cli runs the usnet command-line tools as commands, the way a
// user does: it builds the binary once, starts `usnet daemon` on a socket
// of its own and drives it only through `usnet ip`, `ping`, `nc`, `http`,
// `perf`, `capture`, `stat` and `sysctl`, checking exit statuses and output
// formats.
package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// usnetBin is the binary TestMain builds for the whole run.
var usnetBin string

// cmdTimeout bounds every command: a hang fails the test instead of
// blocking CI. It is generous because CI runs many packages at once.
const cmdTimeout = 60 * time.Second

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "usnet-cli-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// Readable by everyone: TestReadOnlyUser runs the binary as nobody.
	os.Chmod(dir, 0o755)
	usnetBin = filepath.Join(dir, "usnet")
	build := exec.Command("go", "build", "-o", usnetBin, "./cmd/usnet")
	build.Dir = moduleRoot()
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build ./cmd/usnet: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// moduleRoot is two directories above this file (tests/cli).
func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// syncBuffer is a bytes.Buffer a child process writes while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// daemon is a running `usnet daemon` with its own socket.
type daemon struct {
	t      *testing.T
	dir    string
	sock   string
	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan struct{} // closed when the daemon exits
}

// startDaemon starts `usnet daemon --socket DIR/usnet.sock [FLAGS...]`
// and waits for the socket; the daemon is stopped (SIGTERM, then SIGKILL)
// when the test ends.
func startDaemon(t *testing.T, flags ...string) *daemon {
	t.Helper()
	dir, err := os.MkdirTemp("", "usnet-cli-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	t.Cleanup(func() { os.RemoveAll(dir) })
	d := &daemon{t: t, dir: dir, sock: filepath.Join(dir, "usnet.sock"), stderr: &syncBuffer{}, done: make(chan struct{})}
	d.cmd = exec.Command(usnetBin, append([]string{"daemon", "--socket", d.sock}, flags...)...)
	d.cmd.Stderr = d.stderr
	d.cmd.Stdout = d.stderr
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.cmd.Wait(); close(d.done) }()
	t.Cleanup(func() {
		d.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.done:
			// SIGTERM is the daemon's normal stop: exit 0, socket gone.
			if !d.cmd.ProcessState.Success() {
				t.Errorf("usnet daemon stopped by SIGTERM: %v, want exit 0", d.cmd.ProcessState)
			}
			if _, err := os.Lstat(d.sock); err == nil {
				t.Errorf("usnet daemon left its socket %s behind", d.sock)
			}
		case <-time.After(10 * time.Second):
			d.cmd.Process.Kill()
			<-d.done
			t.Errorf("usnet daemon ignored SIGTERM for 10 s")
		}
		if t.Failed() {
			t.Logf("daemon output:\n%s", d.stderr.String())
		}
	})
	deadline := time.Now().Add(cmdTimeout)
	for {
		if fi, err := os.Stat(d.sock); err == nil && fi.Mode()&os.ModeSocket != 0 {
			return d
		}
		select {
		case <-d.done:
			t.Fatalf("usnet daemon exited: %v\n%s", d.cmd.ProcessState, d.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("usnet daemon: no socket %s after %v", d.sock, cmdTimeout)
		}
	}
}

// command is `usnet ARGS...` for this daemon, bounded by ctx.
func (d *daemon) command(ctx context.Context, args ...string) *exec.Cmd {
	c := exec.CommandContext(ctx, usnetBin, args...)
	c.Env = append(os.Environ(), "USNET_SOCKET="+d.sock)
	c.WaitDelay = 5 * time.Second
	return c
}

// result is a finished command.
type result struct {
	stdout, stderr string
	err            error
}

func (r result) code() int {
	if r.err == nil {
		return 0
	}
	if ee, ok := r.err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}

// run runs `usnet ARGS...` to completion with stdin (nil: empty).
func (d *daemon) run(stdin io.Reader, args ...string) result {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	c := d.command(ctx, args...)
	c.Stdin = stdin
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	err := c.Run()
	if ctx.Err() != nil {
		d.t.Fatalf("usnet %s: timed out after %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), cmdTimeout, out.String(), errb.String())
	}
	return result{out.String(), errb.String(), err}
}

// must runs `usnet ARGS...` and fails the test unless it exits 0.
func (d *daemon) must(args ...string) string {
	d.t.Helper()
	r := d.run(nil, args...)
	if r.err != nil {
		d.t.Fatalf("usnet %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.err, r.stdout, r.stderr)
	}
	return r.stdout
}

// proc is a background `usnet` command.
type proc struct {
	args           string
	cmd            *exec.Cmd
	stdout, stderr *syncBuffer
	done           chan struct{}
	err            error
}

// start starts `usnet ARGS...` in the background with empty stdin; it is
// killed when the test ends if it is still running.
func (d *daemon) start(args ...string) *proc {
	d.t.Helper()
	return d.startInput(nil, args...)
}

// startInput is start with stdin (nil: empty).
func (d *daemon) startInput(stdin io.Reader, args ...string) *proc {
	d.t.Helper()
	return d.startWith(stdin, nil, args...)
}

// startAs is start with the credentials of attr.
func (d *daemon) startAs(attr *syscall.SysProcAttr, args ...string) *proc {
	d.t.Helper()
	return d.startWith(nil, attr, args...)
}

func (d *daemon) startWith(stdin io.Reader, attr *syscall.SysProcAttr, args ...string) *proc {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	p := &proc{args: strings.Join(args, " "), cmd: d.command(ctx, args...), stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Stdin = stdin
	if attr != nil {
		p.cmd.SysProcAttr = attr
		p.cmd.Dir = d.dir // somewhere the other user may be
	}
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		cancel()
		d.t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); cancel(); close(p.done) }()
	d.t.Cleanup(func() {
		cancel()
		<-p.done
	})
	return p
}

// wait waits for the background command to exit and fails the test
// unless it exits 0.
func (p *proc) wait(t *testing.T) {
	t.Helper()
	<-p.done
	if p.err != nil {
		t.Fatalf("usnet %s: %v\nstdout:\n%s\nstderr:\n%s", p.args, p.err, p.stdout.String(), p.stderr.String())
	}
}

// exited reports whether the background command has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitOutput waits until the command's stdout or stderr contains s.
func (p *proc) waitOutput(t *testing.T, s string) {
	t.Helper()
	deadline := time.After(cmdTimeout)
	for !strings.Contains(p.stdout.String(), s) && !strings.Contains(p.stderr.String(), s) {
		select {
		case <-p.done:
			t.Fatalf("usnet %s exited (%v) before printing %q\nstdout:\n%s\nstderr:\n%s", p.args, p.err, s, p.stdout.String(), p.stderr.String())
		case <-deadline:
			t.Fatalf("usnet %s: no %q after %v", p.args, s, cmdTimeout)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Addresses of the two namespaces pair builds.
const (
	addrA = "10.77.0.1"
	addrB = "10.77.0.2"
)

// pair builds namespaces a and b joined by the veth pair v0 (in a,
// addrA/24) and v1 (in b, addrB/24), all up: namespace a's side with
// `usnet ip -batch`, b's with single commands.
func (d *daemon) pair() {
	d.t.Helper()
	d.must("ip", "netns", "add", "a")
	d.must("ip", "netns", "add", "b")
	if out := d.must("ip", "netns"); !strings.Contains(out, "a") || !strings.Contains(out, "b") {
		d.t.Fatalf("usnet ip netns lists %q, want a and b", out)
	}
	d.must("ip", "-n", "a", "link", "add", "v0", "type", "veth", "peer", "name", "v1", "netns", "b")
	batch := filepath.Join(d.dir, "a.batch")
	script := "# namespace a's side\n" +
		"link set lo up\n" +
		"addr add " + addrA + "/24 dev v0\n" +
		"link set v0 up\n"
	if err := os.WriteFile(batch, []byte(script), 0o644); err != nil {
		d.t.Fatal(err)
	}
	d.must("ip", "-n", "a", "-batch", batch)
	d.must("ip", "-n", "b", "link", "set", "lo", "up")
	d.must("ip", "-n", "b", "addr", "add", addrB+"/24", "dev", "v1")
	d.must("ip", "-n", "b", "link", "set", "v1", "up")
}
