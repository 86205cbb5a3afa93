package fib

// SetDefaultRulesShortcut forces the default-rules lookup on or off, so
// that tests can compare it with the rule walk on the same state.
func SetDefaultRulesShortcut(f *FIB, on bool) { f.defaultRules = on }

// DefaultRulesShortcut reports whether lookups skip the rule walk.
func DefaultRulesShortcut(f *FIB) bool { return f.defaultRules }
