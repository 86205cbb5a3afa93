package ipv4

import (
	"net/netip"
	"reflect"
	"testing"
)

// TestSameFlow: sameFlow tells apart keys that differ in any one field,
// so a field added to FlowKey and forgotten there fails here.
func TestSameFlow(t *testing.T) {
	base := FlowKey{
		Dst: netip.MustParseAddr("10.0.2.2"), Src: netip.MustParseAddr("10.0.1.2"),
		Oif: 3, Iif: 2, Mark: 7, TOS: 0x10, Proto: 17, Sport: 5000, Dport: 9,
	}
	if k := base; !sameFlow(&base, &k) {
		t.Fatal("equal keys differ")
	}
	v := reflect.ValueOf(&base).Elem()
	for i := range v.NumField() {
		k := base
		f := reflect.ValueOf(&k).Elem().Field(i)
		switch f.Kind() {
		case reflect.Int:
			f.SetInt(f.Int() + 1)
		case reflect.Uint8, reflect.Uint16, reflect.Uint32:
			f.SetUint(f.Uint() + 1)
		default:
			if a, ok := f.Interface().(netip.Addr); ok {
				f.Set(reflect.ValueOf(a.Next()))
				break
			}
			t.Fatalf("field %s: kind %v not covered by this test", v.Type().Field(i).Name, f.Kind())
		}
		if sameFlow(&base, &k) {
			t.Errorf("keys differing in %s compare equal", v.Type().Field(i).Name)
		}
	}
}
