package bench

import (
	"fmt"

	"github.com/usnet/usnet/bench/measure"
	"github.com/usnet/usnet/socket"
)

// usnetTCPBulk sends one TCP stream from A to B over a veth of the given
// MTU through usnet's socket API (net.Conn Write/Read of 64 KiB buffers),
// the same loop as the gVisor runner. It moves 4 GiB (one to two seconds
// here) so that, like iperf3's timed run for the kernel, the figure
// averages over a span long enough to ride out a busy machine.
func usnetTCPBulk(mtu int) Runner {
	return func(env *Env) (Figures, string, error) {
		n := Pick[int64](env, 4<<30, 8<<20)
		ln, dial, err := usTCP(env, mtu)
		if err != nil {
			return nil, "", err
		}
		g, err := measure.Bulk(ln, dial, n)
		if err != nil {
			return nil, "", err
		}
		return Figures{"throughput": g}, fmt.Sprintf("%d MiB over socket.TCPConn, real-time stack (executor.Loop per namespace), veth with GSO/GRO and checksum offload", n>>20), nil
	}
}

// usnetTCPRR is the request/response latency runner: a ping-pong of size
// bytes on one connection, Nagle off on both ends as the peers have it
// (gonet and Go's net set TCP_NODELAY by default).
func usnetTCPRR(size int) Runner {
	return func(env *Env) (Figures, string, error) {
		iters := Pick(env, 20000, 200)
		ln, dial, err := usTCP(env, 1500)
		if err != nil {
			return nil, "", err
		}
		usServeEcho(env, ln)
		c, err := dial()
		if err != nil {
			return nil, "", err
		}
		defer c.Close()
		c.(*socket.TCPConn).SetNoDelay(true)
		d, err := measure.RR(c, size, iters/10, iters)
		if err != nil {
			return nil, "", err
		}
		return rrFigures(d), fmt.Sprintf("%d round trips", iters), nil
	}
}

// usnetConnRate opens and closes connections one after another.
func usnetConnRate(env *Env) (Figures, string, error) {
	n := Pick(env, 5000, 100)
	ln, dial, err := usTCP(env, 1500)
	if err != nil {
		return nil, "", err
	}
	usServeEcho(env, ln)
	r, err := measure.ConnRate(dial, n)
	if err != nil {
		return nil, "", err
	}
	return Figures{"rate": r}, fmt.Sprintf("%d sequential dial/accept/close", n), nil
}
