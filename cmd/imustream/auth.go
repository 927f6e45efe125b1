package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"strings"

	"github.com/imustream/imustream/control"
	"github.com/imustream/imustream/internal/daemon"
)

// authFlags are the daemon's authentication settings.
type authFlags struct {
	key      string
	stateDir string
	fs       *flag.FlagSet
	// Flags given on the command line: a reload keeps them over the file.
	cmdline map[string]bool
}

func (a *authFlags) register(fs *flag.FlagSet) {
	stateDir, _, _ := strings.Cut(os.Getenv("STATE_DIRECTORY"), ":")
	fs.StringVar(&a.key, "key", "", "key file (from imustream keygen): obey only commands signed with it; SIGHUP re-reads it")
	fs.StringVar(&a.stateDir, "state-dir", stateDir, "directory for the replay counters --key needs, kept across restarts (default $STATE_DIRECTORY, set by systemd's StateDirectory=)")
	a.fs = fs
}

// noteCommandLine remembers which flags the command line set; call it
// after parsing and before the config file is applied.
func (a *authFlags) noteCommandLine() {
	a.cmdline = map[string]bool{}
	a.fs.Visit(func(f *flag.Flag) { a.cmdline[f.Name] = true })
}

// reloadable returns the allow list and key file in force after a reload:
// the command line's if it set them, else the config file's. Other
// settings take effect at the next start.
func (f *daemonFlags) reloadable() (allow []netip.Prefix, keyPath string, err error) {
	a := &f.auth
	allow, keyPath = f.allow, a.key
	if f.config == "" {
		return allow, keyPath, nil
	}
	file, err := os.Open(f.config)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", errConfig, err)
	}
	defer file.Close()
	entries, err := parseConfig(file, f.config)
	if err != nil {
		return nil, "", err
	}
	var fileAllow prefixList
	fileKey := ""
	for _, e := range entries {
		if a.fs.Lookup(e.key) == nil || e.key == "config" {
			return nil, "", fmt.Errorf("%w: %s:%d: unknown key %q", errConfig, f.config, e.line, e.key)
		}
		switch e.key {
		case "allow":
			if err := fileAllow.Set(e.value); err != nil {
				return nil, "", fmt.Errorf("%w: %s:%d: allow = %q: %w", errConfig, f.config, e.line, e.value, err)
			}
		case "key":
			fileKey = e.value
		}
	}
	if !a.cmdline["allow"] {
		allow = fileAllow
	}
	if !a.cmdline["key"] {
		keyPath = fileKey
	}
	return allow, keyPath, nil
}

// watchReload applies the allow list and key again on every SIGHUP,
// without touching the stream. A configuration that does not load is
// logged and the running one kept.
func watchReload(ctx context.Context, hup <-chan os.Signal, f daemonFlags, d *daemon.Daemon, log *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		}
		allow, keyPath, err := f.reloadable()
		if err == nil {
			err = d.Reload(daemon.Reloadable{Allow: allow, KeyFile: keyPath})
		}
		if err != nil {
			log.Error("reload failed; the running configuration stays", "err", err)
		}
	}
}

// runKeygen writes a new key file.
func runKeygen(name string, args []string, stdout, stderr io.Writer) error {
	var out string
	fs := newFlags(name, stderr)
	fs.StringVar(&out, "out", "", "key file to create (mode 0600; an existing file is never overwritten)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if out == "" {
		return fmt.Errorf("%w: --out FILE is required", errUsage)
	}
	k, err := control.GenerateKey()
	if err != nil {
		return err
	}
	if err := control.WriteKeyFile(out, k); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote a 256-bit key to %s (mode 0600)\n"+
		"copy it to the daemon (run --key) and to each control PC (--key), over a channel you trust\n", out)
	return nil
}
