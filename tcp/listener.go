package tcp

import (
	"net/netip"
	"slices"
	"syscall"
	"time"

	"github.com/usnet/usnet/header"
)

// Listener is a listening socket (TCP_LISTEN) with its queues.
type Listener struct {
	t       *Table
	addr    netip.Addr
	port    uint16
	backlog int
	synq    int     // connections in SYN-RECV
	acceptq []*Conn // established, not yet accepted
	closed  bool
	// overflowed is when the SYN queue last overflowed, plus one: cookies
	// are checked only after a recent overflow (tcp_synq_no_recent_overflow).
	overflowed time.Duration
	// OnAcceptable is called when a connection is ready to accept.
	OnAcceptable func()
	// Waiting, when set, counts the connections the socket layer took
	// off the accept queue (Accept) that the application has not
	// accepted yet: a socket layer that moves connections to its own
	// queue as soon as they are ready (so that the application's accept
	// does not enter the executor) keeps them counted against the
	// backlog, as Linux's accept queue does until accept(2).
	Waiting func() int
}

// queued is the accept queue's length as the backlog sees it.
func (l *Listener) queued() int {
	n := len(l.acceptq)
	if l.Waiting != nil {
		n += l.Waiting()
	}
	return n
}

// Listen opens a listener on addr (inet_csk_listen_start): EADDRINUSE
// when the port is bound on an overlapping address.
func (t *Table) Listen(addr netip.AddrPort, backlog int) (*Listener, error) {
	a := addr.Addr()
	if !a.IsValid() {
		a = netip.IPv4Unspecified()
	}
	if !a.IsUnspecified() && !t.ip.IsLocal(a) {
		return nil, syscall.EADDRNOTAVAIL
	}
	port := addr.Port()
	if port == 0 {
		var err error
		if port, err = t.ephemeral(); err != nil {
			return nil, err
		}
	}
	for _, o := range t.listeners[port] {
		if o.addr == a || o.addr.IsUnspecified() || a.IsUnspecified() {
			return nil, syscall.EADDRINUSE
		}
	}
	if backlog <= 0 || backlog > 4096 {
		backlog = 4096 // somaxconn
	}
	l := &Listener{t: t, addr: a, port: port, backlog: backlog}
	t.listeners[port] = append(t.listeners[port], l)
	return l, nil
}

// Addr is the listening address.
func (l *Listener) Addr() netip.AddrPort { return netip.AddrPortFrom(l.addr, l.port) }

// Accept returns an established connection, or nil when none is queued.
func (l *Listener) Accept() *Conn {
	if len(l.acceptq) == 0 {
		return nil
	}
	c := l.acceptq[0]
	l.acceptq[0] = nil
	if len(l.acceptq) == 1 {
		l.acceptq = l.acceptq[:0] // reuse the array: it is emptied at once
	} else {
		l.acceptq = l.acceptq[1:]
	}
	return c
}

// Pending reports whether Accept would return a connection.
func (l *Listener) Pending() bool { return len(l.acceptq) > 0 || l.closed }

// Close stops listening and resets the connections not yet accepted.
func (l *Listener) Close() {
	if l.closed {
		return
	}
	l.closed = true
	ls := l.t.listeners[l.port]
	for i, o := range ls {
		if o == l {
			l.t.listeners[l.port] = append(ls[:i:i], ls[i+1:]...)
			break
		}
	}
	if len(l.t.listeners[l.port]) == 0 {
		delete(l.t.listeners, l.port)
	}
	for _, c := range l.acceptq {
		c.Abort()
	}
	l.acceptq = nil
	// Half-open connections, reset in a fixed order so a simulation
	// repeats (map order is random).
	var half []*Conn
	for _, c := range l.t.conns {
		if c.listener == l {
			half = append(half, c)
		}
	}
	slices.SortFunc(half, func(a, b *Conn) int {
		if c := a.k.ra.Compare(b.k.ra); c != 0 {
			return c
		}
		return int(a.k.rp) - int(b.k.rp)
	})
	for _, c := range half {
		c.Abort()
	}
	if l.OnAcceptable != nil {
		l.OnAcceptable()
	}
}

// synRcvd handles a SYN for the listener (tcp_conn_request).
// isn, when not zero, is the ISN a TIME_WAIT connection handed on.
func (l *Listener) synRcvd(src, dst netip.Addr, seg header.TCP, opts *header.TCPOptions, isn uint32) {
	t := l.t
	if l.queued() >= l.backlog {
		t.Stats.ListenOverflows++
		return // dropped: the client retransmits its SYN
	}
	if t.Sysctl.Syncookies == 2 || l.synq >= min(l.backlog, t.Sysctl.MaxSynBacklog) || len(t.conns) >= t.Sysctl.MaxConnections {
		if t.Sysctl.Syncookies != 0 {
			l.overflowed = t.exec.Now() + 1
			l.sendCookie(src, dst, seg, opts)
			return
		}
		t.Stats.ListenOverflows++
		return
	}
	k := key{la: dst, ra: src, lp: l.port, rp: seg.SrcPort()}
	c := t.newConn(k)
	c.listener = l
	if isn != 0 {
		c.iss = isn
	}
	l.synq++
	c.state = SynRecv
	c.irs = seg.Seq()
	c.rcvNxt = c.irs + 1
	c.sndUna, c.sndNxt, c.sndMax = c.iss, c.iss+1, c.iss+1
	c.setMSS()
	c.peerOptions(opts)
	c.ecnRcvSyn(seg.Flags())
	c.sndWnd = uint32(seg.Window()) // not scaled in a SYN
	c.sndWl1, c.sndWl2 = seg.Seq(), c.iss
	t.conns[k] = c
	t.hold(k.lp)
	t.Stats.PassiveOpens++
	c.rttStart = t.exec.Now() // the SYN-ACK's send time (snt_synack)
	c.sendSyn(true)
	c.armRTO()
}

// peerOptions applies the options of the peer's SYN.
func (c *Conn) peerOptions(o *header.TCPOptions) {
	if o.HasMSS && int(o.MSS) < c.mss && o.MSS >= 64 {
		c.mss = int(o.MSS)
	} else if !o.HasMSS {
		c.mss = min(c.mss, defaultMS)
	}
	c.sackOK = o.SACKPermitted && c.t.Sysctl.SACK
	if o.HasTimestamps && c.t.Sysctl.Timestamps {
		c.tsOK = true
		c.tsRecent, c.tsRecentSet = o.TSVal, true
		c.mss -= 12 // TCPOLEN_TSTAMP_ALIGNED: room for the option in every segment
	}
	if o.HasWScale {
		c.peerWScale = true
		c.sndShift = min(o.WScale, 14)
	} else {
		c.rcvShift = 0
	}
	c.caInit()
}
