// Package devstat is `usnet stat`: per-device throughput, packet rates and
// drops, sampled over rtnetlink (RTM_GETLINK dumps with IFLA_STATS64), so
// it reads a usnet daemon's namespace and a kernel namespace alike — the
// columns of illumos' vndstat plus packets per second.
package devstat

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"

	"golang.org/x/sys/unix"

	"github.com/usnet/usnet/iproute"
	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
)

// Sample is one device's counters at one time.
type Sample struct {
	Name  string
	Index int32
	Stats rtmsg.LinkStats64
	// FlowCtl is the port's flow-control event count, -1 when unknown.
	FlowCtl int64
}

// Collect dumps every link with its 64-bit statistics.
func Collect(c *iproute.Conn) ([]Sample, error) {
	req := make([]byte, unix.SizeofIfInfomsg)
	var out []Sample
	err := c.Dump(unix.RTM_GETLINK, req, func(h netlink.Header, data []byte) error {
		if h.Type != unix.RTM_NEWLINK {
			return nil
		}
		var l rtmsg.Link
		if err := l.UnmarshalBinary(data); err != nil {
			return err
		}
		s := Sample{Name: l.Name, Index: l.Index, FlowCtl: -1}
		if l.Stats64 != nil {
			s.Stats = *l.Stats64
		}
		out = append(out, s)
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out, err
}

// Row is one device's rates over an interval.
type Row struct {
	Name    string  `json:"name"`
	RxBps   float64 `json:"rx_bytes_per_sec"`
	RxPps   float64 `json:"rx_packets_per_sec"`
	TxBps   float64 `json:"tx_bytes_per_sec"`
	TxPps   float64 `json:"tx_packets_per_sec"`
	RxDrops uint64  `json:"rx_drops"` // rx_dropped + rx_missed_errors (ring or buffer full) in the interval
	TxDrops uint64  `json:"tx_drops"` // tx_dropped in the interval (usnet counts flow-control refusals here)
	Errors  uint64  `json:"errors"`
	// FlowCtl counts framed-I/O flow-control events (a host backend found
	// its buffer full) in the interval; -1 when the device has no such
	// port or the source cannot tell (a kernel namespace).
	FlowCtl int64 `json:"flow_control"`
}

// Rates compares two samples taken dt apart; devices absent from prev
// are measured from zero (they appeared during the interval).
func Rates(prev, cur []Sample, dt time.Duration) []Row {
	old := map[int32]rtmsg.LinkStats64{}
	oldFC := map[int32]int64{}
	for _, s := range prev {
		old[s.Index] = s.Stats
		oldFC[s.Index] = s.FlowCtl
	}
	sec := dt.Seconds()
	if sec <= 0 {
		sec = 1
	}
	rows := make([]Row, 0, len(cur))
	for _, s := range cur {
		o := old[s.Index]
		n := s.Stats
		d := func(a, b uint64) uint64 {
			if a < b {
				return a // counters reset (device re-created)
			}
			return a - b
		}
		rows = append(rows, Row{
			Name:    s.Name,
			RxBps:   float64(d(n.RxBytes, o.RxBytes)) / sec,
			RxPps:   float64(d(n.RxPackets, o.RxPackets)) / sec,
			TxBps:   float64(d(n.TxBytes, o.TxBytes)) / sec,
			TxPps:   float64(d(n.TxPackets, o.TxPackets)) / sec,
			RxDrops: d(n.RxDropped, o.RxDropped) + d(n.RxMissedErrors, o.RxMissedErrors),
			TxDrops: d(n.TxDropped, o.TxDropped),
			Errors:  d(n.RxErrors, o.RxErrors) + d(n.TxErrors, o.TxErrors),
			FlowCtl: flowDelta(s.FlowCtl, oldFC[s.Index]),
		})
	}
	return rows
}

func flowDelta(cur, old int64) int64 {
	if cur < 0 {
		return -1
	}
	if old < 0 || old > cur {
		old = 0
	}
	return cur - old
}

// Print writes rows as a table (header included) or, with asJSON, as one
// JSON array per interval.
func Print(w io.Writer, rows []Row, asJSON bool) error {
	if asJSON {
		b, err := json.Marshal(rows)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	fmt.Fprintf(w, "%-16s %10s %10s %10s %10s %9s %9s %7s %8s\n", "name", "rx B/s", "rx pps", "tx B/s", "tx pps", "rx drops", "tx drops", "errors", "flowctl")
	for _, r := range rows {
		fc := "-"
		if r.FlowCtl >= 0 {
			fc = fmt.Sprint(r.FlowCtl)
		}
		fmt.Fprintf(w, "%-16s %10s %10s %10s %10s %9d %9d %7d %8s\n", r.Name, human(r.RxBps), human(r.RxPps), human(r.TxBps), human(r.TxPps), r.RxDrops, r.TxDrops, r.Errors, fc)
	}
	return nil
}

// human prints a rate with a K/M/G suffix as vndstat does.
func human(v float64) string {
	switch {
	case v >= 1e9:
		return fmt.Sprintf("%.1fG", v/1e9)
	case v >= 1e6:
		return fmt.Sprintf("%.1fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fK", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

// Run samples every interval, count times (0: forever), printing each
// interval's rates. It takes a first sample before it waits, so the first
// report, too, is a rate over one measured interval (not the counters
// since the devices were created, which rtnetlink cannot date).
func Run(c *iproute.Conn, interval time.Duration, count int, asJSON bool, w io.Writer) error {
	return RunWith(c, nil, interval, count, asJSON, w)
}

// RunWith is Run with a source of flow-control counts by device name
// (the daemon's port-stats); nil leaves them unknown.
func RunWith(c *iproute.Conn, flow func() (map[string]uint64, error), interval time.Duration, count int, asJSON bool, w io.Writer) error {
	collect := func() ([]Sample, error) {
		cur, err := Collect(c)
		if err != nil || flow == nil {
			return cur, err
		}
		if fc, err := flow(); err == nil {
			for i := range cur {
				if v, ok := fc[cur[i].Name]; ok {
					cur[i].FlowCtl = int64(v)
				}
			}
		}
		return cur, nil
	}
	return sampler{collect: collect, now: time.Now, sleep: time.Sleep}.run(interval, count, asJSON, w)
}

// sampler is Run's loop with its clock and source replaceable in tests.
type sampler struct {
	collect func() ([]Sample, error)
	now     func() time.Time
	sleep   func(time.Duration)
}

func (s sampler) run(interval time.Duration, count int, asJSON bool, w io.Writer) error {
	prev, err := s.collect()
	if err != nil {
		return err
	}
	last := s.now()
	for i := 0; count == 0 || i < count; i++ {
		s.sleep(interval)
		cur, err := s.collect()
		if err != nil {
			return err
		}
		now := s.now()
		if err := Print(w, Rates(prev, cur, now.Sub(last)), asJSON); err != nil {
			return err
		}
		prev, last = cur, now
	}
	return nil
}
