package daemon

import (
	"encoding/json"
	"fmt"
	"net"
	"syscall"

	"github.com/usnet/usnet/framedio"
)

// servePortStats answers port-stats: the framed-I/O counters of a
// namespace's host-backed devices, by device name.
func (s *Server) servePortStats(c *net.UnixConn, arg string) {
	ns := s.Stack.Default()
	if arg != "" {
		ns = s.Stack.Get(arg)
	}
	if ns == nil {
		c.Write(errReply(fmt.Errorf("namespace %q: %w", arg, syscall.ENOENT)))
		return
	}
	out := map[string]framedio.Stats{}
	ns.Exec().Do(func() {
		for _, d := range ns.Dev.Devices() {
			if p := framedio.PortOf(d); p != nil {
				out[d.Name()] = p.Stats()
			}
		}
	})
	b, _ := json.Marshal(out)
	c.Write(okReply(string(b)))
}

// PortStats returns the framed-I/O counters of namespace ns's host-backed
// devices (TAP, AF_PACKET), by device name.
func PortStats(path, ns string) (map[string]framedio.Stats, error) {
	c, p, err := dial(path, VerbPortStats, ns)
	if err != nil {
		return nil, err
	}
	c.Close()
	out := map[string]framedio.Stats{}
	return out, json.Unmarshal([]byte(p), &out)
}
