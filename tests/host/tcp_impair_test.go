package host

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/usnet/usnet/sched"
)

// TestHostTCPImpaired moves 32 MiB each way between usnet and the kernel's
// socat over a TAP while netem impairs what usnet transmits: loss, delay,
// reordering. This machine's kernel has no sch_netem, so the impairment
// sits on the usnet end of the link, as the issue allows; in the
// kernel-to-usnet direction it therefore hits the ACKs and the RTT rather
// than the data. SHA-256 must match both ways.
func TestHostTCPImpaired(t *testing.T) {
	if _, err := exec.LookPath("socat"); err != nil {
		t.Skip("needs socat (test.sh installs it)")
	}
	size := 32 << 20
	if testing.Short() {
		size = 4 << 20
	}
	path, sum := payloadFile(t, size)
	cases := []struct {
		name string
		cfg  sched.NetemConfig
	}{
		{"loss1", sched.NetemConfig{Loss: 0.01}},
		{"loss5", sched.NetemConfig{Loss: 0.05}},
		{"delay20ms", sched.NetemConfig{Delay: 20 * time.Millisecond}},
		{"reorder", sched.NetemConfig{Delay: 2 * time.Millisecond, Reorder: 0.05}},
	}
	r := backends(t)["tap"](t)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ns, dev := r.ns, r.dev
			var netem *sched.Netem
			ns.Exec().Do(func() {
				netem = sched.NewNetem(tc.cfg, ns.Exec().Rand(), ns.Dev.Pool())
				dev.SetQdisc(netem)
			})
			defer ns.Exec().Do(func() { dev.SetQdisc(nil) })
			port := 9100 + 2*i

			// usnet -> kernel: socat sinks the stream into sha256sum.
			start := time.Now()
			got := kernelSink(t, r.kns, port)
			c, err := dialRetry(func() (net.Conn, error) { return ns.Dial("tcp", kernelIP.String()+":"+itoa(port)) })
			if err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(c, f); err != nil {
				t.Fatalf("usnet send: %v", err)
			}
			f.Close()
			c.(interface{ CloseWrite() error }).CloseWrite()
			select {
			case s := <-got:
				if s != sum {
					t.Fatalf("usnet to kernel: sha256 %s, want %s", s, sum)
				}
			case <-time.After(90 * time.Second):
				t.Fatal("kernel receiver timed out")
			}
			c.Close()
			t.Logf("usnet->kernel %d MiB in %v", size>>20, time.Since(start).Round(time.Millisecond))

			// kernel -> usnet: socat sends the file to a usnet listener.
			start = time.Now()
			ln, err := ns.Listen("tcp", usnetIP.String()+":"+itoa(port+1))
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			src := exec.Command("ip", "netns", "exec", r.kns, "socat", "-u", "OPEN:"+path, "TCP4:"+usnetIP.String()+":"+itoa(port+1))
			var stderr bytes.Buffer
			src.Stderr = &stderr
			if err := src.Start(); err != nil {
				t.Fatal(err)
			}
			defer src.Process.Kill()
			type res struct {
				sum string
				n   int64
				err error
			}
			rc := make(chan res, 1)
			go func() {
				s, err := ln.Accept()
				if err != nil {
					rc <- res{err: err}
					return
				}
				defer s.Close()
				h := sha256.New()
				n, err := io.Copy(h, s)
				rc <- res{hex.EncodeToString(h.Sum(nil)), n, err}
			}()
			select {
			case x := <-rc:
				if x.err != nil || x.sum != sum {
					t.Fatalf("kernel to usnet: %d bytes, sha256 %s, err %v, want %s (socat: %s)", x.n, x.sum, x.err, sum, stderr.String())
				}
			case <-time.After(90 * time.Second):
				t.Fatalf("usnet receiver timed out (socat: %s)", stderr.String())
			}
			src.Wait()
			var st sched.NetemStats
			ns.Exec().Do(func() { st = netem.Stats })
			t.Logf("kernel->usnet %d MiB in %v; netem %+v", size>>20, time.Since(start).Round(time.Millisecond), st)
			if (tc.cfg.Loss > 0 && st.Dropped == 0) || (tc.cfg.Reorder > 0 && st.Reordered == 0) {
				t.Fatalf("impairment not applied: %+v", st)
			}
		})
	}
}

// kernelSink starts socat listening on kernelIP:port in kns, piping what
// it receives into sha256sum; the channel yields the hex digest.
func kernelSink(t *testing.T, kns string, port int) <-chan string {
	t.Helper()
	got := make(chan string, 1)
	sink := exec.Command("ip", "netns", "exec", kns, "sh", "-c",
		"socat -u TCP4-LISTEN:"+itoa(port)+",bind="+kernelIP.String()+",reuseaddr STDOUT | sha256sum")
	var out bytes.Buffer
	sink.Stdout = &out
	if err := sink.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Process.Kill() })
	go func() {
		sink.Wait()
		f := strings.Fields(out.String())
		if len(f) == 0 {
			got <- "no output"
			return
		}
		got <- f[0]
	}()
	return got
}

// dialRetry retries while the kernel listener is not up yet (RST:
// connection refused), for up to 5 s.
func dialRetry(dial func() (net.Conn, error)) (net.Conn, error) {
	var err error
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var c net.Conn
		if c, err = dial(); err == nil {
			return c, nil
		}
	}
	return nil, err
}

func itoa(n int) string { return strconv.Itoa(n) }
