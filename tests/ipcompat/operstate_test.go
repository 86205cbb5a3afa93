package ipcompat

import "testing"

// OperState is the suite of operational states across down and up:
// loopback keeping what userspace set, a veth's state following the
// carrier, the qdisc a device keeps once it has been up.
// Regenerate as root: SCRIPT=operstate-script.txt OUT=operstate-iproute2.txt bash tests/ipcompat/gen.sh
var OperState = Suite{"operstate-script.txt", "operstate-iproute2.txt"}

func TestKernelOperState(t *testing.T) {
	for _, f := range runSuite(t, KernelTarget{}, OperState) {
		t.Error(f.Report)
	}
}

func TestUsnetOperState(t *testing.T) {
	for _, f := range runSuite(t, &UsnetTarget{}, OperState) {
		t.Error(f.Report)
	}
}
