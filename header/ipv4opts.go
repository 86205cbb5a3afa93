package header

// IPv4 option types (include/uapi/linux/ip.h).
const (
	IPOptEnd       = 0
	IPOptNop       = 1
	IPOptSec       = 130
	IPOptLSRR      = 131
	IPOptTimestamp = 68
	IPOptCIPSO     = 134
	IPOptRR        = 7
	IPOptSID       = 136
	IPOptSSRR      = 137
	IPOptRA        = 148
)

// Timestamp option flags (low nibble of its fourth byte).
const (
	IPOptTSOnly    = 0 // IPOPT_TS_TSONLY
	IPOptTSAndAddr = 1 // IPOPT_TS_TSANDADDR
	IPOptTSPrespec = 3 // IPOPT_TS_PRESPEC
)

// IPv4Option is one option as found by IPv4OptionIter.
type IPv4Option struct {
	Type uint8
	// Offset is the option's position from the start of the IP header,
	// the unit ICMP parameter problem pointers use.
	Offset int
	// Data is the whole option (type, length and body) or the single
	// byte of EOL/NOP. It aliases the header.
	Data []byte
}

// IPv4OptionIter walks an option area applying only the generic TLV
// rules of ip_options_compile: a multi-byte option needs its length byte,
// a length of at least 2 and no more than what is left. EOL ends the
// walk; bytes after it are padding.
type IPv4OptionIter struct {
	b    []byte
	off  int
	base int
	bad  int
	err  error
}

// OptionIter returns an iterator over h's options.
func (h IPv4) OptionIter() IPv4OptionIter {
	return IPv4OptionIter{b: h.Options(), base: IPv4MinLen}
}

var errOptTLV = newErr("ipv4: option length byte missing, below 2 or past the header", ErrBadOption)

// Next returns the next option, or false at the end of the options or on
// a malformed one (see Err).
func (it *IPv4OptionIter) Next() (IPv4Option, bool) {
	if it.err != nil || it.off >= len(it.b) {
		return IPv4Option{}, false
	}
	p := it.b[it.off:]
	o := IPv4Option{Type: p[0], Offset: it.base + it.off}
	switch p[0] {
	case IPOptEnd:
		o.Data = p[:1]
		it.off = len(it.b)
		return o, true
	case IPOptNop:
		o.Data = p[:1]
		it.off++
		return o, true
	}
	if len(p) < 2 || p[1] < 2 || int(p[1]) > len(p) {
		it.err, it.bad = errOptTLV, o.Offset
		return IPv4Option{}, false
	}
	o.Data = p[:p[1]]
	it.off += int(p[1])
	return o, true
}

// Err returns the error that stopped the walk, if any, and the offset
// from the start of the IP header of the byte at fault.
func (it *IPv4OptionIter) Err() (pointer int, err error) { return it.bad, it.err }

// IPv4Options is the result of checking a header's options, the
// counterpart of struct ip_options. Offsets are from the start of the IP
// header; zero means absent.
type IPv4Options struct {
	Len         int  // option area length (IHL*4 - 20)
	SRR         int  // LSRR or SSRR
	StrictRoute bool // SRR is SSRR
	RR          int  // record route
	RRNeedAddr  bool // RR has room for another address
	TS          int  // timestamp
	TSNeedTime  bool // TS has room and wants a time (TSONLY, TSANDADDR)
	TSNeedAddr  bool // TS has room and wants an address (TSANDADDR)
	TSPrespec   bool // TS has room and is prespecified: the caller decides, by whether the next listed address is local, whether to stamp it
	RouterAlert int  // router alert with value 0
	CIPSO       int
}

var (
	errOptDup     = newErr("ipv4: option repeated", ErrBadOption)
	errOptShort   = newErr("ipv4: option too short for its type", ErrBadOption)
	errOptPointer = newErr("ipv4: option pointer out of range", ErrBadOption)
	errOptTSOver  = newErr("ipv4: timestamp overflow counter at 15", ErrBadOption)
)

// ParseOptions checks h's options with the rules ip_options_compile
// applies to a received datagram and fills o. On error it returns the
// pointer (offset from the start of the IP header) Linux puts into the
// ICMP parameter problem it sends. The options are not modified: the
// pointer advances and stamps Linux writes are the forwarding path's job.
// Options Linux accepts without looking inside (security, stream ID,
// unknown types, CIPSO apart from duplicates) are skipped.
func (h IPv4) ParseOptions(o *IPv4Options) (pointer int, err error) {
	*o = IPv4Options{Len: h.HeaderLen() - IPv4MinLen}
	it := h.OptionIter()
	for {
		opt, ok := it.Next()
		if !ok {
			return it.Err()
		}
		if p, err := o.compile(opt); err != nil {
			return p, err
		}
	}
}

// compile applies the per-type rules to one option; d has at least two
// bytes and d[1] == len(d) for every type that reaches the switch.
func (o *IPv4Options) compile(opt IPv4Option) (int, error) {
	d, at := opt.Data, opt.Offset
	switch opt.Type {
	case IPOptLSRR, IPOptSSRR:
		if len(d) < 3 {
			return at + 1, errOptShort
		}
		if d[2] < 4 {
			return at + 2, errOptPointer
		}
		if o.SRR != 0 { // RFC 1812 5.2.4.1: at most one source route
			return at, errOptDup
		}
		o.SRR, o.StrictRoute = at, opt.Type == IPOptSSRR
	case IPOptRR:
		if o.RR != 0 {
			return at, errOptDup
		}
		if len(d) < 3 {
			return at + 1, errOptShort
		}
		if d[2] < 4 {
			return at + 2, errOptPointer
		}
		if int(d[2]) <= len(d) {
			if int(d[2])+3 > len(d) {
				return at + 2, errOptPointer
			}
			o.RRNeedAddr = true
		}
		o.RR = at
	case IPOptTimestamp:
		if o.TS != 0 {
			return at, errOptDup
		}
		if len(d) < 4 {
			return at + 1, errOptShort
		}
		if d[2] < 5 {
			return at + 2, errOptPointer
		}
		if int(d[2]) <= len(d) {
			if int(d[2])+3 > len(d) {
				return at + 2, errOptPointer
			}
			switch d[3] & 0xf {
			case IPOptTSOnly:
				o.TSNeedTime = true
			case IPOptTSAndAddr, IPOptTSPrespec:
				if int(d[2])+7 > len(d) {
					return at + 2, errOptPointer
				}
				if d[3]&0xf == IPOptTSAndAddr {
					o.TSNeedAddr, o.TSNeedTime = true, true
				} else {
					o.TSPrespec = true
				}
			}
		} else if d[3]&0xf != IPOptTSPrespec && d[3]>>4 == 15 {
			// Full: Linux bumps the overflow counter and rejects the
			// option once the counter cannot count any more.
			return at + 3, errOptTSOver
		}
		o.TS = at
	case IPOptRA:
		if len(d) < 4 {
			return at + 1, errOptShort
		}
		if d[2] == 0 && d[3] == 0 {
			o.RouterAlert = at
		}
	case IPOptCIPSO:
		if o.CIPSO != 0 {
			return at, errOptDup
		}
		o.CIPSO = at
	}
	return 0, nil
}

// AppendRouterAlert appends a router alert option (RFC 2113, value 0), as
// IGMP puts on its reports. It is exactly four bytes, so it keeps an
// option area aligned.
func AppendRouterAlert(b []byte) []byte { return append(b, IPOptRA, 4, 0, 0) }
