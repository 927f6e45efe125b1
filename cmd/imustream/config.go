package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// The config file holds the same settings as the flags, one "key = value"
// per line, keys named exactly as the flags (without dashes). A repeatable
// flag (allow) may appear on several lines. '#' starts a comment. Flags on
// the command line override the file.
//
//	listen = 0.0.0.0:7600
//	allow  = 192.168.1.0/24
//	rate   = 200

// configEntry is one "key = value" line.
type configEntry struct {
	line       int
	key, value string
}

var errConfig = errors.New("config")

// parseConfig reads entries; it checks syntax only, keys are checked
// against the flags by applyConfig.
func parseConfig(r io.Reader, name string) ([]configEntry, error) {
	var out []configEntry
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
			return nil, fmt.Errorf("%w: %s:%d: want key = value, got %q", errConfig, name, n, line)
		}
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		out = append(out, configEntry{n, k, v})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", errConfig, name, err)
	}
	return out, nil
}

// applyConfig sets every flag the file names unless the command line
// already set it.
func applyConfig(fs *flag.FlagSet, entries []configEntry, name string) error {
	onCommandLine := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { onCommandLine[f.Name] = true })
	for _, e := range entries {
		f := fs.Lookup(e.key)
		if f == nil || e.key == "config" {
			return fmt.Errorf("%w: %s:%d: unknown key %q (known: %s)", errConfig, name, e.line, e.key, strings.Join(configKeys(fs), ", "))
		}
		if onCommandLine[e.key] {
			continue
		}
		if err := fs.Set(e.key, e.value); err != nil {
			return fmt.Errorf("%w: %s:%d: %s = %q: %w", errConfig, name, e.line, e.key, e.value, err)
		}
	}
	return nil
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

// loadConfig applies the file at path to fs. A missing file is an error
// only when required (named with --config rather than the default).
func loadConfig(fs *flag.FlagSet, path string, required bool) error {
	f, err := os.Open(path)
	if err != nil {
		if !required && errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("%w: %w", errConfig, err)
	}
	defer f.Close()
	entries, err := parseConfig(f, path)
	if err != nil {
		return err
	}
	return applyConfig(fs, entries, path)
}
