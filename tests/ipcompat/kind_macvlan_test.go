package ipcompat

import "testing"

// KindMacvlan is the macvlan suite (issue 8), recorded against the kernel
// with: SCRIPT=kind-macvlan-script.txt OUT=kind-macvlan-iproute2.txt bash tests/ipcompat/gen.sh
var KindMacvlan = Suite{"kind-macvlan-script.txt", "kind-macvlan-iproute2.txt"}

func TestKernelKindMacvlan(t *testing.T) {
	for _, f := range runSuite(t, KernelTarget{}, KindMacvlan) {
		t.Error(f.Report)
	}
}

func TestUsnetKindMacvlan(t *testing.T) {
	for _, f := range runSuite(t, &UsnetTarget{}, KindMacvlan) {
		t.Error(f.Report)
	}
}
