package tcp

import "testing"

// TestCookieTSVal: the options take the low six bits, and the value never
// runs ahead of the clock (cookie_init_timestamp).
func TestCookieTSVal(t *testing.T) {
	for _, c := range []struct{ now, opts, want uint32 }{
		{1000, 0x17, 983},              // 960|0x17 is in the past already
		{965, 0x3f, 959},               // 960|0x3f would be ahead: one 64 ms step back
		{64, 0x00, 64},                 // exact
		{5, 0x3f, 0xffffffff},          // wraps below zero as the 32-bit clock does
		{0xfffffff0, 0x07, 0xffffffc7}, // high values
	} {
		if got := cookieTSVal(c.now, c.opts); got != c.want {
			t.Errorf("cookieTSVal(%d, %#x) = %d, want %d", c.now, c.opts, got, c.want)
		}
		if got := cookieTSVal(c.now, c.opts); got&0x3f != c.opts {
			t.Errorf("cookieTSVal(%d, %#x) low bits %#x", c.now, c.opts, got&0x3f)
		}
	}
}
