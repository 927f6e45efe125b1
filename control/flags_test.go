package control

import (
	"errors"
	"flag"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestClientFlags(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "key")
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteKeyFile(keyFile, k); err != nil {
		t.Fatal(err)
	}
	parse := func(args ...string) *ClientFlags {
		t.Helper()
		var c ClientFlags
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		c.RegisterFlags(fs, "127.0.0.1:7600", "ENV")
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		return &c
	}
	c := parse()
	if c.Device != "127.0.0.1:7600" || c.Timeout != 300*time.Millisecond || c.Retries != 3 || c.KeyFile != "" || c.From != "" {
		t.Errorf("defaults: %+v", *c)
	}
	for _, tc := range []struct {
		args []string
		bad  string // in Check's error; "" for none
	}{
		{[]string{"--retries", "-1"}, "--retries"},
		{[]string{"--from", "me"}, "--from"},
		{[]string{"--from", "me", "--key", keyFile}, ""},
		{[]string{"--retries", "0"}, ""},
	} {
		err := parse(tc.args...).Check()
		if (err != nil) != (tc.bad != "") || err != nil && !strings.Contains(err.Error(), tc.bad) {
			t.Errorf("%q: Check() = %v; want an error naming %q", tc.args, err, tc.bad)
		}
	}
	o, err := parse("--retries", "0", "--timeout", "2s", "--key", keyFile, "--from", "me").Options(ClientOptions{})
	if err != nil || o.Retries != -1 || o.Timeout != 2*time.Second || o.Key == nil || *o.Key != k || o.From != "me" || !o.Probe {
		t.Errorf("Options = %+v, %v; want one send, 2s, the key, from me, probing", o, err)
	}
	if _, err := parse("--key", filepath.Join(t.TempDir(), "none")).Options(ClientOptions{}); err == nil {
		t.Error("Options with a missing key file: no error")
	}
}

// TestClientFlagsEnv: $IMUSTREAM_DEVICE sets --device's default, and a
// failure on it says so; a --device given, or resolve's error, does not.
// resolve's address is the one dialled.
func TestClientFlagsEnv(t *testing.T) {
	parse := func(args ...string) *ClientFlags {
		t.Helper()
		var c ClientFlags
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		c.RegisterFlagsEnv(fs, "127.0.0.1:7600")
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		return &c
	}
	t.Setenv(DeviceEnv, "")
	if c := parse(); c.Device != "127.0.0.1:7600" {
		t.Errorf("no %s: --device %q; want the default", DeviceEnv, c.Device)
	}
	t.Setenv(DeviceEnv, "127.0.0.1:notaport")
	c := parse()
	if c.Device != "127.0.0.1:notaport" {
		t.Errorf("%s set: --device %q; want its value", DeviceEnv, c.Device)
	}
	const hint = " (the device is $" + DeviceEnv + ")"
	if _, err := c.Dial(ClientOptions{}, nil); err == nil || !strings.HasSuffix(err.Error(), hint) {
		t.Errorf("a bad device from %s: %v; want it named", DeviceEnv, err)
	}
	if _, err := parse("--device", "127.0.0.1:notaport").Dial(ClientOptions{}, nil); err == nil || strings.Contains(err.Error(), hint) {
		t.Errorf("a bad --device given: %v; want an error without the hint", err)
	}

	var asked string
	resolve := func(device string) (string, error) {
		asked = device
		if device == "pi.local" {
			return "127.0.0.1:7611", nil
		}
		return "", errors.New("discovery: no answer")
	}
	cl, err := parse("--device", "pi.local").Dial(ClientOptions{}, resolve)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if asked != "pi.local" || cl.Device().String() != "127.0.0.1:7611" {
		t.Errorf("resolve asked for %q, dialled %s; want pi.local, 127.0.0.1:7611", asked, cl.Device())
	}
	if _, err := c.Dial(ClientOptions{}, resolve); err == nil || err.Error() != "127.0.0.1:notaport: discovery: no answer" {
		t.Errorf("resolve failing: %v; want its error after the device", err)
	}
}
