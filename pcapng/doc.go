// Package pcapng writes and reads pcapng capture files: the format
// Wireshark and tcpdump use, defined by the IETF OPSAWG pcapng draft.
// Its one job is to turn usnet's captured frames into a file tshark can
// read, and back.
//
// The writer emits a Section Header Block, one Interface Description
// Block per captured device (name, description, snaplen and
// if_tsresol = 9, so timestamps are nanoseconds), and one Enhanced
// Packet Block per frame carrying its direction in epb_flags and an
// optional comment. Interfaces may be added at any point; pcapng only
// requires an interface's block to come before its first packet.
//
// Output is byte-for-byte deterministic: the writer never reads the
// clock (the caller passes each timestamp, possibly from a virtual
// clock), and the section header carries no hostname, OS or hardware,
// only an optional shb_userappl. Files are always little-endian for the
// same reason.
//
// Why not gopacket's pcapgo.NgWriter: it can write epb_flags and
// nanosecond timestamps, but each packet written with options costs
// allocations (two per packet with a direction, five with a comment, in
// v1.7.7, because options are boxed into a freshly built slice), it
// takes time.Time rather than the caller's int64 nanoseconds, it
// silently truncates option values longer than 65535 bytes, and its
// interface type drags in the whole layers package. A direct encoder is
// a few dozen lines and writes a packet with no allocation at all.
//
// The reader parses what the writer produces and the common variants
// other tools write (either byte order, any if_tsresol, if_tsoffset,
// several sections); it skips block types it does not know. It rejects
// malformed input with an error wrapping ErrFormat and never panics.
package pcapng
