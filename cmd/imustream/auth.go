package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/imustream/imustream/control"
)

// replayFile is the replay state's file name inside --state-dir.
const replayFile = "replay-windows"

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

// open loads the key and the replay windows.
func (a *authFlags) open() (*control.Key, *control.ReplayState, error) {
	var st *control.ReplayState
	if a.stateDir != "" {
		var err error
		if st, err = control.OpenReplayState(filepath.Join(a.stateDir, replayFile)); err != nil {
			return nil, nil, err
		}
	}
	if a.key == "" {
		return nil, st, nil
	}
	if st == nil {
		return nil, nil, fmt.Errorf("%w: --key needs --state-dir DIR to keep its replay counters across restarts (or run under systemd with StateDirectory=)", errUsage)
	}
	k, err := control.LoadKey(a.key)
	if err != nil {
		return nil, nil, err
	}
	return &k, st, nil
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
func watchReload(ctx context.Context, hup <-chan os.Signal, f daemonFlags, srv *control.Server, persistent bool, log *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		}
		if err := reload(f, srv, persistent, log); err != nil {
			log.Error("reload failed; the running configuration stays", "err", err)
		}
	}
}

func reload(f daemonFlags, srv *control.Server, persistent bool, log *slog.Logger) error {
	allow, keyPath, err := f.reloadable()
	if err != nil {
		return err
	}
	var key *control.Key
	switch {
	case keyPath != "" && !persistent:
		return errors.New("a key needs --state-dir, given at start, for its replay counters")
	case keyPath != "":
		k, err := control.LoadKey(keyPath)
		if err != nil {
			return err
		}
		key = &k
	case srv.Authenticated():
		// Dropping authentication by a slip in a file is too easy.
		return errors.New("the configuration names no key: turning authentication off needs a restart")
	}
	srv.SetKey(key)
	ended := srv.SetAllow(allow)
	auth := "none"
	if key != nil {
		auth = "hmac-sha256 (" + keyPath + ")"
	}
	log.Info("configuration reloaded", "allow", prefixList(srv.Allow()).String(), "auth", auth,
		"streams_ended", len(ended), "note", "allow and key only; other settings change at the next start")
	for _, t := range ended {
		log.Info("stream ended: target no longer allowed", "to", t)
	}
	return nil
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

func authNote(key *control.Key, replay *control.ReplayState) string {
	if key == nil {
		return "none: the allow list is the only check; pass --key to require signed commands"
	}
	return "hmac-sha256, replay counters in " + replay.Path()
}
