package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Command is one subcommand of an App. A command without Help is hidden:
// it runs but is not listed.
type Command struct {
	Name, Args, Help string
	Run              func(name string, args []string, stdout, stderr io.Writer) error
}

// App is a program of subcommands: its name, its commands, and the text
// its usage shows before and after the list of commands.
type App struct {
	Name       string
	Head, Tail string
	Commands   []Command
}

// lookup finds a command by name, hidden ones included.
func (a *App) lookup(name string) (Command, bool) {
	for _, c := range a.Commands {
		if c.Name == name {
			return c, true
		}
	}
	return Command{}, false
}

// Run is the whole command line: help goes to stdout and exits 0; a
// mistake on the command line prints one line and a hint to stderr and
// exits 2; a failure exits 1.
func (a *App) Run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		a.usage(stderr)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help":
		a.usage(stdout)
		return 0
	case "-version", "--version":
		args = append([]string{"version"}, args[1:]...)
	case "help":
		return a.help(args[1:], stdout, stderr)
	}
	c, ok := a.lookup(args[0])
	if !ok {
		fmt.Fprintf(stderr, "%s: unknown command %q\nrun '%s help' for the list of commands\n", a.Name, args[0], a.Name)
		return 2
	}
	return a.exit(c.Name, c.Run(c.Name, args[1:], stdout, stderr), stdout, stderr)
}

// help is "PROGRAM help [COMMAND]": the command's help is its -h.
func (a *App) help(args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 0:
		a.usage(stdout)
		return 0
	case len(args) > 1:
		fmt.Fprintf(stderr, "%s help: one command at a time, got %q\n", a.Name, args)
		return 2
	}
	c, ok := a.lookup(args[0])
	if !ok || c.Help == "" {
		fmt.Fprintf(stderr, "%s help: unknown command %q\nrun '%s help' for the list of commands\n", a.Name, args[0], a.Name)
		return 2
	}
	return a.exit(c.Name, c.Run(c.Name, []string{"-h"}, stdout, stderr), stdout, stderr)
}

// exit prints what a command returned and gives its exit code. An error
// with an Explain method (a daemon that did not reply) prints that
// explanation, which ends in its own newline.
func (a *App) exit(name string, err error, stdout, stderr io.Writer) int {
	var help *HelpRequest
	var ex interface{ Explain() string }
	switch {
	case err == nil:
		return 0
	case errors.As(err, &help):
		help.FS.SetOutput(stdout)
		help.FS.Usage()
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, ErrUsage):
		fmt.Fprintf(stderr, "%s %s: %v\nrun '%s %s -h' for help\n", a.Name, name, err, a.Name, name)
		return 2
	case errors.As(err, &ex):
		fmt.Fprintf(stderr, "%s %s: %s", a.Name, name, ex.Explain())
		return 1
	default:
		fmt.Fprintf(stderr, "%s %s: %v\n", a.Name, name, err)
		return 1
	}
}

func (a *App) usage(w io.Writer) {
	fmt.Fprint(w, a.Head)
	for _, c := range a.Commands {
		if c.Help == "" {
			continue
		}
		fmt.Fprintf(w, "  %-10s %s\n", c.Name, c.Help)
		if c.Args != "" {
			fmt.Fprintf(w, "  %-10s %s\n", "", c.Args)
		}
	}
	fmt.Fprint(w, a.Tail)
}

// NewFlags returns a FlagSet whose errors come back to Run instead of
// exiting. Its help lists the flags under one heading until the command
// names groups (GroupFlags).
func (a *App) NewFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(a.Name+" "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	a.GroupFlags(fs)
	return fs
}

// GroupFlags makes a command's help its summary and usage line from the
// command table, then its flags under these headings (Group).
func (a *App) GroupFlags(fs *flag.FlagSet, groups ...string) {
	name := strings.TrimPrefix(fs.Name(), a.Name+" ")
	c, _ := a.lookup(name)
	head := fmt.Sprintf("%s %s — %s\n\nusage: %s\n", a.Name, name, c.Help, strings.TrimSpace(a.Name+" "+name+" "+c.Args))
	Group(fs, head, groups...)
}
