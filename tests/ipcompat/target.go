package ipcompat

import (
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/usnet/usnet/iproute"
	"golang.org/x/sys/unix"
)

// Target provides a fresh, empty network namespace to run the script in.
// Setup returns the namespace's name (what `ip -n` gets) and the dialer
// that reaches it; it registers its own cleanup with t.Cleanup.
type Target interface {
	Name() string
	Setup(t *testing.T) (ns string, dial iproute.Dialer)
	// Peer returns a second empty namespace, the script's "@PEER".
	Peer(t *testing.T) string
	// Settle waits until deferred link state changes have been applied.
	Settle()
}

// KernelTarget runs the script against a new Linux network namespace
// through a NETLINK_ROUTE socket. It needs root.
type KernelTarget struct{}

func (KernelTarget) Name() string { return "kernel" }

// Settle outlasts linkwatch's one-second batching of carrier changes.
func (KernelTarget) Settle() { time.Sleep(1500 * time.Millisecond) }

func (KernelTarget) Peer(t *testing.T) string {
	return newKernelNetns(t, fmt.Sprintf("usnet-ipc-peer-go-%d", os.Getpid()))
}

func (KernelTarget) Setup(t *testing.T) (string, iproute.Dialer) {
	ns := newKernelNetns(t, fmt.Sprintf("usnet-ipc-go-%d", os.Getpid()))
	return ns, iproute.DialKernel
}

// newKernelNetns creates a namespace with IPv6 disabled, deleted when
// the test ends.
func newKernelNetns(t *testing.T, ns string) string {
	if os.Geteuid() != 0 {
		t.Skip("ipcompat: needs root to create a kernel network namespace (run the test as root)")
	}
	var nss iproute.KernelNamespaces
	if err := nss.Add(ns); err != nil {
		t.Skipf("ipcompat: cannot create a network namespace: %v", err)
	}
	t.Cleanup(func() {
		if err := nss.Delete(ns); err != nil {
			t.Errorf("deleting namespace %s: %v", ns, err)
		}
	})
	// usnet has no IPv6 yet and link-local addresses would depend on
	// MACs: the recording was made with IPv6 disabled too.
	if err := inNetns(ns, func() error {
		for _, f := range []string{"all", "default"} {
			p := "/proc/sys/net/ipv6/conf/" + f + "/disable_ipv6"
			if err := os.WriteFile(p, []byte("1\n"), 0o644); err != nil && !os.IsNotExist(err) {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatalf("disabling IPv6 in %s: %v", ns, err)
	}
	return ns
}

// inNetns runs f on a thread that joined the named namespace; the thread
// is discarded afterwards.
func inNetns(ns string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with us
		fd, err := unix.Open(iproute.NetnsDir+"/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- err
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- err
			return
		}
		errc <- f()
	}()
	return <-errc
}
