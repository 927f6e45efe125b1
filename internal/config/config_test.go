package config

import (
	"errors"
	"flag"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testFlags are a few of the daemon's flags: a bool, a string, a
// repeatable address list that checks its values, an int.
type testFlags struct {
	sim    bool
	listen string
	allow  addrList
	rate   int
	config string
}

type addrList []netip.Prefix

func (a addrList) String() string {
	s := make([]string, len(a))
	for i, p := range a {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

func (a *addrList) Set(v string) error {
	p, err := netip.ParsePrefix(v)
	if err != nil {
		addr, aerr := netip.ParseAddr(v)
		if aerr != nil {
			return err
		}
		p = netip.PrefixFrom(addr, addr.BitLen())
	}
	*a = append(*a, p)
	return nil
}

func newTestFlags() (*flag.FlagSet, *testFlags) {
	var f testFlags
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.BoolVar(&f.sim, "sim", false, "")
	fs.StringVar(&f.listen, "listen", "127.0.0.1:7600", "")
	fs.Var(&f.allow, "allow", "")
	fs.IntVar(&f.rate, "rate", 200, "")
	fs.StringVar(&f.config, "config", "", "")
	return fs, &f
}

func TestConfigAppliesAndFlagsOverride(t *testing.T) {
	fs, f := newTestFlags()
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
	entries, err := Parse(strings.NewReader(conf), "test.conf")
	if err != nil {
		t.Fatal(err)
	}
	if err := Apply(fs, entries, "test.conf"); err != nil {
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
		fs, _ := newTestFlags()
		_ = fs.Parse(nil)
		entries, err := Parse(strings.NewReader(tc.conf), "test.conf")
		if err == nil {
			err = Apply(fs, entries, "test.conf")
		}
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one containing %q", tc.conf, err, tc.want)
		}
	}
}

func TestLoadConfigFile(t *testing.T) {
	fs, f := newTestFlags()
	_ = fs.Parse(nil)
	missing := filepath.Join(t.TempDir(), "none.conf")
	if err := Load(fs, missing, false); err != nil {
		t.Errorf("optional missing file: %v", err)
	}
	if err := Load(fs, missing, true); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("required missing file: %v, want ErrNotExist", err)
	}
	path := filepath.Join(t.TempDir(), "ok.conf")
	if err := os.WriteFile(path, []byte("rate=50\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Load(fs, path, true); err != nil || f.rate != 50 {
		t.Errorf("loadConfig: %v, rate %d", err, f.rate)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("sim = true\nallow = 10.0.0.0/8 # lab\nrate=200\n"))
	f.Add([]byte("listen = \"[::]:7600\"\n"))
	f.Add([]byte("=\n#\n\"\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := Parse(strings.NewReader(string(b)), "fuzz.conf")
		if err != nil {
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("error %v does not wrap ErrConfig", err)
			}
			return
		}
		for _, e := range entries {
			if e.Key == "" || strings.ContainsAny(e.Key, "#\n") || strings.Contains(e.Value, "\n") {
				t.Fatalf("bad entry %+v from %q", e, b)
			}
		}
		fs, _ := newTestFlags()
		_ = fs.Parse(nil)
		if err := Apply(fs, entries, "fuzz.conf"); err != nil && !errors.Is(err, ErrConfig) {
			t.Fatalf("apply error %v does not wrap ErrConfig", err)
		}
	})
}
