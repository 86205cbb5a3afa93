package socket_test

import (
	"errors"
	"syscall"
	"testing"
)

// TestTCPOptionDefaults: connections start as Go's net package makes them
// (Nagle off, dialed and accepted alike), with the namespace's congestion
// control; TCP_CONGESTION changes one connection's algorithm and refuses
// an unknown name with ENOENT.
func TestTCPOptionDefaults(t *testing.T) {
	a, b := tcpPair(t)
	b.Exec().Do(func() { b.TCP.Sysctl.CongestionControl = "reno" })
	c, s, _ := dialAccept(t, a, b, 7301)
	if !c.NoDelay() || !s.NoDelay() {
		t.Errorf("Nagle on (dialed: %v, accepted: %v), want off as Go's net package sets it", !c.NoDelay(), !s.NoDelay())
	}
	if got := c.Congestion(); got != "cubic" {
		t.Errorf("dialed from a cubic namespace: %q", got)
	}
	if got := s.Congestion(); got != "reno" {
		t.Errorf("accepted in a reno namespace: %q", got)
	}
	if err := c.SetCongestion("reno"); err != nil {
		t.Fatal(err)
	}
	if got, info := c.Congestion(), c.Info().Congestion; got != "reno" || info != "reno" {
		t.Errorf("after TCP_CONGESTION reno: %q, Info %q", got, info)
	}
	if err := c.SetCongestion("bbr-next"); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("unknown algorithm: %v, want ENOENT", err)
	}
	if err := c.SetNoDelay(false); err != nil || c.NoDelay() {
		t.Errorf("SetNoDelay(false): %v, NoDelay %v", err, c.NoDelay())
	}
}
