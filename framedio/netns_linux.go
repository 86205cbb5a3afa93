package framedio

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// InNetns runs f on an OS thread that has entered the kernel network
// namespace at path (such as /run/netns/X), for the calls that bind
// resources to the caller's namespace: opening a TAP device, a packet
// socket, a netlink socket. Sockets and devices created there stay there
// after the thread returns. It runs on a fresh goroutine, so that if the
// thread cannot return to its original namespace, it is discarded (a
// goroutine that exits locked takes its thread with it) rather than
// reused by the Go scheduler in the wrong namespace.
func InNetns(path string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("framedio: current netns: %w", err)
			return
		}
		defer unix.Close(orig)
		target, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("framedio: netns %s: %w", path, err)
			return
		}
		defer unix.Close(target)
		if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("framedio: setns %s: %w", path, err)
			return
		}
		ferr := f()
		if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("framedio: setns back: %w", err) // thread stays locked and dies
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}
