package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// shippedConfig is the config file the Debian package installs as
// /etc/imustream/imustream.conf.
const shippedConfig = "../../deploy/pi/imustream.conf"

const allowPlaceholder = "YOUR-CONTROL-PC-ADDRESS-OR-CIDR"

// TestShippedConfigListsEveryFlag: every flag of run appears in the shipped
// config (set, or commented out with its default), and every key there is
// a flag, so a new flag cannot be forgotten and a renamed one cannot linger.
func TestShippedConfigListsEveryFlag(t *testing.T) {
	help, _, code := runCmd(t, "run", "-h")
	if code != 0 {
		t.Fatalf("run -h: exit %d\n%s", code, help)
	}
	var flags []string
	for _, m := range regexp.MustCompile(`(?m)^  --([a-z0-9-]+)`).FindAllStringSubmatch(help, -1) {
		if m[1] != "config" {
			flags = append(flags, m[1])
		}
	}
	if len(flags) < 5 {
		t.Fatalf("found only %v in run -h:\n%s", flags, help)
	}
	conf, err := os.ReadFile(shippedConfig)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^#?([a-z0-9-]+) *=`).FindAllStringSubmatch(string(conf), -1) {
		keys[m[1]] = true
	}
	for _, f := range flags {
		if !keys[f] {
			t.Errorf("flag --%s is missing from %s: add it, commented out with its default", f, shippedConfig)
		}
	}
	for k := range keys {
		if !slices.Contains(flags, k) {
			t.Errorf("%s has key %q, which run has no flag for", shippedConfig, k)
		}
	}
}

// TestShippedConfigNeedsAllowList: as shipped, the daemon refuses to start
// (exit 2, naming the placeholder); with the allow list set it runs, and
// the command line overrides the file (the test's --listen and --sim).
func TestShippedConfigNeedsAllowList(t *testing.T) {
	_, stderr, code := runCmd(t, "run", "--config", shippedConfig, "--sim", "--listen", freePort(t))
	if code != 2 || !strings.Contains(stderr, allowPlaceholder) {
		t.Errorf("shipped config: exit %d, stderr %q; want exit 2 naming %s", code, stderr, allowPlaceholder)
	}

	conf, err := os.ReadFile(shippedConfig)
	if err != nil {
		t.Fatal(err)
	}
	set := strings.Replace(string(conf), "allow = "+allowPlaceholder, "allow = 127.0.0.1, 192.168.1.0/24", 1)
	if set == string(conf) {
		t.Fatalf("%s has no line \"allow = %s\"", shippedConfig, allowPlaceholder)
	}
	path := filepath.Join(t.TempDir(), "imustream.conf")
	if err := os.WriteFile(path, []byte(set), 0o644); err != nil {
		t.Fatal(err)
	}
	d, addr := startDaemon(t, "--config", path)
	if _, stderr, code := runCmd(t, "ping", "--device", addr); code != 0 {
		t.Errorf("ping: exit %d %s", code, stderr)
	}
	d.terminate(t)
	if log := d.stderr.String(); !strings.Contains(log, "192.168.1.0/24") {
		t.Errorf("daemon log does not show the configured allow list:\n%s", log)
	}
}
