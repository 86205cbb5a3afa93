package tools

import (
	"encoding/binary"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// UDP tests (iperf3 -u). Each stream is a UDP flow: the client sends a
// 4-byte hello from its stream's socket to the server's port, the server
// answers it, and the flow then carries datagrams that start with the
// sender's clock (seconds and microseconds) and a sequence number, all
// big-endian, from which the receiver counts losses, reordering and
// jitter (RFC 1889's estimator, as iperf3). The sender paces itself to
// the target bitrate (-b).

const (
	// iperf3 writes its hello and answer as native 32-bit integers: on
	// the little-endian machines it runs on, these are the bytes.
	udpConnectMsg   = 0x36373839
	udpConnectReply = 0x39383736
	// udpLegacyReply is the answer of iperf3 before 3.1.
	udpLegacyReply = 987654321
	// udpDefaultRate is iperf3's UDP target bitrate, 1 Mbit/s (binary).
	udpDefaultRate = 1 << 20
	// udpDefaultBlock is the datagram size when the path's MSS is not
	// known (iperf3's DEFAULT_UDP_BLKSIZE).
	udpDefaultBlock = 1460
	udpHeaderLen    = 12
	udpMaxBlock     = 65507
)

func udpWord(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

// udpRecv is a UDP receiver's view of one flow (iperf_udp_recv).
type udpRecv struct {
	mu          sync.Mutex
	packets     int64   // highest sequence number seen: the datagrams sent so far
	lost        int64   // gaps in the sequence, less the late arrivals that filled them
	outOfOrder  int64   // datagrams that came after a later one
	jitter      float64 // seconds, smoothed
	prevTransit float64
	seen        bool
}

// packet takes one datagram of the flow that arrived at now.
func (u *udpRecv) packet(b []byte, now time.Time) {
	if len(b) < udpHeaderLen {
		return
	}
	sent := time.Unix(int64(binary.BigEndian.Uint32(b)), int64(binary.BigEndian.Uint32(b[4:]))*1000)
	seq := int64(binary.BigEndian.Uint32(b[8:]))
	u.mu.Lock()
	defer u.mu.Unlock()
	if seq >= u.packets+1 {
		if seq > u.packets+1 {
			u.lost += seq - 1 - u.packets
		}
		u.packets = seq
	} else {
		u.outOfOrder++
		if u.lost > 0 {
			u.lost--
		}
	}
	transit := now.Sub(sent).Seconds()
	if u.seen {
		d := transit - u.prevTransit
		if d < 0 {
			d = -d
		}
		u.jitter += (d - u.jitter) / 16
	}
	u.prevTransit, u.seen = transit, true
}

func (u *udpRecv) snapshot() (packets, lost, outOfOrder int64, jitter float64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.packets, u.lost, u.outOfOrder, u.jitter
}

// udpSendLoop sends datagrams of block bytes paced to rate bits per
// second (0: as fast as the socket takes them) until stop closes or,
// with limit > 0, the streams sharing total have sent limit bytes.
func udpSendLoop(c net.Conn, block int, rate float64, limit int64, total *atomic.Int64, stop <-chan struct{}, s *perfStream) {
	buf := make([]byte, max(block, udpHeaderLen))
	for i := udpHeaderLen; i < len(buf); i++ {
		buf[i] = byte(i)
	}
	start := time.Now()
	var sent int64
	var wait *time.Timer
	for seq := uint32(1); ; seq++ {
		select {
		case <-stop:
			return
		default:
		}
		if rate > 0 {
			due := start.Add(time.Duration(float64(sent) * 8 / rate * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				if wait == nil {
					wait = time.NewTimer(d)
				} else {
					wait.Reset(d)
				}
				select {
				case <-stop:
					return
				case <-wait.C:
				}
			}
		}
		if limit > 0 && total.Add(int64(len(buf))) > limit {
			return
		}
		now := time.Now()
		binary.BigEndian.PutUint32(buf, uint32(now.Unix()))
		binary.BigEndian.PutUint32(buf[4:], uint32(now.Nanosecond()/1000))
		binary.BigEndian.PutUint32(buf[8:], seq)
		k, err := c.Write(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, net.ErrClosed) {
				return
			}
			// A full buffer or an ICMP error loses the datagram, as a
			// send that fails loses it for iperf3: the receiver counts
			// the gap.
			continue
		}
		sent += int64(k)
		s.n.Add(int64(k))
		s.packets.Add(1)
	}
}

// udpRecvLoop reads a client's flow until the connection closes.
func udpRecvLoop(c net.Conn, block int, s *perfStream, got func()) {
	buf := make([]byte, max(block, udpMaxBlock))
	for {
		k, err := c.Read(buf)
		if k > 0 {
			s.udpDatagram(buf[:k], time.Now())
			if got != nil {
				got()
			}
		}
		if err != nil {
			return
		}
	}
}

// udpDatagram counts one received datagram.
func (s *perfStream) udpDatagram(b []byte, now time.Time) {
	s.n.Add(int64(len(b)))
	s.lastRead.Store(now.UnixNano())
	s.udp.packet(b, now)
}

// udpHello sends a stream's hello until the server answers it.
func udpHello(c net.Conn, stop <-chan struct{}) error {
	buf := make([]byte, 64)
	for range 30 {
		if _, err := c.Write(udpWord(udpConnectMsg)); err != nil {
			return err
		}
		c.SetReadDeadline(time.Now().Add(time.Second))
		k, err := c.Read(buf)
		if err == nil && k == 4 {
			c.SetReadDeadline(time.Time{})
			if v := binary.LittleEndian.Uint32(buf); v == udpConnectReply || v == udpLegacyReply {
				return nil
			}
			return errors.New("perf: the server's UDP answer is not iperf3's")
		}
		select {
		case <-stop:
			return errors.New("perf: no answer to the UDP stream's hello")
		default:
		}
	}
	return errors.New("perf: no answer to the UDP stream's hello")
}

// udpPeer is a server's UDP stream: the flow from one client socket,
// over the server's one UDP socket, as a net.Conn for writing.
type udpPeer struct {
	pc    net.PacketConn
	local net.Addr // pc's address, with the address the client reached
	addr  net.Addr
	mu    *sync.Mutex // the streams share pc: one write at a time
}

func (p udpPeer) Read([]byte) (int, error) {
	return 0, errors.New("perf: udpPeer is read by its server")
}
func (p udpPeer) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pc.WriteTo(b, p.addr)
}
func (p udpPeer) Close() error                       { return nil }
func (p udpPeer) LocalAddr() net.Addr                { return p.local }
func (p udpPeer) RemoteAddr() net.Addr               { return p.addr }
func (p udpPeer) SetDeadline(t time.Time) error      { return p.pc.SetDeadline(t) }
func (p udpPeer) SetReadDeadline(t time.Time) error  { return p.pc.SetReadDeadline(t) }
func (p udpPeer) SetWriteDeadline(t time.Time) error { return p.pc.SetWriteDeadline(t) }

// udpAccept answers the hellos of n streams on pc, in their order, until
// ended closes or the wait times out. ctrl is the test's control
// connection: a socket bound to the wildcard address shows the address
// the client reached, as iperf3's connected socket does.
func udpAccept(pc net.PacketConn, ctrl net.Conn, n int, ended <-chan struct{}) ([]net.Conn, error) {
	local := pc.LocalAddr()
	if u, ok := local.(*net.UDPAddr); ok && u.IP.IsUnspecified() {
		if t, ok := ctrl.LocalAddr().(*net.TCPAddr); ok {
			local = &net.UDPAddr{IP: t.IP, Port: u.Port}
		}
	}
	var peers []net.Conn
	mu := &sync.Mutex{}
	known := map[string]bool{}
	buf := make([]byte, udpMaxBlock)
	deadline := time.Now().Add(streamTimeout)
	for len(peers) < n {
		select {
		case <-ended:
			return nil, errors.New("the client ended the test before its UDP streams")
		default:
		}
		if time.Now().After(deadline) {
			return nil, errors.New("the client opened no UDP streams")
		}
		pc.SetReadDeadline(time.Now().Add(250 * time.Millisecond))
		k, from, err := pc.ReadFrom(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return nil, err
		}
		if k != 4 || known[from.String()] {
			continue
		}
		known[from.String()] = true
		p := udpPeer{pc: pc, local: local, addr: from, mu: mu}
		if _, err := p.Write(udpWord(udpConnectReply)); err != nil {
			return nil, err
		}
		peers = append(peers, p)
	}
	pc.SetReadDeadline(time.Time{})
	return peers, nil
}

// udpServeRecv reads the flows of r's streams from pc until pc closes,
// each datagram counted to the stream of its source.
func udpServeRecv(pc net.PacketConn, r *perfRun) {
	by := map[string]*perfStream{}
	for _, s := range r.streams {
		by[s.conn.RemoteAddr().String()] = s
	}
	buf := make([]byte, udpMaxBlock)
	for {
		k, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		if s := by[from.String()]; s != nil {
			s.udpDatagram(buf[:k], time.Now())
		}
	}
}
