package main

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testFlags() (*flag.FlagSet, *daemonFlags) {
	var f daemonFlags
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.BoolVar(&f.sim, "sim", false, "")
	fs.StringVar(&f.listen, "listen", DefaultListen, "")
	fs.Var(&f.allow, "allow", "")
	fs.IntVar(&f.rate, "rate", 200, "")
	fs.StringVar(&f.config, "config", "", "")
	return fs, &f
}

func TestConfigAppliesAndFlagsOverride(t *testing.T) {
	fs, f := testFlags()
	if err := fs.Parse([]string{"--rate", "500"}); err != nil {
		t.Fatal(err)
	}
	conf := `# imustream
sim = true
listen = "0.0.0.0:7601"   # all interfaces
allow = 192.168.1.0/24
allow = 10.0.0.5
rate = 100
`
	entries, err := parseConfig(strings.NewReader(conf), "test.conf")
	if err != nil {
		t.Fatal(err)
	}
	if err := applyConfig(fs, entries, "test.conf"); err != nil {
		t.Fatal(err)
	}
	if !f.sim || f.listen != "0.0.0.0:7601" || f.rate != 500 {
		t.Errorf("got sim=%v listen=%q rate=%d; want true, 0.0.0.0:7601 and the flag's 500", f.sim, f.listen, f.rate)
	}
	if got := f.allow.String(); got != "192.168.1.0/24,10.0.0.5/32" {
		t.Errorf("allow = %s", got)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct{ conf, want string }{
		{"rat = 200\n", `test.conf:1: unknown key "rat" (known: allow, listen, rate, sim)`},
		{"\n\nrate\n", "test.conf:3: want key = value"},
		{"= 5\n", "test.conf:1: want key = value"},
		{"rate = fast\n", `test.conf:1: rate = "fast"`},
		{"allow = 300.1.1.1\n", `test.conf:1: allow = "300.1.1.1"`},
		{"config = /etc/other\n", `unknown key "config"`},
	} {
		fs, _ := testFlags()
		_ = fs.Parse(nil)
		entries, err := parseConfig(strings.NewReader(tc.conf), "test.conf")
		if err == nil {
			err = applyConfig(fs, entries, "test.conf")
		}
		if !errors.Is(err, errConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one containing %q", tc.conf, err, tc.want)
		}
	}
}

func TestLoadConfigFile(t *testing.T) {
	fs, f := testFlags()
	_ = fs.Parse(nil)
	missing := filepath.Join(t.TempDir(), "none.conf")
	if err := loadConfig(fs, missing, false); err != nil {
		t.Errorf("optional missing file: %v", err)
	}
	if err := loadConfig(fs, missing, true); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("required missing file: %v, want ErrNotExist", err)
	}
	path := filepath.Join(t.TempDir(), "ok.conf")
	if err := os.WriteFile(path, []byte("rate=50\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := loadConfig(fs, path, true); err != nil || f.rate != 50 {
		t.Errorf("loadConfig: %v, rate %d", err, f.rate)
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte("sim = true\nallow = 10.0.0.0/8 # lab\nrate=200\n"))
	f.Add([]byte("listen = \"[::]:7600\"\n"))
	f.Add([]byte("=\n#\n\"\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := parseConfig(strings.NewReader(string(b)), "fuzz.conf")
		if err != nil {
			if !errors.Is(err, errConfig) {
				t.Fatalf("error %v does not wrap errConfig", err)
			}
			return
		}
		for _, e := range entries {
			if e.key == "" || strings.ContainsAny(e.key, "#\n") || strings.Contains(e.value, "\n") {
				t.Fatalf("bad entry %+v from %q", e, b)
			}
		}
		fs, _ := testFlags()
		_ = fs.Parse(nil)
		if err := applyConfig(fs, entries, "fuzz.conf"); err != nil && !errors.Is(err, errConfig) {
			t.Fatalf("apply error %v does not wrap errConfig", err)
		}
	})
}
