package bench

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"time"
)

// kernelUDPRate runs rrpeer's UDP sink in rxNS on dst and its sender in
// txNS, and returns received and sent packets per second.
func (e *Env) kernelUDPRate(txNS, rxNS string, dst netip.Addr) (Figures, string, error) {
	rr, err := e.tool("rrpeer")
	if err != nil {
		return nil, "", err
	}
	dur := Pick(e, 2*time.Second, 200*time.Millisecond)
	ap := netip.AddrPortFrom(dst, 5301)
	sink, err := e.startIn(rxNS, true, rr, "udpsink", "-addr", ap.String(), "-limit", (dur + 10*time.Second).String())
	if err != nil {
		return nil, "", err
	}
	defer sink.stop()
	sent, err := e.rrpeerIn(txNS, "udpsend", "-addr", ap.String(), "-size", fmt.Sprint(udpPayload64), "-dur", dur.String())
	if err != nil {
		return nil, "", err
	}
	out, err := sink.rest()
	if err != nil {
		return nil, "", fmt.Errorf("udpsink: %v", err)
	}
	got := Figures{}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		return nil, "", fmt.Errorf("udpsink output %q: %v", out, err)
	}
	f := Figures{"tx": sent["sent"] / sent["seconds"]}
	if got["seconds"] > 0 {
		f["rx"] = got["packets"] / got["seconds"]
	}
	return f, fmt.Sprintf("%v of %d-byte payloads, one sender thread (rrpeer, Go net.Conn.Write per datagram)", dur, udpPayload64), nil
}

func kernelUDPPPS(env *Env) (Figures, string, error) {
	a, b, err := env.kernelPair(1500)
	if err != nil {
		return nil, "", err
	}
	return env.kernelUDPRate(a, b, addrB)
}

func kernelForward(env *Env) (Figures, string, error) {
	a, _, b, err := env.kernelRouter()
	if err != nil {
		return nil, "", err
	}
	return env.kernelUDPRate(a, b, addrB2)
}
