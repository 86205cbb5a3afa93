package host

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/usnet/usnet/drivers/vxlan"
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/tools"
)

// TestHostVXLAN: a VXLAN tunnel (VNI 42, port 4789) between usnet, over
// its TAP device, and the Linux kernel's vxlan in a kernel namespace:
// ping from the kernel, then TCP connections opened from each side with
// bulk data in both directions through the tunnel.
func TestHostVXLAN(t *testing.T) {
	for _, tool := range []string{"curl", "socat", "ping"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skip("needs " + tool)
		}
	}
	ns, tapDev, kns, _ := tapRig(t, "vxlan")
	var vx *vxlan.Dev
	var err error
	ns.Exec().Do(func() {
		if _, err = ns.IPv4.AddAddr(ipv4.IfAddr{Dev: tapDev, Local: usnetIP, Prefix: netip.MustParsePrefix("10.99.0.2/24"), Broadcast: netip.MustParseAddr("10.99.0.255")}); err != nil {
			return
		}
		vn := vxlan.Attach(ns.Dev, ns.IPv4, ns.UDP)
		vx, err = vxlan.New(vn, "vx0", vxlan.Config{VNI: 42, Port: 4789, Remote: kernelIP, Local: usnetIP, Lower: tapDev, Learning: true})
		if err != nil {
			return
		}
		if err = vx.Device().Up(); err != nil {
			return
		}
		_, err = ns.IPv4.AddAddr(ipv4.IfAddr{Dev: vx.Device(), Local: netip.MustParseAddr("192.168.42.2"), Prefix: netip.MustParsePrefix("192.168.42.2/24"), Broadcast: netip.MustParseAddr("192.168.42.255")})
	})
	if err != nil {
		t.Fatal(err)
	}
	sh(t, "ip", "-n", kns, "link", "add", "vx0", "type", "vxlan", "id", "42", "dstport", "4789", "remote", "10.99.0.2", "local", "10.99.0.1", "dev", "utap0")
	sh(t, "ip", "-n", kns, "addr", "add", "192.168.42.1/24", "dev", "vx0")
	sh(t, "ip", "-n", kns, "link", "set", "vx0", "up")

	out, perr := exec.Command("ip", "netns", "exec", kns, "ping", "-c", "3", "-i", "0.2", "-W", "2", "192.168.42.2").CombinedOutput()
	if perr != nil {
		t.Fatalf("kernel ping through the tunnel: %v\n%s\nusnet vx0 %+v tap0 %+v", perr, out, stats(ns, vx.Device()), stats(ns, tapDev))
	}
	t.Logf("kernel ping: %s", lastLine(string(out)))
	// The kernel learned usnet's vx0 MAC behind 10.99.0.2, usnet learned
	// the kernel's.
	fdb := sh(t, "bridge", "-n", kns, "fdb", "show", "dev", "vx0")
	if !strings.Contains(fdb, "dst 10.99.0.2") {
		t.Fatalf("kernel fdb:\n%s", fdb)
	}
	var learned int
	ns.Exec().Do(func() { learned = vx.FDBLen() })
	if learned < 2 {
		t.Fatalf("usnet learned nothing: %d entries", learned)
	}

	// kernel -> usnet: curl fetches from usnet's HTTP server.
	size := 8 << 20
	dir := t.TempDir()
	blob := make([]byte, size)
	for i := range blob {
		blob[i] = byte(i * 2654435761 >> 13)
	}
	if err := os.WriteFile(filepath.Join(dir, "blob"), blob, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(blob)
	want := hex.EncodeToString(sum[:])
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go tools.HTTPServe(ctx, ns, dir, "192.168.42.2:8080", nil)
	time.Sleep(100 * time.Millisecond)
	h := sha256.New()
	var stderr bytes.Buffer
	cmd := exec.Command("ip", "netns", "exec", kns, "curl", "-sS", "--max-time", "60", "-o", "-", "http://192.168.42.2:8080/blob")
	cmd.Stdout, cmd.Stderr = h, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("curl through the tunnel: %v %s", err, stderr.String())
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		t.Fatalf("kernel curl from usnet: sha256 %s, want %s", got, want)
	}
	cancel()

	// usnet -> kernel: socat sinks the stream into sha256sum.
	sink := exec.Command("ip", "netns", "exec", kns, "sh", "-c", "socat -u TCP4-LISTEN:9000,bind=192.168.42.1,reuseaddr STDOUT | sha256sum")
	var sinkOut bytes.Buffer
	sink.Stdout = &sinkOut
	if err := sink.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { sink.Wait(); close(done) }()
	time.Sleep(300 * time.Millisecond)
	c, err := ns.Dial("tcp", "192.168.42.1:9000")
	if err != nil {
		sink.Process.Kill()
		t.Fatal(err)
	}
	if _, err := io.Copy(c, bytes.NewReader(blob)); err != nil {
		t.Fatal(err)
	}
	c.(interface{ CloseWrite() error }).CloseWrite()
	select {
	case <-done:
	case <-time.After(time.Minute):
		sink.Process.Kill()
		t.Fatal("kernel receiver timed out")
	}
	c.Close()
	if f := strings.Fields(sinkOut.String()); len(f) == 0 || f[0] != want {
		t.Fatalf("usnet to kernel through the tunnel: %q, want %s", sinkOut.String(), want)
	}

	// kernel -> usnet bulk: socat streams the file to a usnet listener.
	l, err := ns.Listen("tcp", "192.168.42.2:9001")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	gotSum := make(chan string, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			gotSum <- err.Error()
			return
		}
		defer c.Close()
		h := sha256.New()
		c.SetReadDeadline(time.Now().Add(time.Minute))
		io.Copy(h, c)
		gotSum <- hex.EncodeToString(h.Sum(nil))
	}()
	src := exec.Command("ip", "netns", "exec", kns, "socat", "-u", "FILE:"+filepath.Join(dir, "blob"), "TCP4:192.168.42.2:9001")
	if out, err := src.CombinedOutput(); err != nil {
		t.Fatalf("socat to usnet: %v\n%s", err, out)
	}
	if got := <-gotSum; got != want {
		t.Fatalf("kernel to usnet through the tunnel: %s, want %s", got, want)
	}
	t.Logf("8 MiB usnet->kernel twice (curl fetch, usnet dial) and kernel->usnet once (socat) through the tunnel; usnet vx0 rx %d tx %d packets",
		stats(ns, vx.Device()).RxPackets, stats(ns, vx.Device()).TxPackets)
}

func lastLine(s string) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return l[len(l)-1]
}
