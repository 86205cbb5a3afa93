package iproute

// kindOps is how `ip link` handles one device kind (iproute2's struct
// link_util): parse turns the words after `type KIND` into
// IFLA_INFO_DATA, print shows IFLA_INFO_DATA under `-d` (inside the
// info_data object, which the caller opens). A slave kind ("bridge_slave",
// "bond_slave") is registered under that name: parse builds
// IFLA_INFO_SLAVE_DATA and print shows it inside info_slave_data.
//
// Kinds live in files of their own (kind_*.go) and register from init
// functions, so the table is fixed when the program starts.
type kindOps struct {
	parse func(s *session, args []string) ([]byte, error)
	print func(p *printer, data []byte)
}

var linkKinds = map[string]*kindOps{}

// registerKind adds the `ip link` handling of a device kind.
func registerKind(kind string, ops *kindOps) {
	if _, dup := linkKinds[kind]; dup {
		panic("iproute: kind registered twice: " + kind)
	}
	linkKinds[kind] = ops
}

// lookupKind returns the handling of kind, nil when usnet ip has none.
func lookupKind(kind string) *kindOps {
	return linkKinds[kind]
}
