package sysctl

import (
	"math"
	"strings"
	"syscall"
)

// parseVec parses up to len(cur) integers into cur, as the kernel's
// proc_get_long does: blanks separate, a value is decimal, 0x hex or 0
// octal with an optional '-', values past len(cur) are ignored and those
// not given keep their current value. No value at all, a '+', or a value
// followed by anything but a blank is EINVAL.
func parseVec(s string, cur []int64) error {
	f := strings.Fields(s)
	if len(f) == 0 {
		return syscall.EINVAL
	}
	for i := 0; i < len(cur) && i < len(f); i++ {
		v, ok := parseInt(f[i])
		if !ok {
			return syscall.EINVAL
		}
		cur[i] = v
	}
	return nil
}

// parseInt is strtoul with base 0 and an optional leading '-'; values
// beyond ±2^63 are refused.
func parseInt(s string) (int64, bool) {
	neg := false
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	base := uint64(10)
	switch {
	case len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X"):
		base, s = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base, s = 8, s[1:]
	}
	if s == "" {
		return 0, false
	}
	var v uint64
	for _, c := range []byte(s) {
		var d uint64
		switch {
		case c >= '0' && c <= '9':
			d = uint64(c - '0')
		case c >= 'a' && c <= 'f':
			d = uint64(c-'a') + 10
		case c >= 'A' && c <= 'F':
			d = uint64(c-'A') + 10
		default:
			return 0, false
		}
		if d >= base || v > (math.MaxInt64-d)/base {
			return 0, false
		}
		v = v*base + d
	}
	if neg {
		return -int64(v), true
	}
	return int64(v), true
}

// inRange checks every value against [lo, hi].
func inRange(v []int64, lo, hi int64) error {
	for _, x := range v {
		if x < lo || x > hi {
			return syscall.EINVAL
		}
	}
	return nil
}
