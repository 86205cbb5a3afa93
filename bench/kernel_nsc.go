package bench

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// memAvailableKB reads MemAvailable from /proc/meminfo.
func memAvailableKB() (float64, error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "MemAvailable:"); ok {
			return strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
		}
	}
	return 0, fmt.Errorf("no MemAvailable in /proc/meminfo")
}

// kernelNamespaces creates n kernel network namespaces and brings lo up
// in each, the way `ip netns add X; ip -n X link set lo up` does but
// without forking two processes per namespace: unshare(CLONE_NEWNET) on a
// locked thread, a file descriptor to keep the namespace alive, and
// SIOCSIFFLAGS on lo. Closing the descriptors (and the thread exiting)
// deletes every namespace, so nothing outlives this process even on a
// crash.
func kernelNamespaces(n int) Runner {
	return func(env *Env) (Figures, string, error) {
		if err := kernelReady(); err != nil {
			return nil, "", err
		}
		n := Pick(env, n, 20)
		type res struct {
			el   time.Duration
			memB float64
			err  error
		}
		ch := make(chan res, 1)
		go func() {
			// This thread ends up in a namespace of its own: never unlock
			// it, so the runtime discards the thread when we return.
			runtime.LockOSThread()
			fds := make([]int, 0, n)
			defer func() {
				for _, fd := range fds {
					unix.Close(fd)
				}
			}()
			m0, err := memAvailableKB()
			if err != nil {
				ch <- res{err: err}
				return
			}
			t0 := time.Now()
			for i := range n {
				if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
					ch <- res{err: fmt.Errorf("unshare %d: %w", i, err)}
					return
				}
				fd, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
				if err != nil {
					ch <- res{err: err}
					return
				}
				fds = append(fds, fd)
				if err := loUp(); err != nil {
					ch <- res{err: fmt.Errorf("lo up in namespace %d: %w", i, err)}
					return
				}
			}
			el := time.Since(t0)
			m1, err := memAvailableKB()
			ch <- res{el: el, memB: (m0 - m1) * 1024 / float64(n), err: err}
		}()
		r := <-ch
		if r.err != nil {
			return nil, "", r.err
		}
		return Figures{"rate": float64(n) / r.el.Seconds(), "memory": r.memB},
			fmt.Sprintf("%d namespaces: unshare(CLONE_NEWNET)+SIOCSIFFLAGS lo in one process; memory = /proc/meminfo MemAvailable drop per namespace (machine-wide, noisy)", n), nil
	}
}

// loUp sets IFF_UP on lo in the calling thread's namespace.
func loUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}
