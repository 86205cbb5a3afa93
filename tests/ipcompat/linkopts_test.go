package ipcompat

import "testing"

// LinkOpts is the suite of link options rtnl's core handles for every
// kind (queue counts, addrgenmode), with its kernel recording.
// Regenerate as root: SCRIPT=linkopts-script.txt OUT=linkopts-iproute2.txt bash tests/ipcompat/gen.sh
var LinkOpts = Suite{"linkopts-script.txt", "linkopts-iproute2.txt"}

func TestKernelLinkOpts(t *testing.T) {
	for _, f := range runSuite(t, KernelTarget{}, LinkOpts) {
		t.Error(f.Report)
	}
}

func TestUsnetLinkOpts(t *testing.T) {
	for _, f := range runSuite(t, &UsnetTarget{}, LinkOpts) {
		t.Error(f.Report)
	}
}
