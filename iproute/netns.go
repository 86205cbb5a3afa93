//go:build linux

package iproute

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"

	"github.com/usnet/usnet/netlink"
	"golang.org/x/sys/unix"
)

// KernelNamespaces is `ip netns` on the host: bind mounts of namespace
// files under /run/netns, as iproute2 makes them.
type KernelNamespaces struct{}

// List returns the names under /run/netns with their nsids.
func (KernelNamespaces) List() ([]NetnsEntry, error) {
	ents, err := os.ReadDir(NetnsDir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []NetnsEntry
	for _, e := range ents {
		if e.Name() == "." || e.Name() == ".." {
			continue
		}
		out = append(out, NetnsEntry{Name: e.Name(), ID: nsid(filepath.Join(NetnsDir, e.Name()))})
	}
	// iproute2 lists in readdir order; sort for stable output.
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// nsid asks the kernel (RTM_GETNSID) which id the current namespace
// gives the namespace at path; -1 when none.
func nsid(path string) int32 {
	f, err := os.Open(path)
	if err != nil {
		return -1
	}
	defer f.Close()
	t, err := DialKernel("")
	if err != nil {
		return -1
	}
	c := NewConn(t)
	defer c.Close()
	e := netlink.NewAttributeEncoder(make([]byte, 0, 16))
	e.Append([]byte{unix.AF_UNSPEC})
	e.Uint32(unix.NETNSA_FD, uint32(f.Fd()))
	msgs, err := c.Do(unix.RTM_GETNSID, 0, e.Bytes())
	if err != nil {
		return -1
	}
	for _, m := range msgs {
		if m.Header.Type != unix.RTM_NEWNSID || len(m.Data) < 4 {
			continue
		}
		d := netlink.NewAttributeDecoder(m.Data[4:])
		for d.Next() {
			if d.Type() == unix.NETNSA_NSID && len(d.Bytes()) == 4 {
				return int32(binary.NativeEndian.Uint32(d.Bytes()))
			}
		}
	}
	return -1
}

// Add creates a namespace and pins it at /run/netns/NAME.
func (KernelNamespaces) Add(name string) error {
	if name == "" || filepath.Base(name) != name || name == "." || name == ".." {
		return fmt.Errorf("Invalid netns name \"%s\"", name)
	}
	if err := os.MkdirAll(NetnsDir, 0o755); err != nil {
		return fmt.Errorf("mkdir %s failed: %s", NetnsDir, strerror(err))
	}
	path := filepath.Join(NetnsDir, name)
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0)
	if err != nil {
		return fmt.Errorf("Cannot create namespace file \"%s\": %s", path, strerror(unwrapErrno(err)))
	}
	f.Close()
	errc := make(chan error, 1)
	go func() {
		// The thread that unshared is left locked and dies with the
		// goroutine, so no other goroutine runs in the new namespace.
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("Failed to create a new network namespace \"%s\": %s", name, strerror(err))
			return
		}
		self := fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid())
		if err := unix.Mount(self, path, "none", unix.MS_BIND, ""); err != nil {
			errc <- fmt.Errorf("Bind %s -> %s failed: %s", self, path, strerror(err))
			return
		}
		errc <- nil
	}()
	if err := <-errc; err != nil {
		os.Remove(path)
		return err
	}
	return nil
}

// Delete unmounts and removes /run/netns/NAME.
func (KernelNamespaces) Delete(name string) error {
	path := filepath.Join(NetnsDir, name)
	_ = unix.Unmount(path, unix.MNT_DETACH)
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("Cannot remove namespace file \"%s\": %s", path, strerror(unwrapErrno(err)))
	}
	return nil
}

func unwrapErrno(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
