package daemon

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/imustream/imustream/internal/rt"
)

// CPUs chooses the CPUs of the sender threads, as --cpu takes them: Auto
// (one thread on the last CPU the process may use, if it may use two or
// more), or one thread pinned to each CPU of List, or with neither one
// thread on any CPU. Its text form is the flag's: auto, none or a list
// like 2,3.
type CPUs struct {
	Auto bool
	List []int
}

func (c CPUs) String() string {
	switch {
	case c.Auto:
		return "auto"
	case len(c.List) == 0:
		return "none"
	}
	s := make([]string, len(c.List))
	for i, n := range c.List {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

// Set reads the flag's text form.
func (c *CPUs) Set(v string) error {
	switch v = strings.TrimSpace(v); v {
	case "auto":
		*c = CPUs{Auto: true}
		return nil
	case "none", "-1":
		*c = CPUs{}
		return nil
	}
	var list []int
	for f := range strings.SplitSeq(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 || n > 1023 {
			return fmt.Errorf("%q is not auto, none or a list of CPU numbers 0..1023", v)
		}
		if slices.Contains(list, n) {
			return fmt.Errorf("CPU %d twice in %q", n, v)
		}
		list = append(list, n)
	}
	*c = CPUs{List: list}
	return nil
}

// MarshalText and UnmarshalText write and read the flag's text form (the
// bench's JSON and its children's command lines).
func (c CPUs) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

func (c *CPUs) UnmarshalText(b []byte) error { return c.Set(string(b)) }

// Resolve returns the CPUs the sender threads run on: List, or with Auto
// the last CPU the process may use (none if it may use only one: a Pi
// Zero's single core is shared with everything else anyway), pinned only
// at real-time priority (pinOnlyRT). On a Raspberry Pi the interrupts go
// to CPU 0, so the last one is the quietest. The bench's floor probe
// picks its CPUs with it too.
func (c CPUs) Resolve() (cpus []int, pinOnlyRT bool, err error) {
	if !c.Auto {
		return c.List, false, nil
	}
	last, err := rt.LastCPUs(2)
	if err != nil {
		return nil, false, fmt.Errorf("daemon: CPUs for the sender: %w", err)
	}
	if len(last) < 2 {
		return nil, true, nil
	}
	return last[1:], true, nil
}
