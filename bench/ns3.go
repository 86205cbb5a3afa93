package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ns3Modules are the ns-3 libraries dumbbell.cc uses.
var ns3Modules = []string{"ns3-core", "ns3-network", "ns3-internet", "ns3-point-to-point", "ns3-applications", "ns3-traffic-control"}

// ensureNS3 finds Debian's libns3-dev, installing it with apt-get on a
// full run as root (it is large, so smoke runs only skip).
func ensureNS3(env *Env) error {
	if _, err := exec.LookPath("g++"); err != nil {
		return Skip("g++ not installed")
	}
	if _, err := exec.LookPath("pkg-config"); err != nil {
		return Skip("pkg-config not installed")
	}
	if exec.Command("pkg-config", append([]string{"--exists"}, ns3Modules...)...).Run() == nil {
		return nil
	}
	if env.Smoke || os.Geteuid() != 0 {
		return Skip("libns3-dev not installed (apt-get install libns3-dev)")
	}
	cmd := exec.Command("apt-get", "install", "-y", "-qq", "libns3-dev")
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if out, err := cmd.CombinedOutput(); err != nil {
		return Skip("libns3-dev missing and apt-get install failed: %v: %s", err, lastLine(string(out)))
	}
	return nil
}

// ns3Binary compiles ns3/dumbbell.cc once per run.
func (e *Env) ns3Binary() (string, error) {
	e.mu.Lock()
	p, ok := e.built["dumbbell"]
	e.mu.Unlock()
	if ok {
		return p, nil
	}
	if err := ensureNS3(e); err != nil {
		return "", err
	}
	flags, err := run("pkg-config", append([]string{"--cflags", "--libs"}, ns3Modules...)...)
	if err != nil {
		return "", err
	}
	out := filepath.Join(e.Tmp, "dumbbell")
	args := []string{"-O2", "-std=c++17", "-o", out, filepath.Join(e.Dir, "ns3", "dumbbell.cc")}
	for _, f := range strings.Fields(flags) {
		// Debian's ns3 .pc files carry a malformed "-I/usr\;" and absolute
		// paths to libgsl/libsqlite3 .so links that exist only with their
		// -dev packages; the ns3 libraries already link those themselves.
		if strings.Contains(f, `\;`) {
			continue
		}
		if strings.HasPrefix(f, "/") {
			if _, err := os.Stat(f); err != nil {
				continue
			}
		}
		args = append(args, f)
	}
	if _, err := run("g++", args...); err != nil {
		return "", fmt.Errorf("compiling dumbbell.cc: %v", err)
	}
	e.mu.Lock()
	e.built["dumbbell"] = out
	e.mu.Unlock()
	return out, nil
}

// ns3Dumbbell runs the dumbbell with the given number of pairs.
func ns3Dumbbell(pairs int) Runner {
	return func(env *Env) (Figures, string, error) {
		bin, err := env.ns3Binary()
		if err != nil {
			return nil, "", err
		}
		pairs := Pick(env, pairs, 2)
		sim := Pick(env, 10.0, 0.5)
		type result struct {
			Sim  float64 `json:"sim_seconds"`
			Wall float64 `json:"wall_seconds"`
			RX   float64 `json:"rx_bytes"`
		}
		var r result
		runs := Pick(env, dumbbellRuns, 1)
		for range runs {
			out, err := run(bin, fmt.Sprintf("--pairs=%d", pairs), fmt.Sprintf("--time=%g", sim))
			if err != nil {
				return nil, "", err
			}
			var x result
			if err := json.Unmarshal([]byte(out), &x); err != nil {
				return nil, "", fmt.Errorf("dumbbell output %q: %v", out, err)
			}
			if r.Wall == 0 || x.Wall < r.Wall {
				r = x
			}
		}
		return Figures{"wall": r.Wall, "speed": r.Sim / r.Wall},
			fmt.Sprintf("ns-3 %s (Debian libns3-dev), %d pairs, %gs simulated, bottleneck goodput %.1f Mb/s, wall = Simulator::Run only, best of %d identical runs",
				ns3Version(), pairs, sim, r.RX*8/r.Sim/1e6, runs), nil
	}
}

// ns3Version is the installed libns3-dev's version, or "3.x".
func ns3Version() string {
	v, err := run("pkg-config", "--modversion", "ns3-core")
	if err != nil || strings.TrimSpace(v) == "" {
		return "3.x"
	}
	return strings.TrimSpace(v)
}
