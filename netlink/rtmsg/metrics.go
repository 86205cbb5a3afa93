package rtmsg

import (
	"github.com/usnet/usnet/netlink"
	"golang.org/x/sys/unix"
)

// Metric is one RTAX_* entry of RTA_METRICS.
type Metric struct {
	Type  uint16 // RTAX_MTU, RTAX_ADVMSS, RTAX_LOCK...
	Value uint32
}

// Metrics is RTA_METRICS: u32 route metrics and the congestion control
// algorithm, which travels as a string (RTAX_CC_ALGO).
type Metrics struct {
	Values []Metric // in wire order
	CCAlgo string
}

// Get returns the value of metric t.
func (m *Metrics) Get(t uint16) (uint32, bool) {
	for _, v := range m.Values {
		if v.Type == t {
			return v.Value, true
		}
	}
	return 0, false
}

func (m *Metrics) decode(d *netlink.AttributeDecoder) error {
	n, err := d.Nested()
	if err != nil {
		return err
	}
	for n.Next() {
		t := n.Type()
		if t == unix.RTAX_CC_ALGO {
			m.CCAlgo = n.String()
			continue
		}
		// rtm_to_fib_config's metric parser: every other metric is u32
		// and unknown types (> RTAX_MAX) are EINVAL; here they are kept.
		v, err := getU32(&n)
		if err != nil {
			return err
		}
		m.Values = append(m.Values, Metric{Type: t, Value: v})
	}
	return n.Err()
}

func (m *Metrics) encode(e *netlink.AttributeEncoder) {
	n := e.BeginNest(unix.RTA_METRICS)
	for _, v := range m.Values {
		e.Uint32(v.Type, v.Value)
	}
	if m.CCAlgo != "" {
		e.String(unix.RTAX_CC_ALGO, m.CCAlgo)
	}
	e.EndNest(n)
}
