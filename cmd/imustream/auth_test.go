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
			fs, f := testFlags()
			f.auth.register(fs)
			if err := fs.Parse(append(tc.args, "--config", cfg)); err != nil {
				t.Fatal(err)
			}
			f.auth.noteCommandLine()
			if err := loadConfig(fs, cfg, true); err != nil {
				t.Fatal(err)
			}
			check := func(wantAllow []string, wantKey string) {
				t.Helper()
				allow, key, err := f.reloadable()
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, p := range allow {
					got = append(got, p.String())
				}
				if !slices.Equal(got, wantAllow) || key != wantKey {
					t.Errorf("reload gives allow %v key %q, want %v %q", got, key, wantAllow, wantKey)
				}
			}
			check(tc.allow, tc.key)
			write("allow = 172.16.0.0/12\nallow = 127.0.0.1\nkey = /etc/imustream/key2\n")
			check(tc.nextAllow, tc.nextKey)
			write("# nothing\n")
			if allow, key, err := f.reloadable(); err != nil {
				t.Fatal(err)
			} else if tc.args == nil && (allow != nil || key != "") {
				t.Errorf("an empty file gives allow %v key %q, want the defaults", allow, key)
			}
			write("rate = 100\nbogus = 1\n")
			if _, _, err := f.reloadable(); err == nil {
				t.Error("a file with an unknown key reloads")
			}
		})
	}
}
