package daemon

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/usnet/usnet/sysctl"
)

// serveSysctl answers the sysctl verb. The argument is NS NUL NAME to
// read one name, NS alone to read all, NS NUL NAME NUL VALUE to write;
// writing needs an administrator (CAP_NET_ADMIN on Linux), reading does
// not.
func (s *Server) serveSysctl(c *net.UnixConn, arg string, admin bool) {
	f := strings.SplitN(arg, "\x00", 3)
	ns := s.Stack.Default()
	if f[0] != "" {
		ns = s.Stack.Get(f[0])
	}
	if ns == nil {
		c.Write(errReply(fmt.Errorf("namespace %q: %w", f[0], syscall.ENOENT)))
		return
	}
	switch len(f) {
	case 1:
		// Every name: entries in datagrams of at most sysctlChunk
		// bytes (the first in the OK reply), then the daemon closes.
		var b strings.Builder
		b.WriteString("OK\x00")
		first := true
		for _, e := range ns.Sysctls() {
			ent := e.Name + "\x00" + e.Value
			if !first && b.Len()+1+len(ent) > sysctlChunk {
				if _, err := c.Write([]byte(b.String())); err != nil {
					return
				}
				b.Reset()
				first = true
			}
			if !first {
				b.WriteByte(0)
			}
			b.WriteString(ent)
			first = false
		}
		c.Write([]byte(b.String()))
	case 2:
		v, err := ns.Sysctl(f[1])
		if err != nil {
			c.Write(errReply(fmt.Errorf("%s: %w", f[1], err)))
			return
		}
		c.Write(okReply(v))
	case 3:
		if !admin {
			// Read-only names answer EACCES whoever asks, as open(2)
			// of a 0444 file does.
			if err := ns.SysctlWritable(f[1]); err != nil {
				c.Write(errReply(fmt.Errorf("%s: %w", f[1], err)))
				return
			}
			refuse(c, VerbSysctl, syscall.EPERM)
			return
		}
		if err := ns.SetSysctl(f[1], f[2]); err != nil {
			c.Write(errReply(fmt.Errorf("%s: %w", f[1], err)))
			return
		}
		c.Write(okReply(""))
	}
}

// Sysctl reads a setting of namespace ns ("" = default) of the daemon at
// path.
func Sysctl(path, ns, name string) (string, error) {
	c, p, err := dial(path, VerbSysctl, ns+"\x00"+name)
	if err != nil {
		return "", err
	}
	c.Close()
	return p, nil
}

// SetSysctl writes a setting (administrators only: EPERM otherwise).
func SetSysctl(path, ns, name, value string) error {
	c, _, err := dial(path, VerbSysctl, ns+"\x00"+name+"\x00"+value)
	if err != nil {
		return err
	}
	return c.Close()
}

// sysctlChunk bounds a datagram of the sysctl verb's listing.
const sysctlChunk = 32 << 10

// Sysctls reads every setting of a namespace, sorted by name.
func Sysctls(path, ns string) ([]sysctl.Entry, error) {
	c, p, err := dialN(path, VerbSysctl, ns, sysctlChunk)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var out []sysctl.Entry
	buf := make([]byte, sysctlChunk)
	for {
		if p != "" {
			f := strings.Split(p, "\x00")
			if len(f)%2 != 0 {
				return nil, syscall.EPROTO
			}
			for i := 0; i < len(f); i += 2 {
				out = append(out, sysctl.Entry{Name: f[i], Value: f[i+1]})
			}
		}
		n, err := c.Read(buf)
		if n == 0 && (err == nil || errors.Is(err, io.EOF)) {
			return out, nil // the daemon closed: the listing is complete
		}
		if err != nil {
			return nil, err
		}
		p = string(buf[:n])
	}
}
