package cli

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

type explained struct{}

func (explained) Error() string   { return "no reply" }
func (explained) Explain() string { return "nothing answered\n" }

// TestAppRun: dispatch, help and the exit code of each kind of error.
func TestAppRun(t *testing.T) {
	var ret error
	a := &App{Name: "prog", Head: "HEAD\n", Tail: "TAIL\n"}
	a.Commands = []Command{
		{Name: "do", Args: "[--n N]", Help: "do a thing", Run: func(name string, args []string, stdout, stderr io.Writer) error {
			fs := a.NewFlags(name, stderr)
			fs.Int("n", 0, "how many")
			if err := Parse(fs, args); err != nil {
				return err
			}
			return ret
		}},
		{Name: "version", Help: "print the version", Run: func(string, []string, io.Writer, io.Writer) error { return ret }},
		{Name: "hidden", Run: func(string, []string, io.Writer, io.Writer) error { return ret }},
	}
	for _, c := range []struct {
		args         []string
		ret          error
		code         int
		stdout, errs string
	}{
		{nil, nil, 2, "", "HEAD\n  do         do a thing\n             [--n N]\n  version    print the version\nTAIL\n"},
		{[]string{"--help"}, nil, 0, "HEAD\n  do ", ""},
		{[]string{"help"}, nil, 0, "TAIL", ""},
		{[]string{"help", "do"}, nil, 0, "prog do — do a thing\n\nusage: prog do [--n N]\n\nFlags:\n  --n N\n", ""},
		{[]string{"do", "-h"}, nil, 0, "usage: prog do [--n N]", ""},
		{[]string{"help", "hidden"}, nil, 2, "", "prog help: unknown command \"hidden\"\n"},
		{[]string{"help", "do", "x"}, nil, 2, "", "one command at a time"},
		{[]string{"nope"}, nil, 2, "", "prog: unknown command \"nope\"\nrun 'prog help' for the list of commands\n"},
		{[]string{"--version"}, errors.New("v"), 1, "", "prog version: v\n"},
		{[]string{"hidden"}, nil, 0, "", ""},
		{[]string{"do", "--n", "x"}, nil, 2, "", "prog do: --n \"x\": not an integer, or out of range\nrun 'prog do -h' for help\n"},
		{[]string{"do"}, Usagef("bad"), 2, "", "prog do: bad\n"},
		{[]string{"do"}, errors.New("failed"), 1, "", "prog do: failed\n"},
		{[]string{"do"}, explained{}, 1, "", "prog do: nothing answered\n"},
	} {
		ret = c.ret
		var stdout, stderr bytes.Buffer
		code := a.Run(c.args, &stdout, &stderr)
		if code != c.code || !strings.Contains(stdout.String(), c.stdout) || !strings.Contains(stderr.String(), c.errs) ||
			(c.stdout == "" && stdout.Len() > 0) || (c.errs == "" && stderr.Len() > 0) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want %d, %q, %q", c.args, code, stdout.String(), stderr.String(), c.code, c.stdout, c.errs)
		}
	}
}
