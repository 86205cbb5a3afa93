package bench

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/usnet/usnet/bench/measure"
	"github.com/usnet/usnet/socket"
	"github.com/usnet/usnet/stack"
)

// usUDPRate sends udpPayload64-byte datagrams from src in tx to dst in rx
// through usnet UDP sockets and returns received and sent packets per
// second, with the same loop as the gVisor runner.
func usUDPRate(env *Env, tx, rx *stack.Namespace, src, dst netip.Addr) (Figures, string, error) {
	dur := Pick(env, 2*time.Second, 200*time.Millisecond)
	la := netip.AddrPortFrom(dst, 5301)
	rc, err := socket.ListenUDP(rx.Exec(), rx.UDP, la, false)
	if err != nil {
		return nil, "", err
	}
	defer rc.Close()
	// The peers' receive buffers hold about 4 MiB; usnet's default is
	// Linux's rmem_default, which a 64-byte flood fills in a blink.
	rc.SetReadBuffer(4 << 20)
	tc, err := socket.DialUDP(tx.Exec(), tx.UDP, netip.AddrPortFrom(src, 0), la)
	if err != nil {
		return nil, "", err
	}
	defer tc.Close()
	rxp, txp := measure.UDPRate(rc, tc, udpPayload64, dur)
	return Figures{"rx": rxp, "tx": txp}, fmt.Sprintf("%v of %d-byte payloads (64-byte frames), one sender goroutine, socket.UDPConn (one executor.Do per datagram)", dur, udpPayload64), nil
}

func usnetUDPPPS(env *Env) (Figures, string, error) {
	a, b, err := usPair(env, 1500)
	if err != nil {
		return nil, "", err
	}
	return usUDPRate(env, a, b, addrA, addrB)
}

// usnetForward is the UDP rate test from A to B through router R.
func usnetForward(env *Env) (Figures, string, error) {
	a, _, b, err := usRouter(env)
	if err != nil {
		return nil, "", err
	}
	return usUDPRate(env, a, b, addrA, addrB2)
}
