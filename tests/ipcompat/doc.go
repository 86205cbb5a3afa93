// Package ipcompat checks that `usnet ip` (package iproute) behaves as
// iproute2's ip(8): the same script of ip commands is run with iproute2
// (recorded by gen.sh into testdata/iproute2.txt) and with usnet ip
// against a fresh namespace, and the normalized outputs, error messages
// and exit codes must match. The namespace is reached through a Target,
// so the same script can be replayed against the kernel (today) and the
// usnet daemon (later).
package ipcompat
