package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// kernelReady checks that this process can make network namespaces.
func kernelReady() error {
	if os.Geteuid() != 0 {
		return Skip("not root: kernel peer needs network namespaces")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return Skip("iproute2 `ip` not found")
	}
	return nil
}

// run runs a command and returns its stdout, or an error carrying stderr.
func run(name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// ip runs one iproute2 command.
func ip(args ...string) error {
	_, err := run("ip", args...)
	return err
}

// newNetns creates a kernel network namespace named ubench-<tag>-<pid>-<seq>
// with lo up, and registers its deletion with env so it goes away even if
// the run fails or is interrupted.
func (e *Env) newNetns(tag string) (string, error) {
	e.mu.Lock()
	e.nsSeq++
	name := fmt.Sprintf("ubench-%s-%d-%d", tag, os.Getpid(), e.nsSeq)
	e.mu.Unlock()
	if err := ip("netns", "add", name); err != nil {
		return "", err
	}
	e.Defer(func() { ip("netns", "del", name) })
	return name, ip("-n", name, "link", "set", "lo", "up")
}

// vethLink joins namespaces a and b with a veth pair of the given MTU and
// gives each end an address (CIDR strings).
func vethLink(a, devA, addrA, b, devB, addrB string, mtu int) error {
	m := fmt.Sprint(mtu)
	steps := [][]string{
		{"-n", a, "link", "add", devA, "mtu", m, "type", "veth", "peer", "name", devB, "mtu", m, "netns", b},
		{"-n", a, "addr", "add", addrA, "dev", devA},
		{"-n", b, "addr", "add", addrB, "dev", devB},
		{"-n", a, "link", "set", devA, "up"},
		{"-n", b, "link", "set", devB, "up"},
	}
	for _, s := range steps {
		if err := ip(s...); err != nil {
			return err
		}
	}
	return nil
}

// kernelPair makes namespaces A (10.201.0.1/24) and B (10.201.0.2/24)
// joined by a veth pair of the given MTU.
func (e *Env) kernelPair(mtu int) (a, b string, err error) {
	if err := kernelReady(); err != nil {
		return "", "", err
	}
	if a, err = e.newNetns("a"); err != nil {
		return "", "", err
	}
	if b, err = e.newNetns("b"); err != nil {
		return "", "", err
	}
	return a, b, vethLink(a, "veth0", addrA.String()+"/24", b, "veth0", addrB.String()+"/24", mtu)
}

// kernelRouter makes namespaces A -- R -- B (addresses as the gVisor
// router scenario) with IPv4 forwarding on in R.
func (e *Env) kernelRouter() (a, r, b string, err error) {
	if err := kernelReady(); err != nil {
		return "", "", "", err
	}
	if a, err = e.newNetns("a"); err != nil {
		return
	}
	if r, err = e.newNetns("r"); err != nil {
		return
	}
	if b, err = e.newNetns("b"); err != nil {
		return
	}
	if err = vethLink(a, "veth0", addrA.String()+"/24", r, "veth0", addrRA.String()+"/24", 1500); err != nil {
		return
	}
	if err = vethLink(r, "veth1", addrRB.String()+"/24", b, "veth0", addrB2.String()+"/24", 1500); err != nil {
		return
	}
	if err = ip("-n", a, "route", "add", "default", "via", addrRA.String()); err != nil {
		return
	}
	if err = ip("-n", b, "route", "add", "default", "via", addrRB.String()); err != nil {
		return
	}
	_, err = run("ip", "netns", "exec", r, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	return
}

// proc is a background process started in a namespace.
type proc struct {
	cmd *exec.Cmd
	out *bufio.Reader
}

// startIn starts argv inside namespace ns and waits until it prints its
// first line ("ready") when wantReady is set. The process is killed at
// env cleanup if still running.
func (e *Env) startIn(ns string, wantReady bool, argv ...string) (*proc, error) {
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns}, argv...)...)
	cmd.Stderr = os.Stderr
	pr, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, out: bufio.NewReader(pr)}
	e.Defer(p.stop)
	if wantReady {
		line, err := p.out.ReadString('\n')
		if err != nil || strings.TrimSpace(line) != "ready" {
			p.stop()
			return nil, fmt.Errorf("%s did not start: %q %v", argv[0], line, err)
		}
	}
	return p, nil
}

// rest waits for the process to exit and returns what it printed after
// the ready line.
func (p *proc) rest() (string, error) {
	b, _ := io.ReadAll(p.out)
	err := p.cmd.Wait()
	return string(b), err
}

// stop kills the process (by its own pid) if it is still running.
func (p *proc) stop() {
	if p.cmd.ProcessState == nil && p.cmd.Process != nil {
		p.cmd.Process.Kill()
		p.cmd.Wait()
	}
}

// tool returns the path of a helper program of this module, building it
// once per run.
func (e *Env) tool(name string) (string, error) {
	e.mu.Lock()
	p, ok := e.built[name]
	e.mu.Unlock()
	if ok {
		return p, nil
	}
	out := e.Tmp + "/" + name
	cmd := exec.Command("go", "build", "-o", out, "./cmd/"+name)
	cmd.Dir = e.Dir
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/%s: %v: %s", name, err, b)
	}
	e.mu.Lock()
	e.built[name] = out
	e.mu.Unlock()
	return out, nil
}
