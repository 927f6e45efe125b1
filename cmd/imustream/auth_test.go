package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestReloadKeepsCommandLine: a reload takes the allow list and key from
// the file unless the command line gave them, as at start.
func TestReloadKeepsCommandLine(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "imustream.conf")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(cfg, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("allow = 10.0.0.0/8\nkey = /etc/imustream/key\n")
	for _, tc := range []struct {
		name      string
		args      []string
		allow     []string
		key       string
		nextAllow []string
		nextKey   string
	}{
		{"file only", nil, []string{"10.0.0.0/8"}, "/etc/imustream/key", []string{"172.16.0.0/12", "127.0.0.1/32"}, "/etc/imustream/key2"},
		{"allow on the command line", []string{"--allow", "192.168.1.0/24"}, []string{"192.168.1.0/24"}, "/etc/imustream/key", []string{"192.168.1.0/24"}, "/etc/imustream/key2"},
		{"key on the command line", []string{"--key", "/home/pi/imustream.key"}, []string{"10.0.0.0/8"}, "/home/pi/imustream.key", []string{"172.16.0.0/12", "127.0.0.1/32"}, "/home/pi/imustream.key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			write("allow = 10.0.0.0/8\nkey = /etc/imustream/key\n")
			args := append(tc.args, "--sim", "--config", cfg)
			check := func(wantAllow []string, wantKey string) {
				t.Helper()
				r, err := reloadable("run", args)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, p := range r.Allow {
					got = append(got, p.String())
				}
				if !slices.Equal(got, wantAllow) || r.KeyFile != wantKey {
					t.Errorf("reload gives allow %v key %q, want %v %q", got, r.KeyFile, wantAllow, wantKey)
				}
			}
			check(tc.allow, tc.key)
			write("allow = 172.16.0.0/12\nallow = 127.0.0.1\nkey = /etc/imustream/key2\n")
			check(tc.nextAllow, tc.nextKey)
			write("# nothing\n")
			if r, err := reloadable("run", args); err != nil {
				t.Fatal(err)
			} else if tc.args == nil && (r.Allow != nil || r.KeyFile != "") {
				t.Errorf("an empty file gives allow %v key %q, want the defaults", r.Allow, r.KeyFile)
			}
			write("rate = 100\nbogus = 1\n")
			if _, err := reloadable("run", args); err == nil {
				t.Error("a file with an unknown key reloads")
			}
		})
	}
}
