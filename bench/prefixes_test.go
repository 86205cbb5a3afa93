package bench

import "testing"

func TestRandomPrefixesDeterministic(t *testing.T) {
	a, b := RandomPrefixes(5000), RandomPrefixes(5000)
	seen := map[string]bool{}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("prefix %d differs: %v %v", i, a[i], b[i])
		}
		if a[i] != a[i].Masked() || a[i].Bits() < 8 || a[i].Bits() > 24 {
			t.Fatalf("bad prefix %v", a[i])
		}
		if seen[a[i].String()] {
			t.Fatalf("duplicate %v", a[i])
		}
		seen[a[i].String()] = true
	}
	l := LookupAddrs(a, 100)
	for i := 0; i < len(l); i += 2 {
		found := false
		for _, p := range a {
			if p.Contains(l[i]) {
				found = true
				break
			}
		}
		if !found {
			t.Fatalf("lookup address %v should hit a prefix", l[i])
		}
	}
}
