package bench

import (
	"encoding/json"
	"fmt"
	"net/netip"
)

// kernelServe starts rrpeer's echo server in namespace ns on ap.
func (e *Env) kernelServe(ns string, ap netip.AddrPort) (*proc, error) {
	rr, err := e.tool("rrpeer")
	if err != nil {
		return nil, err
	}
	return e.startIn(ns, true, rr, "serve", "-addr", ap.String())
}

// rrpeerIn runs one rrpeer client command in ns and decodes its figures.
func (e *Env) rrpeerIn(ns string, args ...string) (Figures, error) {
	rr, err := e.tool("rrpeer")
	if err != nil {
		return nil, err
	}
	out, err := run("ip", append([]string{"netns", "exec", ns, rr}, args...)...)
	if err != nil {
		return nil, err
	}
	f := Figures{}
	if err := json.Unmarshal([]byte(out), &f); err != nil {
		return nil, fmt.Errorf("rrpeer output %q: %v", out, err)
	}
	return f, nil
}

// kernelTCPRR measures request/response latency between two namespaces.
func kernelTCPRR(size int) Runner {
	return func(env *Env) (Figures, string, error) {
		a, b, err := env.kernelPair(1500)
		if err != nil {
			return nil, "", err
		}
		srv := netip.AddrPortFrom(addrA, 5201)
		p, err := env.kernelServe(a, srv)
		if err != nil {
			return nil, "", err
		}
		defer p.stop()
		iters := Pick(env, 20000, 200)
		f, err := env.rrpeerIn(b, "rr", "-addr", srv.String(), "-size", fmt.Sprint(size), "-n", fmt.Sprint(iters))
		return f, fmt.Sprintf("%d round trips, rrpeer in two namespaces over veth", iters), err
	}
}

// kernelConnRate measures dial/accept/close per second between namespaces.
func kernelConnRate(env *Env) (Figures, string, error) {
	a, b, err := env.kernelPair(1500)
	if err != nil {
		return nil, "", err
	}
	srv := netip.AddrPortFrom(addrA, 5201)
	p, err := env.kernelServe(a, srv)
	if err != nil {
		return nil, "", err
	}
	defer p.stop()
	n := Pick(env, 5000, 100)
	f, err := env.rrpeerIn(b, "crr", "-addr", srv.String(), "-n", fmt.Sprint(n))
	return f, fmt.Sprintf("%d sequential dial/accept/close", n), err
}
