package cli

import (
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func flags() (*flag.FlagSet, *time.Duration, *int) {
	fs := flag.NewFlagSet("tool", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	d := fs.Duration("lease", time.Second, "end the stream unless refreshed within this `DURATION`")
	n := 7
	fs.Var(&IntRange{P: &n, Min: 0, Max: 99}, "prio", "a `PRIORITY`")
	fs.Bool("force", false, "overwrite")
	Group(fs, "tool — does things\n\nusage: tool [flags]\n", "Stream: lease", "Timing: prio")
	return fs, d, &n
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--lease", "5"}, `--lease "5": a duration needs a unit, like 5s or 500ms`},
		{[]string{"--lease", "soon"}, `--lease "soon": not a duration`},
		{[]string{"--prio", "100"}, `--prio "100": 100 out of range 0..99`},
		{[]string{"--nope"}, "flag provided but not defined: -nope"},
		{[]string{"extra"}, `unexpected argument "extra"`},
	} {
		fs, _, _ := flags()
		err := Parse(fs, tc.args)
		if !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "usage") {
			t.Errorf("%q: %v; want a usage error saying %q", tc.args, err, tc.want)
		}
	}
	fs, d, n := flags()
	if err := Parse(fs, []string{"--lease", "2s", "--prio", "50", "--force"}); err != nil || *d != 2*time.Second || *n != 50 {
		t.Errorf("good flags: %v, %v, %d", err, *d, *n)
	}
	var help *HelpRequest
	if err := Parse(fs, []string{"-h"}); !errors.As(err, &help) || !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	var b strings.Builder
	help.FS.SetOutput(&b)
	help.FS.Usage()
	for _, want := range []string{"tool — does things", "Stream:\n  --lease DURATION\n", "(default 1s)", "Timing:\n  --prio PRIORITY", "Other:\n  --force\n"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, b.String())
		}
	}
}

// A group that names no flag is the program's mistake: the help panics.
func TestGroupUnknownFlag(t *testing.T) {
	fs, _, _ := flags()
	Group(fs, "", "Stream: lease lase")
	defer func() {
		if recover() == nil {
			t.Error("a group naming no flag wrote its help")
		}
	}()
	fs.Usage()
}

// TestIsSet: a flag given its default value is set; one not given is not.
func TestIsSet(t *testing.T) {
	fs, _, _ := flags()
	if err := Parse(fs, []string{"--lease", "1s"}); err != nil {
		t.Fatal(err)
	}
	if !IsSet(fs, "lease") || IsSet(fs, "prio") || IsSet(fs, "nope") {
		t.Errorf("IsSet: lease %v prio %v nope %v; want true false false", IsSet(fs, "lease"), IsSet(fs, "prio"), IsSet(fs, "nope"))
	}
}
