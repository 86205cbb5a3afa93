package bench

import (
	"fmt"
	"net"
	"net/netip"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"

	"github.com/usnet/usnet/bench/measure"
)

// gvTCP builds two linked gVisor stacks, listens on B and returns the
// listener and a dialer from A.
func gvTCP(mtu uint32) (net.Listener, measure.Dialer, func(), error) {
	a, b, closeAll, err := gvPair(mtu)
	if err != nil {
		return nil, nil, nil, err
	}
	srv := netip.AddrPortFrom(addrB, 5201)
	ln, err := gonet.ListenTCP(b, gvFull(srv), ipv4.ProtocolNumber)
	if err != nil {
		closeAll()
		return nil, nil, nil, err
	}
	dial := func() (net.Conn, error) { return gonet.DialTCP(a, gvFull(srv), ipv4.ProtocolNumber) }
	return ln, dial, func() { ln.Close(); closeAll() }, nil
}

// gvisorTCPBulk is the TCP bulk runner for one MTU.
func gvisorTCPBulk(mtu uint32) Runner {
	return func(env *Env) (Figures, string, error) {
		n := Pick[int64](env, 1<<30, 8<<20)
		ln, dial, done, err := gvTCP(mtu)
		if err != nil {
			return nil, "", err
		}
		defer done()
		g, err := measure.Bulk(ln, dial, n)
		if err != nil {
			return nil, "", err
		}
		return Figures{"throughput": g}, fmt.Sprintf("%d MiB over gonet, pipe+ethernet link, software checksums", n>>20), nil
	}
}

// gvisorTCPRR is the request/response latency runner.
func gvisorTCPRR(size int) Runner {
	return func(env *Env) (Figures, string, error) {
		iters := Pick(env, 20000, 200)
		ln, dial, done, err := gvTCP(1500)
		if err != nil {
			return nil, "", err
		}
		defer done()
		go measure.ServeEcho(ln)
		c, err := dial()
		if err != nil {
			return nil, "", err
		}
		defer c.Close()
		d, err := measure.RR(c, size, iters/10, iters)
		if err != nil {
			return nil, "", err
		}
		return rrFigures(d), fmt.Sprintf("%d round trips", iters), nil
	}
}

func rrFigures(d []time.Duration) Figures {
	us := func(x time.Duration) float64 { return float64(x) / float64(time.Microsecond) }
	return Figures{"p50": us(measure.Percentile(d, 50)), "p99": us(measure.Percentile(d, 99))}
}

// gvisorConnRate is the connect/accept/close rate runner.
func gvisorConnRate(env *Env) (Figures, string, error) {
	n := Pick(env, 5000, 100)
	ln, dial, done, err := gvTCP(1500)
	if err != nil {
		return nil, "", err
	}
	defer done()
	go measure.ServeEcho(ln)
	r, err := measure.ConnRate(dial, n)
	if err != nil {
		return nil, "", err
	}
	return Figures{"rate": r}, fmt.Sprintf("%d sequential dial/accept/close", n), nil
}
