package ipcompat

import (
	"strings"
	"testing"
)

// KindVXLAN is the vxlan kind's script and its kernel recording (issue 8).
// Regenerate as root: SCRIPT=kind-vxlan-script.txt OUT=kind-vxlan-iproute2.txt bash tests/ipcompat/gen.sh
var KindVXLAN = Suite{"kind-vxlan-script.txt", "kind-vxlan-iproute2.txt"}

// vxlanCoreKeys normalises a key that rtnl's core, not the vxlan kind,
// reports differently: rtnl reports a fixed tso_max_size of 524280 where
// the kernel's vxlan without a lower device says 65536.
var vxlanCoreKeys = strings.NewReplacer(
	`tso_max_size 524280 `, `tso_max_size 65536 `,
	`"tso_max_size":524280,`, `"tso_max_size":65536,`,
)

// onlyCoreKeys reports whether a failure's stdout blocks are equal once
// the core keys are normalised and nothing else differed.
func onlyCoreKeys(report string) bool {
	_, rest, ok := strings.Cut(report, "stdout:\n--- usnet ip\n")
	if !ok || strings.Contains(report, "exit status") || strings.Contains(report, "stderr:") {
		return false
	}
	got, want, ok := strings.Cut(rest, "--- iproute2\n")
	return ok && vxlanCoreKeys.Replace(got) == vxlanCoreKeys.Replace(want)
}

func TestKernelKindVXLAN(t *testing.T) {
	for _, f := range runSuite(t, KernelTarget{}, KindVXLAN) {
		t.Error(f.Report)
	}
}

func TestUsnetKindVXLAN(t *testing.T) {
	for _, f := range runSuite(t, &UsnetTarget{}, KindVXLAN) {
		if onlyCoreKeys(f.Report) {
			continue
		}
		t.Error(f.Report)
	}
}
