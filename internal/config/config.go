// Package config reads the daemon's config file: the same settings as the
// command line's flags, one "key = value" per line, applied to a
// flag.FlagSet under the flags the command line set.
package config

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/imustream/imustream/internal/atomicfile"
)

// The config file holds the same settings as the flags, one "key = value"
// per line, keys named exactly as the flags (without dashes). A repeatable
// flag (allow) may appear on several lines. '#' starts a comment. Flags on
// the command line override the file.
//
//	listen = 0.0.0.0:7600
//	allow  = 192.168.1.0/24
//	rate   = 200

// Entry is one "key = value" line.
type Entry struct {
	Line       int
	Key, Value string
}

// ErrConfig marks every error of a config file.
var ErrConfig = errors.New("config")

// Parse reads entries; it checks syntax only, keys are checked
// against the flags by Apply.
func Parse(r io.Reader, name string) ([]Entry, error) {
	var out []Entry
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 64<<10)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			return nil, fmt.Errorf("%w: %s:%d: want key = value, got %q", ErrConfig, name, n, line)
		}
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		out = append(out, Entry{n, k, v})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrConfig, name, err)
	}
	return out, nil
}

// Apply sets every flag the file names unless the command line
// already set it.
func Apply(fs *flag.FlagSet, entries []Entry, name string) error {
	onCommandLine := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { onCommandLine[f.Name] = true })
	for _, e := range entries {
		f := fs.Lookup(e.Key)
		if f == nil || e.Key == "config" {
			return fmt.Errorf("%w: %s:%d: unknown key %q (known: %s)", ErrConfig, name, e.Line, e.Key, strings.Join(configKeys(fs), ", "))
		}
		if onCommandLine[e.Key] {
			continue
		}
		if err := fs.Set(e.Key, e.Value); err != nil {
			return fmt.Errorf("%w: %s:%d: %s = %q: %w", ErrConfig, name, e.Line, e.Key, e.Value, err)
		}
	}
	return nil
}

// Value is key's last value in the file at path, "" when it has none:
// for a command that reads one setting of the daemon's file.
func Value(path, key string) (string, error) {
	f, err := atomicfile.OpenRegular(path)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrConfig, err)
	}
	defer f.Close()
	entries, err := Parse(f, path)
	if err != nil {
		return "", err
	}
	v := ""
	for _, e := range entries {
		if e.Key == key {
			v = e.Value
		}
	}
	return v, nil
}

func configKeys(fs *flag.FlagSet) []string {
	var keys []string
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name != "config" {
			keys = append(keys, f.Name)
		}
	})
	slices.Sort(keys)
	return keys
}

// Load applies the file at path to fs. A missing file is an error
// only when required (named with --config rather than the default).
func Load(fs *flag.FlagSet, path string, required bool) error {
	f, err := atomicfile.OpenRegular(path)
	if err != nil {
		if !required && errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	defer f.Close()
	entries, err := Parse(f, path)
	if err != nil {
		return err
	}
	return Apply(fs, entries, path)
}
