package cc

import "time"

// CUBIC's parameters, fixed at Linux's defaults (tcp_cubic.c module
// parameters).
const (
	betaScale       = 1024 // BICTCP_BETA_SCALE
	cubicBeta       = 717  // multiplicative decrease: 717/1024 ≈ 0.7
	bicScale        = 41   // C = bic_scale*10/1024 ≈ 0.4
	bicHZ           = 10   // time unit of the cubic function: 2^-10 s
	fastConvergence = true
	tcpFriendliness = true

	// cubeRTTScale is 1024·C (the kernel's cube_rtt_scale).
	cubeRTTScale = bicScale * 10
	// cubeFactor turns a window gap into K³ in 2^-10 s units:
	// 2^(10+3·bicHZ) / (1024·C).
	cubeFactor = (uint64(1) << (10 + 3*bicHZ)) / cubeRTTScale
	// renoBetaScale is how many cwnds of ACKs (×8) the emulated Reno
	// window needs to grow by one segment, for CUBIC's β:
	// 8·(1+β)/(3·(1−β)), the AIMD rate matching Reno's throughput.
	renoBetaScale = 8 * (betaScale + cubicBeta) / 3 / (betaScale - cubicBeta)
)

// hz is the jiffy rate CUBIC's epoch arithmetic runs at (CONFIG_HZ=1000):
// Linux times the cubic function in jiffies, so its cnt updates at most
// once per jiffy; that granularity is kept.
const hz = 1000

// jiffies converts executor time to a 32-bit jiffy clock (tcp_jiffies32).
// It starts at 1, not 0, because CUBIC uses 0 for "no epoch".
func jiffies(now time.Duration) uint32 { return uint32(now/(time.Second/hz)) + 1 }

// clockUS is the 32-bit microsecond clock HyStart reads (tcp_mstamp).
func clockUS(now time.Duration) uint32 { return uint32(now / time.Microsecond) }

// Cubic is CUBIC (RFC 9438) as Linux's tcp_cubic.c runs it by default:
// cubic window growth from the last maximum, β = 0.7, C = 0.4, fast
// convergence, a TCP-friendly (Reno-emulating) floor and HyStart.
type Cubic struct {
	cnt          uint32 // increase cwnd by 1 after this many ACKed segments
	lastMaxCwnd  uint32 // Wmax: cwnd before the last reduction
	lastCwnd     uint32 // cwnd at the last cnt update
	lastTime     uint32 // jiffies of the last cnt update
	originPoint  uint32 // the window the cubic curve plateaus at
	k            uint32 // time from epoch start to the plateau, 2^-10 s
	delayMin     uint32 // smallest RTT sample, µs
	epochStart   uint32 // jiffies the current epoch started (0: none)
	ackCnt       uint32 // ACKed segments since the epoch started
	renoCwnd     uint32 // the emulated Reno window (tcp_cwnd)
	hystartFound bool   // HyStart has ended slow start

	hy      hystart
	prior   priorCwnd
	lastAck uint32 // jiffies of the last ACK seen, for the idle time
}

// Name returns "cubic".
func (*Cubic) Name() string { return "cubic" }

// reset is bictcp_reset: forget the curve, Wmax and the RTT floor.
func (c *Cubic) reset() {
	hy, prior, lastAck := c.hy, c.prior, c.lastAck
	*c = Cubic{hy: hy, prior: prior, lastAck: lastAck}
}

// Init is cubictcp_init.
func (c *Cubic) Init(s *Sender) {
	c.reset()
	c.prior = 0
	c.hy.reset(s)
}

// SSThresh ends the epoch, records Wmax (lowered further by fast
// convergence when the window did not regain the previous maximum) and
// returns β·cwnd (cubictcp_recalc_ssthresh).
func (c *Cubic) SSThresh(s *Sender) uint32 {
	c.prior.record(s)
	c.epochStart = 0
	if s.Cwnd < c.lastMaxCwnd && fastConvergence {
		// Release bandwidth to newer flows: remember (1+β)/2 of cwnd.
		c.lastMaxCwnd = s.Cwnd * (betaScale + cubicBeta) / (2 * betaScale)
	} else {
		c.lastMaxCwnd = s.Cwnd
	}
	return max(s.Cwnd*cubicBeta/betaScale, 2)
}

// CongAvoid is cubictcp_cong_avoid: slow start below ssthresh, then
// additive increase at the rate the cubic curve asks for.
func (c *Cubic) CongAvoid(s *Sender, _, acked uint32) {
	c.lastAck = jiffies(s.Now)
	if acked, ok := slowStartFirst(s, acked); ok {
		c.update(s, acked)
		CongAvoidAI(s, c.cnt, acked)
	}
}

// update recomputes cnt, the ACKs per one-segment increase, from the
// cubic function and the TCP-friendly estimate (bictcp_update).
func (c *Cubic) update(s *Sender, acked uint32) {
	cwnd := s.Cwnd
	now := jiffies(s.Now)
	c.ackCnt += acked

	if c.lastCwnd == cwnd && int32(now-c.lastTime) <= hz/32 {
		return
	}
	// cnt changes at most once per jiffy; every reduction zeroes
	// epochStart, which forces a recomputation.
	if c.epochStart == 0 || now != c.lastTime {
		c.lastCwnd = cwnd
		c.lastTime = now
		if c.epochStart == 0 {
			c.epochStart = now
			c.ackCnt = acked
			c.renoCwnd = cwnd
			if c.lastMaxCwnd <= cwnd {
				c.k = 0
				c.originPoint = cwnd
			} else {
				c.k = cubeRoot(cubeFactor * uint64(c.lastMaxCwnd-cwnd))
				c.originPoint = c.lastMaxCwnd
			}
		}
		c.cnt = c.cubicCnt(cwnd, now)
	}
	if tcpFriendliness {
		c.friendly(cwnd)
	}
	// At most one segment per two ACKed: 1.5× per RTT.
	c.cnt = max(c.cnt, 2)
}

// cubicCnt evaluates W(t+RTT) = C·(t+RTT−K)³ + Wmax, t since the epoch
// start, and returns how many ACKs per segment reach it within one RTT.
func (c *Cubic) cubicCnt(cwnd, now uint32) uint32 {
	// Aim one minimum RTT ahead, in 2^-bicHZ seconds.
	t := uint64(int32(now-c.epochStart)) + uint64(usToJiffies(c.delayMin))
	t = (t << bicHZ) / hz
	var offs uint64
	if t < uint64(c.k) {
		offs = uint64(c.k) - t
	} else {
		offs = t - uint64(c.k)
	}
	// C·offs³ in segments; offs stays below 2^21 for cwnd under a
	// million, so the product fits 64 bits.
	delta := uint32((cubeRTTScale * offs * offs * offs) >> (10 + 3*bicHZ))
	var target uint32
	if t < uint64(c.k) {
		target = c.originPoint - delta
	} else {
		target = c.originPoint + delta
	}
	var cnt uint32
	if target > cwnd {
		cnt = cwnd / (target - cwnd)
	} else {
		cnt = 100 * cwnd // at or above the curve: grow very slowly
	}
	// With no Wmax yet, the curve starts too flat: at least 5% per RTT.
	if c.lastMaxCwnd == 0 && cnt > 20 {
		cnt = 20
	}
	return cnt
}

// friendly tracks the window Reno with CUBIC's β would have, and grows at
// least as fast as it (the TCP-friendly region).
func (c *Cubic) friendly(cwnd uint32) {
	d := (cwnd * renoBetaScale) >> 3
	if d == 0 {
		d = 1
	}
	// One Reno segment per d ACKs, leaving a remainder in (0, d], as
	// the kernel's subtraction loop does, in constant time.
	if c.ackCnt > d {
		n := (c.ackCnt - 1) / d
		c.ackCnt -= n * d
		c.renoCwnd += n
	}
	if c.renoCwnd > cwnd {
		maxCnt := cwnd / (c.renoCwnd - cwnd)
		c.cnt = min(c.cnt, maxCnt)
	}
}

// usToJiffies rounds up, as usecs_to_jiffies.
func usToJiffies(us uint32) uint32 {
	const perJiffy = 1_000_000 / hz
	return uint32((uint64(us) + perJiffy - 1) / perJiffy)
}

// SetState resets the curve and HyStart on entering Loss (an RTO): what
// was learned no longer holds (cubictcp_state).
func (c *Cubic) SetState(s *Sender, st CAState) {
	if st == Loss {
		c.reset()
		c.hy.reset(s)
	}
}

// CwndEvent handles EvTxStart, the first send after the connection ran out
// of data: the idle time is added to the epoch start, so the window resumes
// on the cubic curve where it left it instead of jumping ahead
// (cubictcp_cwnd_event). Linux measures the idle time from the last send
// (lsndtime), which Sender does not carry; it is measured here from the
// last ACK the algorithm saw, which is when the pipe emptied.
func (c *Cubic) CwndEvent(s *Sender, ev Event) {
	if ev != EvTxStart {
		return
	}
	now := jiffies(s.Now)
	delta := int32(now - c.lastAck)
	if c.epochStart != 0 && delta > 0 {
		c.epochStart += uint32(delta)
		if int32(c.epochStart-now) > 0 {
			c.epochStart = now
		}
	}
}

// PktsAcked takes an RTT sample: it keeps the minimum delay the curve
// aims ahead by, and feeds HyStart while in slow start (cubictcp_acked).
func (c *Cubic) PktsAcked(s *Sender, _ uint32, rtt time.Duration) {
	c.lastAck = jiffies(s.Now)
	if rtt < 0 {
		return
	}
	// Samples right after a reduction are inflated by the recovery.
	if c.epochStart != 0 && int32(jiffies(s.Now)-c.epochStart) < hz {
		return
	}
	delay := uint32(min(rtt/time.Microsecond, 1<<31))
	if delay == 0 {
		delay = 1
	}
	if c.delayMin == 0 || c.delayMin > delay {
		c.delayMin = delay
	}
	if !c.hystartFound && s.InSlowStart() {
		c.hystartFound = c.hy.update(s, delay, c.delayMin)
	}
}

// UndoCwnd is tcp_reno_undo_cwnd, which CUBIC uses too.
func (c *Cubic) UndoCwnd(s *Sender) uint32 { return c.prior.undo(s) }

// cubeRoot returns ⌊∛a⌋, computed digit by digit in base 8: exact, where
// Linux's table-plus-Newton cubic_root errs by about 0.2%.
func cubeRoot(a uint64) uint32 {
	var y uint64
	for sh := 63; sh >= 0; sh -= 3 {
		y <<= 1
		b := 3*y*(y+1) + 1 // (y+1)³ − y³ after doubling
		if a>>uint(sh) >= b {
			a -= b << uint(sh)
			y++
		}
	}
	return uint32(y)
}
