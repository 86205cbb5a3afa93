package iproute

import (
	"bytes"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// mode says where a field goes: both outputs, text only or JSON only.
type mode uint8

const (
	anyOut mode = iota
	textOnly
	jsonOnly
)

// printer writes either iproute2's text output or its JSON (compact, or
// indented with -p in iproute2's own layout: "[ {", members on their own
// lines indented four spaces per level, "} ]").
type printer struct {
	b      bytes.Buffer
	json   bool
	pretty bool
	stack  []frame
	// ifname names an ifindex for kind printers (ll_index_to_name).
	ifname func(int32) string
}

type frame struct {
	array    bool
	nonEmpty bool
}

func (p *printer) text(format string, a ...any) {
	if !p.json {
		fmt.Fprintf(&p.b, format, a...)
	}
}

// textRaw writes s verbatim in text mode.
func (p *printer) textRaw(s string) {
	if !p.json {
		p.b.WriteString(s)
	}
}

func (p *printer) indent(n int) {
	for range n {
		p.b.WriteString("    ")
	}
}

// member writes what precedes a value: the separator, in an object the
// key, and in pretty mode the newline and indentation.
func (p *printer) member(key string) {
	if len(p.stack) == 0 {
		return
	}
	f := &p.stack[len(p.stack)-1]
	if f.nonEmpty {
		p.b.WriteByte(',')
	}
	f.nonEmpty = true
	if f.array {
		return
	}
	if p.pretty {
		p.b.WriteByte('\n')
		p.indent(len(p.stack))
	}
	p.b.WriteString(quote(key))
	p.b.WriteByte(':')
	if p.pretty {
		p.b.WriteByte(' ')
	}
}

func (p *printer) openArray(key string) {
	if !p.json {
		return
	}
	p.member(key)
	p.b.WriteByte('[')
	if p.pretty {
		p.b.WriteByte(' ')
	}
	p.stack = append(p.stack, frame{array: true})
}

func (p *printer) closeArray() {
	if !p.json || len(p.stack) == 0 {
		return
	}
	f := p.stack[len(p.stack)-1]
	p.stack = p.stack[:len(p.stack)-1]
	if p.pretty && f.nonEmpty {
		p.b.WriteByte(' ')
	}
	p.b.WriteByte(']')
}

func (p *printer) openObject(key string) {
	if !p.json {
		return
	}
	p.member(key)
	p.b.WriteByte('{')
	p.stack = append(p.stack, frame{})
}

func (p *printer) closeObject() {
	if !p.json || len(p.stack) == 0 {
		return
	}
	f := p.stack[len(p.stack)-1]
	p.stack = p.stack[:len(p.stack)-1]
	if p.pretty && f.nonEmpty {
		p.b.WriteByte('\n')
		p.indent(len(p.stack))
	}
	p.b.WriteByte('}')
}

func (p *printer) jsonValue(key, v string) {
	p.member(key)
	p.b.WriteString(v)
}

// str prints a string field: JSON "key":"v", text format with v.
func (p *printer) str(m mode, key, format, v string) {
	if p.json {
		if m != textOnly {
			p.jsonValue(key, quote(v))
		}
	} else if m != jsonOnly {
		fmt.Fprintf(&p.b, format, v)
	}
}

// uint prints an unsigned number field.
func (p *printer) uint(m mode, key, format string, v uint64) {
	if p.json {
		if m != textOnly {
			p.jsonValue(key, strconv.FormatUint(v, 10))
		}
	} else if m != jsonOnly {
		fmt.Fprintf(&p.b, format, v)
	}
}

// int prints a signed number field.
func (p *printer) int(m mode, key, format string, v int64) {
	if p.json {
		if m != textOnly {
			p.jsonValue(key, strconv.FormatInt(v, 10))
		}
	} else if m != jsonOnly {
		fmt.Fprintf(&p.b, format, v)
	}
}

// flag prints a JSON true / a literal text word.
func (p *printer) flag(m mode, key, text string) {
	if p.json {
		if m != textOnly {
			p.jsonValue(key, "true")
		}
	} else if m != jsonOnly {
		p.b.WriteString(text)
	}
}

// null prints a JSON null / a literal text word (iproute2's print_null).
func (p *printer) null(m mode, key, text string) {
	if p.json {
		if m != textOnly {
			p.jsonValue(key, "null")
		}
	} else if m != jsonOnly {
		p.b.WriteString(text)
	}
}

// quote encodes s as a JSON string the way iproute2's writer does.
func quote(s string) string {
	var b []byte
	b = append(b, '"')
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\t':
			b = append(b, '\\', 't')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r == '\b':
			b = append(b, '\\', 'b')
		case r == '\f':
			b = append(b, '\\', 'f')
		case r < 0x20:
			b = fmt.Appendf(b, "\\u%04x", r)
		default:
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return string(append(b, '"'))
}
