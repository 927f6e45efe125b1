// Package cli is what the imustream command line needs of the flag
// package and does not get: help with the flags under headings and named
// placeholders, one-line flag errors that say what a value needed, usage
// errors a CLI exits 2 on, an int flag with a range, whether output is a
// terminal, and the dispatch of subcommands with their exit codes (App).
//
// A command's help is its head (a summary and a usage line), then its
// flags under headings. A command names its groups in one line after
// defining its flags:
//
//	cli.Group(fs, head, "Recording: duration out lease strict", "Device: device timeout retries")
//
// Each group is "Heading: flag flag …"; a heading given twice is one
// group. Flags in no group are listed last, under "Other" (under "Flags"
// when the command names no groups). A name that is no flag of fs is a
// mistake in the program: writing the help panics, and a test of the
// commands' help catches it.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Group makes fs's help the head (a summary and a usage line), then its
// flags under these headings.
func Group(fs *flag.FlagSet, head string, groups ...string) {
	fs.Usage = func() { writeHelp(fs.Output(), fs, head, groups) }
}

// HelpRequest is -h or --help on a command's line: the caller prints the
// FlagSet's help (FS.Usage) to stdout and exits 0. It matches flag.ErrHelp.
type HelpRequest struct{ FS *flag.FlagSet }

func (h *HelpRequest) Error() string { return flag.ErrHelp.Error() }
func (h *HelpRequest) Unwrap() error { return flag.ErrHelp }

// writeHelp writes the help of the command fs parses.
func writeHelp(w io.Writer, fs *flag.FlagSet, head string, groups []string) {
	name := fs.Name()
	fmt.Fprint(w, head)
	var order []string // headings
	members := map[string][]*flag.Flag{}
	placed := map[string]bool{}
	for _, g := range groups {
		heading, names, _ := strings.Cut(g, ":")
		heading = strings.TrimSpace(heading)
		if _, ok := members[heading]; !ok {
			order = append(order, heading)
		}
		for _, n := range strings.Fields(names) {
			f := fs.Lookup(n)
			if f == nil || placed[n] {
				panic(fmt.Sprintf("%s: help group %q names %q, which is no flag or is in another group", name, heading, n))
			}
			placed[n] = true
			members[heading] = append(members[heading], f)
		}
	}
	rest := "Other"
	if len(groups) == 0 {
		rest = "Flags"
	}
	fs.VisitAll(func(f *flag.Flag) {
		if !placed[f.Name] {
			if _, ok := members[rest]; !ok {
				order = append(order, rest)
			}
			members[rest] = append(members[rest], f)
		}
	})
	for _, heading := range order {
		fmt.Fprintf(w, "\n%s:\n", heading)
		for _, f := range members[heading] {
			writeFlag(w, f)
		}
	}
}

// writeFlag writes one flag as "  --name PLACEHOLDER" and its usage,
// wrapped and indented, with the default unless it is the zero value.
func writeFlag(w io.Writer, f *flag.Flag) {
	v := unwrap(f.Value)
	name, usage := placeholder(f, v)
	line := "  --" + f.Name
	if name != "" {
		line += " " + name
	}
	if !isZero(f.DefValue, v) {
		usage += " (default " + f.DefValue + ")"
	}
	fmt.Fprintln(w, line)
	const indent, width = "        ", 80
	col := 0
	for _, word := range strings.Fields(usage) {
		n := utf8.RuneCountInString(word)
		switch {
		case col == 0:
			fmt.Fprint(w, indent, word)
			col = len(indent) + n
		case col+1+n > width:
			fmt.Fprint(w, "\n", indent, word)
			col = len(indent) + n
		default:
			fmt.Fprint(w, " ", word)
			col += 1 + n
		}
	}
	fmt.Fprintln(w)
}

// placeholder returns what the flag's value is called in its help, as
// the flag package's UnquoteUsage: the first `quoted` word of its usage
// (the quotes dropped from the usage); without one, a name by its type
// (none for a bool).
func placeholder(f *flag.Flag, v flag.Value) (name, usage string) {
	usage = f.Usage
	if i := strings.IndexByte(usage, '`'); i >= 0 {
		if j := strings.IndexByte(usage[i+1:], '`'); j >= 0 {
			name = usage[i+1 : i+1+j]
			return name, usage[:i] + name + usage[i+1+j+1:]
		}
	}
	if b, ok := v.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
		return "", usage
	}
	switch getValue(v).(type) {
	case time.Duration:
		return "DURATION", usage
	case int, int64, uint, uint64:
		return "N", usage
	case float64:
		return "NUMBER", usage
	}
	return "VALUE", usage
}

// isZero says whether def is the text of the value's zero value, which
// the help leaves out, as the flag package does.
func isZero(def string, v flag.Value) bool {
	t := reflect.TypeOf(v)
	var z reflect.Value
	if t.Kind() == reflect.Pointer {
		z = reflect.New(t.Elem())
	} else {
		z = reflect.Zero(t)
	}
	zv, ok := z.Interface().(flag.Value)
	if !ok {
		return def == ""
	}
	defer func() { _ = recover() }() // a String method that needs its pointer set (intRange's does not)
	return def == zv.String()
}

func getValue(v flag.Value) any {
	if g, ok := v.(flag.Getter); ok {
		return g.Get()
	}
	return nil
}

// checkedValue wraps each flag's value while Parse runs, so that a
// refused value is reported by name with a reason a person can act on:
// `--lease "5": a duration needs a unit, like 5s or 500ms` rather than
// the flag package's `invalid value "5" for flag -lease: parse error`. The
// config file goes through it too (fs.Set), so its errors read the same.
type checkedValue struct {
	flag.Value
	name   string
	failed *ValueError // the value Set refused last
}

func (c *checkedValue) IsBoolFlag() bool {
	b, ok := c.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

func (c *checkedValue) Set(s string) error {
	err := c.Value.Set(s)
	if err == nil {
		return nil
	}
	err = valueReason(c.Value, s, err)
	c.failed = &ValueError{Flag: c.name, Value: s, Err: err}
	return err
}

// valueReason replaces the flag package's own "parse error" of a built-in
// value by what the value needed; other values give their own reasons.
func valueReason(v flag.Value, s string, err error) error {
	switch getValue(v).(type) {
	case time.Duration:
		if _, perr := strconv.ParseFloat(s, 64); perr == nil {
			return errDurationUnit
		}
		return errors.New("not a duration, like 5s, 500ms or 1m30s")
	case bool:
		return errors.New("want true or false")
	case int, int64:
		return errors.New("not an integer, or out of range")
	case uint, uint64:
		return errors.New("not a whole number ≥ 0, or out of range")
	case float64:
		return errors.New("not a number")
	}
	return err
}

// errDurationUnit is the reason for a duration given as a bare number.
var errDurationUnit = errors.New("a duration needs a unit, like 5s or 500ms")

// ValueError is a value a flag refused.
type ValueError struct {
	Flag, Value string
	Err         error
}

func (e *ValueError) Error() string { return fmt.Sprintf("--%s %q: %v", e.Flag, e.Value, e.Err) }
func (e *ValueError) Unwrap() error { return e.Err }

func unwrap(v flag.Value) flag.Value {
	if c, ok := v.(*checkedValue); ok {
		return c.Value
	}
	return v
}

// checkValues wraps every flag's value in a checkedValue and returns them.
func checkValues(fs *flag.FlagSet) []*checkedValue {
	var all []*checkedValue
	fs.VisitAll(func(f *flag.Flag) {
		c, ok := f.Value.(*checkedValue)
		if !ok {
			c = &checkedValue{Value: f.Value, name: f.Name}
			f.Value = c
		}
		all = append(all, c)
	})
	return all
}

// ErrUsage marks errors that are the caller's flags; a CLI exits 2 on
// them. Make them with Usagef, whose message reads without the word.
var ErrUsage = errors.New("usage")

// usageError is a mistake on the command line.
type usageError struct{ err error }

func (e *usageError) Error() string        { return e.err.Error() }
func (e *usageError) Unwrap() error        { return e.err }
func (e *usageError) Is(target error) bool { return target == ErrUsage }

// Usagef is fmt.Errorf for a usage error.
func Usagef(format string, a ...any) error { return &usageError{fmt.Errorf(format, a...)} }

// Parse parses args into fs. It prints nothing: -h comes back as a
// *HelpRequest for the caller to print to stdout, and a bad flag as one
// usage error (a refused value as a *ValueError) instead of the flag
// package's message followed by every flag.
func Parse(fs *flag.FlagSet, args []string) error {
	values := checkValues(fs)
	usage, out := fs.Usage, fs.Output()
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.Usage = usage
	fs.SetOutput(out)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return &HelpRequest{fs}
	case err != nil:
		for _, v := range values {
			if v.failed != nil {
				return Usagef("%w", v.failed)
			}
		}
		return Usagef("%w", err)
	case fs.NArg() > 0:
		return Usagef("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// IntRange is an int flag that rejects values outside [min, max].
type IntRange struct {
	P        *int
	Min, Max int
}

func (r *IntRange) String() string {
	if r.P == nil {
		return "0"
	}
	return strconv.Itoa(*r.P)
}

func (r *IntRange) Set(v string) error {
	n, err := strconv.Atoi(v)
	if err != nil {
		return fmt.Errorf("%q is not an integer", v)
	}
	if n < r.Min || n > r.Max {
		return fmt.Errorf("%d out of range %d..%d", n, r.Min, r.Max)
	}
	*r.P = n
	return nil
}

// IsSet reports whether the command line (or a config file, through
// fs.Set) set the flag: a default and the same value given differ here.
func IsSet(fs *flag.FlagSet, name string) (set bool) {
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
