package ipcompat

import (
	"strings"
	"testing"
)

// KindMacvlan is the macvlan suite (issue 8), recorded against the kernel
// with: SCRIPT=kind-macvlan-script.txt OUT=kind-macvlan-iproute2.txt bash tests/ipcompat/gen.sh
var KindMacvlan = Suite{"kind-macvlan-script.txt", "kind-macvlan-iproute2.txt"}

// macvlanCoreKeys normalises what rtnl's core, not the macvlan kind,
// reports differently: usnet has no IPv6, so no addrgenmode (rtnl/doc.go).
var macvlanCoreKeys = strings.NewReplacer(
	`addrgenmode eui64 `, ``,
	`"inet6_addr_gen_mode":"eui64",`, ``,
)

func macvlanOnlyCoreKeys(report string) bool {
	_, rest, ok := strings.Cut(report, "stdout:\n--- usnet ip\n")
	if !ok || strings.Contains(report, "exit status") || strings.Contains(report, "stderr:") {
		return false
	}
	got, want, ok := strings.Cut(rest, "--- iproute2\n")
	return ok && macvlanCoreKeys.Replace(got) == macvlanCoreKeys.Replace(want)
}

// linkWordMissing reports whether a failure comes from `usnet ip link`
// not parsing the "link DEV" keyword of iproute2's iplink_parse yet
// (iproute/link.go parseLinkArgs), which every macvlan creation needs.
func TestKernelKindMacvlan(t *testing.T) {
	for _, f := range runSuite(t, KernelTarget{}, KindMacvlan) {
		t.Error(f.Report)
	}
}

func TestUsnetKindMacvlan(t *testing.T) {
	for _, f := range runSuite(t, &UsnetTarget{}, KindMacvlan) {
		if macvlanOnlyCoreKeys(f.Report) {
			continue
		}
		t.Error(f.Report)
	}
}
