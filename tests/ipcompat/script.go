package ipcompat

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Settle is the script directive that waits for deferred link state.
const Settle = "@settle"

// Step is one command of the script and what iproute2 did with it.
type Step struct {
	Line   string // the command as written in script.txt
	Args   []string
	Exit   int
	Stdout string
	Stderr string
	// SettleAfter: wait for deferred link state after this step.
	SettleAfter bool
}

// ParseScript reads script.txt: one command per line, '#' comments.
func ParseScript(r io.Reader) ([]Step, error) {
	var steps []Step
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if line == Settle {
			if len(steps) > 0 {
				steps[len(steps)-1].SettleAfter = true
			}
			continue
		}
		steps = append(steps, Step{Line: line, Args: strings.Fields(line)})
	}
	return steps, sc.Err()
}

// ParseRecording reads gen.sh's output: for every command "=== LINE",
// "exit N", stdout lines prefixed "| ", "--- stderr", stderr lines.
func ParseRecording(r io.Reader) ([]Step, error) {
	var steps []Step
	var cur *Step
	inErr := false
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "# "):
		case strings.HasPrefix(line, "=== "):
			steps = append(steps, Step{Line: line[4:], Args: strings.Fields(line[4:])})
			cur, inErr = &steps[len(steps)-1], false
		case cur == nil:
			return nil, fmt.Errorf("recording: line outside a step: %q", line)
		case strings.HasPrefix(line, "exit "):
			n, err := strconv.Atoi(line[5:])
			if err != nil {
				return nil, fmt.Errorf("recording: %q", line)
			}
			cur.Exit = n
		case line == "--- stderr":
			inErr = true
		case strings.HasPrefix(line, "| ") || line == "|":
			text := strings.TrimPrefix(strings.TrimPrefix(line, "|"), " ") + "\n"
			if inErr {
				cur.Stderr += text
			} else {
				cur.Stdout += text
			}
		default:
			return nil, fmt.Errorf("recording: unexpected line %q", line)
		}
	}
	return steps, sc.Err()
}

var (
	reMAC       = regexp.MustCompile(`\b[0-9a-f]{2}(:[0-9a-f]{2}){5}\b`)
	reIfindexJS = regexp.MustCompile(`"(ifindex|link_index)":\s?[0-9]+`)
	reIfindexTx = regexp.MustCompile(`(?m)^[0-9]+: `)
	reAtIf      = regexp.MustCompile(`@if[0-9]+`)
	reStatsJS   = regexp.MustCompile(`"stats64":\s?\{"rx":\{[^}]*\},"tx":\{[^}]*\}\}`)
	rePeer      = regexp.MustCompile(`usnet-ipc-peer[-a-z0-9]*`)
	reSelf      = regexp.MustCompile(`usnet-ipc-(go-)?[0-9]+`)
	reDigits    = regexp.MustCompile(`[0-9]+`)
	reStatsTx   = regexp.MustCompile(`(?m)^(    [RT]X:.*\n)( +[0-9 ]+\n)`)
	reLftTx     = regexp.MustCompile(`(valid|preferred)_lft [0-9]+sec`)
	reLftJS     = regexp.MustCompile(`"(valid|preferred)_life_time":\s?[0-9]+`)
)

// roundLifetimes rounds the address lifetimes in s up to a multiple of
// 100 seconds (forever, 4294967295, stays): the script uses multiples of
// 100, and the seconds that pass while it runs would otherwise show.
func roundLifetimes(s string) string {
	round := func(m string) string {
		i := strings.LastIndexAny(m, ": ") + 1
		j := i
		for j < len(m) && m[j] >= '0' && m[j] <= '9' {
			j++
		}
		v, err := strconv.ParseUint(m[i:j], 10, 64)
		if err != nil || v >= 0xffffffff {
			return m
		}
		return m[:i] + strconv.FormatUint((v+99)/100*100, 10) + m[j:]
	}
	s = reLftTx.ReplaceAllStringFunc(s, round)
	return reLftJS.ReplaceAllStringFunc(s, round)
}

// Normalize removes what legitimately differs between two runs or two
// implementations: interface indexes, MAC addresses the script did not
// set itself, traffic counters, the names of the script's two
// namespaces, and the seconds that pass off address lifetimes.
func Normalize(s string) string {
	s = reIfindexJS.ReplaceAllStringFunc(s, func(m string) string {
		return m[:strings.IndexByte(m, ':')+1] + "N"
	})
	s = reIfindexTx.ReplaceAllString(s, "N: ")
	s = rePeer.ReplaceAllString(s, "PEER")
	s = reSelf.ReplaceAllString(s, "SELF")
	s = reAtIf.ReplaceAllString(s, "@ifN")
	s = reMAC.ReplaceAllStringFunc(s, func(m string) string {
		switch {
		case m == "00:00:00:00:00:00", m == "ff:ff:ff:ff:ff:ff",
			strings.HasPrefix(m, "02:00:00:00:00:"), strings.HasPrefix(m, "00:11:22:33:44:"):
			return m
		}
		return "MAC"
	})
	s = reStatsJS.ReplaceAllStringFunc(s, func(m string) string { return reDigits.ReplaceAllString(m, "0") })
	s = reStatsTx.ReplaceAllString(s, "${1}    STATS\n")
	return roundLifetimes(s)
}

// isNeigh reports whether a command's object is the neighbour table.
func isNeigh(args []string) bool {
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			continue
		}
		return strings.HasPrefix("neighbour", a) || strings.HasPrefix("neighbor", a)
	}
	return false
}

// sortEntries sorts the elements of a JSON array, or the lines of text.
func sortEntries(s string) string {
	var arr []json.RawMessage
	if json.Unmarshal([]byte(s), &arr) == nil {
		items := make([]string, len(arr))
		for i, e := range arr {
			items[i] = string(e)
		}
		sort.Strings(items)
		return "[" + strings.Join(items, ",") + "]\n"
	}
	lines := strings.SplitAfter(s, "\n")
	sort.Strings(lines)
	return strings.Join(lines, "")
}
