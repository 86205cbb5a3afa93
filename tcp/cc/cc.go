package cc

import (
	"syscall"
	"time"
)

// Sender is the part of a connection's state a congestion-control
// algorithm reads and changes (the tcp_sock fields tcp_congestion_ops use).
// Windows are in segments, as in Linux.
type Sender struct {
	Cwnd, Ssthresh, CwndCnt, CwndClamp uint32 // snd_cwnd, snd_ssthresh (InfiniteSsthresh at start), snd_cwnd_cnt, snd_cwnd_clamp (0: no clamp)
	MSS                                int
	InFlight                           uint32        // packets in flight
	SRTT                               time.Duration // smoothed RTT (0: none yet)
	MinRTT                             time.Duration
	Now                                time.Duration // executor time of the event
	CwndLimited                        bool          // tcp_is_cwnd_limited
	SndNxt, SndUna                     uint32        // for HyStart's round tracking (end_seq)
	Delivered                          uint32
}

// InfiniteSsthresh is the initial slow-start threshold
// (TCP_INFINITE_SSTHRESH).
const InfiniteSsthresh = 0x7fffffff

// InSlowStart reports whether cwnd is below ssthresh (tcp_in_slow_start).
func (s *Sender) InSlowStart() bool { return s.Cwnd < s.Ssthresh }

// clamp returns snd_cwnd_clamp, reading an unset (zero) clamp as none:
// Linux starts it at ~0.
func (s *Sender) clamp() uint32 {
	if s.CwndClamp == 0 {
		return ^uint32(0)
	}
	return s.CwndClamp
}

// CAState is the congestion-avoidance state of a connection (TCP_CA_*).
type CAState uint8

// Congestion-avoidance states, numbered as Linux's enum tcp_ca_state.
const (
	Open     CAState = 0
	Disorder CAState = 1
	CWR      CAState = 2
	Recovery CAState = 3
	Loss     CAState = 4
)

// Event is a congestion-window event (enum tcp_ca_event).
type Event uint8

// Events, numbered as Linux's CA_EVENT_*.
const (
	EvTxStart     Event = 0 // first transmit when no packet is in flight
	EvCwndRestart Event = 1 // congestion window restart after idle
	EvCompleteCWR Event = 2 // end of congestion window reduction
	EvLoss        Event = 3 // retransmission timeout
	EvECNNoCE     Event = 4 // ECT set, but not CE marked
	EvECNIsCE     Event = 5 // received CE marked IP packet
)

// Algorithm is a congestion-control algorithm bound to one connection
// (struct tcp_congestion_ops plus its private state).
type Algorithm interface {
	Name() string
	Init(s *Sender)
	SSThresh(s *Sender) uint32              // new ssthresh on loss entry (ssthresh op)
	CongAvoid(s *Sender, ack, acked uint32) // cong_avoid: grow Cwnd for `acked` newly acked segments
	SetState(s *Sender, st CAState)
	CwndEvent(s *Sender, ev Event)
	PktsAcked(s *Sender, acked uint32, rtt time.Duration) // rtt < 0: no sample
	UndoCwnd(s *Sender) uint32                            // cwnd to restore on a spurious-loss undo
}

// New returns a fresh instance of the named algorithm: "cubic" (Linux's
// default) or "reno". An unknown name is ENOENT, as setsockopt
// TCP_CONGESTION reports it.
func New(name string) (Algorithm, error) {
	switch name {
	case "cubic":
		return new(Cubic), nil
	case "reno":
		return new(Reno), nil
	}
	return nil, syscall.ENOENT
}

// Default is the algorithm new connections use
// (net.ipv4.tcp_congestion_control).
const Default = "cubic"

// Names lists the available algorithms in the order Linux shows them in
// net.ipv4.tcp_available_congestion_control (reno is built in first).
func Names() []string { return []string{"reno", "cubic"} }
