package netlink

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// DefaultDumpSize is the datagram size the kernel aims for when it fills
// a dump skb (32 KiB, see netlink_dump's alloc_min_size logic).
const DefaultDumpSize = 32 << 10

// DumpWriter packs the replies of a dump into datagrams of at most a given
// size (a larger message alone in its own), never splitting a message,
// each message flagged NLM_F_MULTI, and
// ends the dump with NLMSG_DONE placed in the last datagram when it fits,
// as netlink_dump does. All datagrams live in one reusable buffer.
//
//	w.Reset(seq, portid)
//	for each object { start := w.Begin(type); encode into w.Encoder(); w.End(start) }
//	w.Finish(0)
//	for i := range w.NumDatagrams() { send(w.Datagram(i)) }
type DumpWriter struct {
	// MaxSize is the datagram size limit; 0 means DefaultDumpSize.
	MaxSize int
	// Flags are added to every message and the NLMSG_DONE
	// (e.g. NLM_F_DUMP_FILTERED, the kernel's cb->answer_flags).
	Flags uint16
	// ExtAck is set when the socket enabled NETLINK_EXT_ACK, so Finish
	// may attach a message to NLMSG_DONE.
	ExtAck bool

	enc    AttributeEncoder
	ends   []int // end offset of each closed datagram
	dstart int   // start of the open datagram
	seq    uint32
	portid uint32
	intr   bool
}

// Reset clears the writer for a new dump answering sequence number seq to
// the socket with port id portid, keeping its buffers.
func (w *DumpWriter) Reset(seq, portid uint32) {
	w.enc.Reset(w.enc.b[:0])
	w.ends = w.ends[:0]
	w.dstart, w.seq, w.portid, w.intr = 0, seq, portid, false
}

func (w *DumpWriter) max() int {
	if w.MaxSize > 0 {
		return w.MaxSize
	}
	return DefaultDumpSize
}

// MarkInterrupted records that the dumped table changed while it was being
// walked (the kernel's nl_dump_check_consistent): the message being built,
// every later one and the NLMSG_DONE carry NLM_F_DUMP_INTR.
func (w *DumpWriter) MarkInterrupted() { w.intr = true }

// Begin starts a message of the given type and returns its start for End.
// The payload is encoded through Encoder.
func (w *DumpWriter) Begin(typ uint16) int {
	return w.enc.BeginMessage(Header{Type: typ, Flags: w.flags(), Seq: w.seq, Pid: w.portid})
}

func (w *DumpWriter) flags() uint16 {
	f := unix.NLM_F_MULTI | w.Flags
	if w.intr {
		f |= unix.NLM_F_DUMP_INTR
	}
	return f
}

// Encoder returns the encoder that message payloads are appended with.
func (w *DumpWriter) Encoder() *AttributeEncoder { return &w.enc }

// End closes the message begun at start. When the message does not fit in
// the open datagram, the datagram is closed before it. A message larger
// than a whole datagram travels alone in a datagram of its own size, as
// the kernel sizes a link dump's skb for its largest message
// (min_dump_alloc): a macvlan with thousands of source addresses is
// still listed.
func (w *DumpWriter) End(start int) error {
	if err := w.enc.Err(); err != nil {
		w.enc.b, w.enc.err = w.enc.b[:start], nil
		return err
	}
	w.enc.EndMessage(start)
	// Flags may have changed (MarkInterrupted) since Begin.
	binary.NativeEndian.PutUint16(w.enc.b[start+6:], w.flags())
	size := len(w.enc.b) - start
	if size > w.max() {
		if start > w.dstart {
			w.ends = append(w.ends, start)
		}
		w.ends = append(w.ends, len(w.enc.b))
		w.dstart = len(w.enc.b)
		return nil
	}
	if len(w.enc.b)-w.dstart > w.max() {
		w.ends = append(w.ends, start)
		w.dstart = start
	}
	return nil
}

// Add appends a message whose payload is already encoded.
func (w *DumpWriter) Add(typ uint16, payload []byte) error {
	start := w.Begin(typ)
	w.enc.b = append(w.enc.b, payload...)
	w.enc.b = appendPad(w.enc.b, len(payload))
	return w.End(start)
}

// Finish appends NLMSG_DONE carrying errno (0, or a negative errno for a
// dump that failed part way) and closes the last datagram. msg is an
// optional extended-ACK message sent only when ExtAck is set.
func (w *DumpWriter) Finish(errno int32, msg string) {
	var extra uint16
	if w.intr {
		extra = unix.NLM_F_DUMP_INTR
	}
	start := len(w.enc.b)
	w.enc.b = AppendDone(w.enc.b, w.seq, w.portid, w.Flags|extra, errno, w.ExtAck, msg)
	if start > w.dstart && len(w.enc.b)-w.dstart > w.max() {
		w.ends = append(w.ends, start)
		w.dstart = start
	}
	w.ends = append(w.ends, len(w.enc.b))
	w.dstart = len(w.enc.b)
}

// NumDatagrams returns the number of closed datagrams.
func (w *DumpWriter) NumDatagrams() int { return len(w.ends) }

// Datagram returns closed datagram i; it aliases the writer's buffer.
func (w *DumpWriter) Datagram(i int) []byte {
	s := 0
	if i > 0 {
		s = w.ends[i-1]
	}
	return w.enc.b[s:w.ends[i]]
}
