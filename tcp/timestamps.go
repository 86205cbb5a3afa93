package tcp

import (
	"time"

	"github.com/usnet/usnet/header"
)

// Timestamps (RFC 7323): every segment carries TSval, our millisecond
// clock plus a per-connection random offset (tcp_timestamps = 1), and
// TSecr, the peer's latest TSval worth echoing. They give an RTT sample
// per ACK and protect against wrapped sequence numbers (PAWS).

// pawsWindow is TCP_PAWS_WINDOW: a TSval one tick older than TS.Recent
// still passes (tcp_paws_check).
const pawsWindow = 1

// tsNow is the TSval clock (tcp_time_stamp_ms + ts_offset).
func (c *Conn) tsNow() uint32 {
	return uint32(c.t.exec.Now()/time.Millisecond) + c.tsOff
}

// tsCheck applies PAWS and records TS.Recent (tcp_paws_discard,
// tcp_store_ts_recent); false means the segment is to be dropped.
func (c *Conn) tsCheck(o *header.TCPOptions, seq uint32, rst bool) bool {
	if !c.tsOK || !o.HasTimestamps {
		return true
	}
	if c.tsRecentSet && int32(c.tsRecent-o.TSVal) > pawsWindow && !rst {
		c.Info.PAWSDrops++
		return false
	}
	if seqLEQ(seq, c.rcvNxt) && (!c.tsRecentSet || int32(o.TSVal-c.tsRecent) >= 0) { // SEG.SEQ <= Last.ACK.sent
		c.tsRecent, c.tsRecentSet = o.TSVal, true
	}
	return true
}

// tsRTT turns an echoed timestamp into an RTT sample, or -1.
func (c *Conn) tsRTT(o *header.TCPOptions) time.Duration {
	if !c.tsOK || !o.HasTimestamps || o.TSEcr == 0 {
		return -1
	}
	d := int32(c.tsNow() - o.TSEcr)
	if d < 0 {
		return -1
	}
	return max(time.Duration(d)*time.Millisecond, time.Millisecond)
}

// addTS puts our timestamps into o when the connection uses them.
func (c *Conn) addTS(o *header.TCPOptions) {
	if c.tsOK {
		o.HasTimestamps, o.TSVal, o.TSEcr = true, c.tsNow(), c.tsRecent
	}
}
