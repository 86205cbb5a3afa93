package fib

import (
	"fmt"
	"slices"
	"syscall"

	"golang.org/x/sys/unix"
)

// maxRules bounds the rule list.
const maxRules = 32768

// Rules returns the rules in evaluation order.
func (f *FIB) Rules() []Rule { return slices.Clone(f.rules) }

// AddRule inserts a rule (fib_nl_newrule) after the rules of the same
// priority.
func (f *FIB) AddRule(r Rule, nlflags uint16, info Info) error {
	if len(f.rules) >= maxRules {
		return fmt.Errorf("too many rules: %w", syscall.ENOSPC)
	}
	switch r.Action {
	case unix.FR_ACT_TO_TBL:
		if r.Table == 0 {
			return fmt.Errorf("no table: %w", syscall.EINVAL)
		}
	case unix.FR_ACT_GOTO:
		if r.Goto <= r.Priority && r.Priority != 0 {
			return extErr(syscall.EINVAL, "Backward goto not supported")
		}
	case unix.FR_ACT_NOP, unix.FR_ACT_BLACKHOLE, unix.FR_ACT_UNREACHABLE, unix.FR_ACT_PROHIBIT:
	default:
		return fmt.Errorf("invalid rule action: %w", syscall.EINVAL)
	}
	if r.Src.IsValid() {
		r.Src = r.Src.Masked()
	}
	if r.Dst.IsValid() {
		r.Dst = r.Dst.Masked()
	}
	if r.Mask == 0 && r.Mark != 0 {
		r.Mask = 0xffffffff
	}
	if r.Priority == 0 {
		// No priority given (FRA_PRIORITY absent): the kernel picks one
		// below the first rule with a non-zero priority. (Priority 0
		// itself is the local rule's and cannot be given here.)
		for _, o := range f.rules {
			if o.Priority != 0 {
				r.Priority = o.Priority - 1
				break
			}
		}
	}
	if nlflags&unix.NLM_F_EXCL != 0 {
		for _, o := range f.rules {
			if sameRule(&o, &r) {
				return fmt.Errorf("rule exists: %w", syscall.EEXIST)
			}
		}
	}
	pos := len(f.rules)
	for i, o := range f.rules {
		if o.Priority > r.Priority {
			pos = i
			break
		}
	}
	f.rules = slices.Insert(f.rules, pos, r)
	f.customRules = true
	f.rulesChanged()
	f.emit(RuleAdd, nil, &f.rules[pos], info)
	return nil
}

// rulesChanged recomputes what the lookup derives from the rule list:
// whether it is the default one (local, main, default, each matching
// every packet), which lookupDefault relies on. Every change of f.rules
// calls it.
func (f *FIB) rulesChanged() {
	f.flushCache()
	f.defaultRules = len(f.rules) == 3 &&
		plainRule(&f.rules[0], unix.RT_TABLE_LOCAL) &&
		plainRule(&f.rules[1], unix.RT_TABLE_MAIN) &&
		plainRule(&f.rules[2], unix.RT_TABLE_DEFAULT)
}

// plainRule reports whether r sends every packet to table id: no
// selector, no inversion, no suppression.
func plainRule(r *Rule, id uint32) bool {
	return r.Action == unix.FR_ACT_TO_TBL && r.Table == id &&
		!r.Src.IsValid() && !r.Dst.IsValid() && r.IIf == "" && r.OIf == "" &&
		r.Mark|r.Mask == 0 && r.TOS == 0 && r.IPProto == 0 && r.Sport.any() && r.Dport.any() &&
		r.Flags&unix.FIB_RULE_INVERT == 0 && r.SuppressPrefixLen < 0 && r.SuppressIfgroup < 0
}

func sameRule(a, b *Rule) bool {
	return a.Priority == b.Priority && a.Src == b.Src && a.Dst == b.Dst && a.IIf == b.IIf && a.OIf == b.OIf &&
		a.Mark == b.Mark && a.Mask == b.Mask && a.TOS == b.TOS && a.IPProto == b.IPProto && a.Sport == b.Sport &&
		a.Dport == b.Dport && a.Action == b.Action && a.Table == b.Table && a.Goto == b.Goto &&
		a.SuppressPrefixLen == b.SuppressPrefixLen && a.Flags == b.Flags
}

// CustomRules reports whether a rule was ever added. Until then Linux
// keeps tables local and main merged in one trie (fib_unmerge undoes
// that on the first custom rule), so lookups report table main for
// local routes too.
func (f *FIB) CustomRules() bool { return f.customRules }

// DelRule removes the first rule matching the given fields
// (fib_nl_delrule): zero fields are wildcards; ENOENT when none.
func (f *FIB) DelRule(r Rule, info Info) error {
	for i, o := range f.rules {
		if r.Priority != 0 && o.Priority != r.Priority ||
			r.Src.IsValid() && o.Src != r.Src.Masked() || r.Dst.IsValid() && o.Dst != r.Dst.Masked() ||
			r.IIf != "" && o.IIf != r.IIf || r.OIf != "" && o.OIf != r.OIf ||
			r.Mark != 0 && o.Mark != r.Mark || r.TOS != 0 && o.TOS != r.TOS ||
			r.IPProto != 0 && o.IPProto != r.IPProto || !r.Sport.any() && o.Sport != r.Sport ||
			!r.Dport.any() && o.Dport != r.Dport ||
			r.Action != 0 && o.Action != r.Action || r.Table != 0 && o.Table != r.Table {
			continue
		}
		f.rules = slices.Delete(f.rules, i, i+1)
		f.rulesChanged()
		f.emit(RuleDel, nil, &o, info)
		return nil
	}
	return fmt.Errorf("no such rule: %w", syscall.ENOENT)
}

// match is fib4_rule_match plus the generic selectors.
func (f *FIB) ruleMatches(r *Rule, k *lookupKey) bool {
	ok := true
	if r.IIf != "" {
		d := f.dev(k.iif)
		ok = d != nil && d.Name() == r.IIf
	}
	if ok && r.OIf != "" {
		d := f.dev(k.oif)
		ok = d != nil && d.Name() == r.OIf
	}
	if ok && (r.Mark|r.Mask) != 0 {
		ok = (k.mark^r.Mark)&r.Mask == 0
	}
	if ok && r.Src.IsValid() {
		ok = k.src.IsValid() && r.Src.Contains(k.src) || !k.src.IsValid() && r.Src.Bits() == 0
	}
	if ok && r.Dst.IsValid() {
		ok = r.Dst.Contains(k.dst)
	}
	if ok && r.TOS != 0 {
		ok = r.TOS == k.tos
	}
	if ok && r.IPProto != 0 {
		ok = r.IPProto == k.proto
	}
	if ok && !r.Sport.any() {
		ok = r.Sport.has(k.sport)
	}
	if ok && !r.Dport.any() {
		ok = r.Dport.has(k.dport)
	}
	if r.Flags&unix.FIB_RULE_INVERT != 0 {
		return !ok
	}
	return ok
}
