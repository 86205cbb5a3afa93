package main

import (
	"errors"
	"flag"
	"os"
	"testing"
)

// TestEveryCommandParsesHelp runs each command with -h: its flags must be
// defined without clashing (a redefined flag panics before any parsing,
// as "usnet perf" once did on every run) and -h must end in flag.ErrHelp.
func TestEveryCommandParsesHelp(t *testing.T) {
	stderr := os.Stderr
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	for name, cmd := range commands {
		if name == "ip" || name == "bridge" {
			continue // iproute2's own argument parser, which exits like ip(8)
		}
		t.Run(name, func(t *testing.T) {
			defer func() {
				os.Stderr = stderr
				if r := recover(); r != nil {
					t.Fatalf("usnet %s -h panicked: %v", name, r)
				}
			}()
			os.Stderr = null
			err := cmd([]string{"-h"})
			if err != nil && !errors.Is(err, flag.ErrHelp) {
				t.Logf("usnet %s -h: %v", name, err)
			}
		})
	}
}
