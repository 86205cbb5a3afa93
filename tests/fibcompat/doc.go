// Package fibcompat checks usnet's route lookups against the kernel's:
// gen.sh applies the configurations of testdata/cases.txt to kernel
// network namespaces and records `ip -j route get` for each lookup in
// testdata/kernel.txt; the test replays the same configurations on a
// usnet FIB (no root needed) and compares type, destination, gateway,
// device, preferred source, table, flags, metrics and errors.
package fibcompat
