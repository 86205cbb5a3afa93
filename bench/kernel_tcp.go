package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// ensureIperf3 finds iperf3 or installs it with apt-get when root.
func ensureIperf3() error {
	if _, err := exec.LookPath("iperf3"); err == nil {
		return nil
	}
	if os.Geteuid() != 0 {
		return Skip("iperf3 not installed and not root to install it")
	}
	cmd := exec.Command("apt-get", "install", "-y", "-qq", "iperf3")
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if out, err := cmd.CombinedOutput(); err != nil {
		return Skip("iperf3 missing and apt-get install failed: %v: %s", err, lastLine(string(out)))
	}
	return nil
}

func lastLine(s string) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return l[len(l)-1]
}

// kernelTCPBulk runs iperf3 between two namespaces over a veth pair of
// this MTU.
func kernelTCPBulk(mtu int) Runner {
	return func(env *Env) (Figures, string, error) {
		if err := kernelReady(); err != nil {
			return nil, "", err
		}
		if err := ensureIperf3(); err != nil {
			return nil, "", err
		}
		a, b, err := env.kernelPair(mtu)
		if err != nil {
			return nil, "", err
		}
		srv, err := env.startIn(a, false, "iperf3", "-s", "-1", "-B", addrA.String(), "-p", "5201")
		if err != nil {
			return nil, "", err
		}
		defer srv.stop()
		length := Pick(env, []string{"-t", "3"}, []string{"-n", "8M"})
		var r iperfResult
		for try := 0; ; try++ {
			// The server needs a moment to listen; iperf3 reports refusal
			// either as an exit status or inside its JSON.
			out, err := run("ip", append([]string{"netns", "exec", b, "iperf3", "-c", addrA.String(), "-p", "5201", "-J"}, length...)...)
			r = iperfResult{}
			if jerr := json.Unmarshal([]byte(out), &r); jerr != nil && err == nil {
				return nil, "", fmt.Errorf("iperf3 JSON: %v", jerr)
			}
			if err == nil && r.Error == "" {
				break
			}
			if try == 30 {
				if r.Error != "" {
					return nil, "", fmt.Errorf("iperf3: %s", r.Error)
				}
				return nil, "", err
			}
			time.Sleep(200 * time.Millisecond)
		}
		return Figures{"throughput": r.End.SumReceived.BitsPerSecond / 1e9},
			fmt.Sprintf("iperf3 %s, veth mtu %d, receiver goodput", strings.Join(length, " "), mtu), nil
	}
}

// iperfResult is the part of iperf3's -J output the harness reads.
type iperfResult struct {
	End struct {
		SumReceived struct {
			BitsPerSecond float64 `json:"bits_per_second"`
		} `json:"sum_received"`
	} `json:"end"`
	Error string `json:"error"`
}
