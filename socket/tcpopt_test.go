package socket_test

import (
	"errors"
	"net"
	"syscall"
	"testing"
	"time"
)

// TestTCPOptionDefaults: connections start as Go's net package makes them
// (Nagle off, dialed and accepted alike), with the namespace's congestion
// control; TCP_CONGESTION changes one connection's algorithm and refuses
// an unknown name with ENOENT; TCP_QUICKACK reads back what was set.
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
	// TCP_QUICKACK reads 1 until the connection turns interactive.
	if !c.QuickAck() {
		t.Error("TCP_QUICKACK 0 on a new connection")
	}
	if err := c.SetQuickAck(false); err != nil || c.QuickAck() {
		t.Errorf("SetQuickAck(false): %v, QuickAck %v", err, c.QuickAck())
	}
	if err := c.SetQuickAck(true); err != nil || !c.QuickAck() {
		t.Errorf("SetQuickAck(true): %v, QuickAck %v", err, c.QuickAck())
	}
}

// TestTCPKeepaliveTimeout: with the peer gone silent, keepalive probes go
// unanswered and a blocked Read ends with ETIMEDOUT in a *net.OpError, as
// a Go program sees it from the kernel (idle 1 s, one probe).
func TestTCPKeepaliveTimeout(t *testing.T) {
	a, b := tcpPair(t)
	c, _, _ := dialAccept(t, a, b, 7302)
	if err := c.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true, Idle: time.Second, Interval: time.Second, Count: 1}); err != nil {
		t.Fatal(err)
	}
	// The peer vanishes: its device goes down, so probes are lost.
	b.Exec().Do(func() {
		d := b.Dev.ByName("eth0")
		d.Down()
	})
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	start := time.Now()
	_, err := c.Read(make([]byte, 1))
	var oe *net.OpError
	if !errors.As(err, &oe) || !errors.Is(err, syscall.ETIMEDOUT) {
		t.Fatalf("read: %v (%T), want a *net.OpError with ETIMEDOUT", err, err)
	}
	if el := time.Since(start); el < 1500*time.Millisecond {
		t.Fatalf("timed out after %v, before idle + one interval", el)
	}
}
