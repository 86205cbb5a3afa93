package neigh

// periodicGC is neigh_periodic_work: redraw reachable_time every 300 s,
// and once the table holds gc_thresh1 entries, drop those that are FAILED
// or unused for gc_stale_time. It runs every base_reachable_time/2 while
// the table has entries (an empty table leaves the clock alone, so an
// idle simulation ends).
func (t *Table) periodicGC() {
	t.Stats.PeriodicGCRuns++
	now := t.exec.Now()
	if now > t.lastRand+reachRandInterval {
		t.lastRand = now
		t.deflt.reachable = t.randReach(t.deflt.BaseReachable)
		for _, idx := range sortedKeys(t.perDev) {
			p := t.perDev[idx]
			p.reachable = t.randReach(p.BaseReachable)
		}
	}
	if len(t.entries) >= t.GCThresh1 {
		for e := t.head; e != nil; {
			next := e.next
			if e.State&(StatePermanent|inTimer) == 0 && e.Flags&FlagExtLearned == 0 {
				if e.Used < e.Confirmed && e.Confirmed <= now {
					e.Used = e.Confirmed
				}
				stale := t.parms(e.Dev.Ifindex()).GCStaleTime
				if e.State == StateFailed || !(e.Used <= now && now < e.Used+stale) {
					t.remove(e)
				}
			}
			e = next
		}
	}
	if len(t.entries) > 0 {
		t.gcTimer.Reset(t.deflt.BaseReachable / 2)
	}
}

// forcedGC is neigh_forced_gc: over gc_thresh2, drop FAILED and NOARP
// entries and those not updated for 5 s, oldest first, until the table is
// back at gc_thresh2. It returns how many it removed.
func (t *Table) forcedGC() int {
	now := t.exec.Now()
	maxClean := t.gcEntries - t.GCThresh2
	tref := now - forcedGCAge
	shrunk := 0
	t.Stats.ForcedGCRuns++
	for e := t.head; e != nil; {
		next := e.next
		if !e.gcExempt {
			if e.State == StateFailed || e.State == StateNoARP || !(tref <= e.Updated && e.Updated <= now) {
				t.remove(e)
				shrunk++
			}
			if shrunk >= maxClean {
				break
			}
		}
		e = next
	}
	t.lastFlush = now
	return shrunk
}

// sortedKeys returns the map's keys in increasing order, so that the
// draws from the executor's random source happen in a repeatable order.
func sortedKeys(m map[int]*parms) []int {
	ks := make([]int, 0, len(m))
	for k := range m {
		i := len(ks)
		ks = append(ks, k)
		for i > 0 && ks[i-1] > k {
			ks[i] = ks[i-1]
			i--
		}
		ks[i] = k
	}
	return ks
}
