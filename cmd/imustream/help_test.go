package main

import (
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/imustream/imustream/control"
)

// TestHelpGoesToStdout: asking for help is no error: stdout, exit 0.
// Forgetting the command is one: stderr, exit 2.
func TestHelpGoesToStdout(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}, {"-help"}, {"help"}} {
		stdout, stderr, code := runCmd(t, args...)
		if code != 0 || stderr != "" || !strings.Contains(stdout, "usage: imustream COMMAND") || !strings.Contains(stdout, "IMUSTREAM_DEVICE") {
			t.Errorf("imustream %q: exit %d, stdout %q, stderr %q; want the usage on stdout, exit 0", args, code, stdout, stderr)
		}
	}
	stdout, stderr, code := runCmd(t)
	if code != 2 || stdout != "" || !strings.Contains(stderr, "usage: imustream COMMAND") {
		t.Errorf("imustream: exit %d, stdout %q, stderr %q; want the usage on stderr, exit 2", code, stdout, stderr)
	}
	want, _, _ := runCmd(t, "version")
	for _, args := range [][]string{{"--version"}, {"-version"}} {
		if stdout, stderr, code := runCmd(t, args...); code != 0 || stdout != want || stderr != "" {
			t.Errorf("imustream %q: exit %d, %q %q; want %q as imustream version", args, code, stdout, stderr, want)
		}
	}
	for _, args := range [][]string{{"help", "frobnicate"}, {"help", hiddenCommand()}, {"help", "start", "stop"}, {"version", "extra"}} {
		if _, stderr, code := runCmd(t, args...); code != 2 || stderr == "" {
			t.Errorf("imustream %q: exit %d, stderr %q; want exit 2", args, code, stderr)
		}
	}
}

// hiddenCommand returns a command without help (a child of bench).
func hiddenCommand() string {
	for _, c := range app.Commands {
		if c.Help == "" {
			return c.Name
		}
	}
	return "no-hidden-command"
}

// flagLine is a flag in a command's help: its name and placeholder.
var flagLine = regexp.MustCompile(`(?m)^  --([a-z0-9-]+)(?: (\S+))?$`)

// TestCommandHelp: every command's help, by -h or by imustream help, is
// its summary, its usage line and its flags, on stdout; the commands
// whose flags are grouped leave none out of a group and call every value
// by what it is.
func TestCommandHelp(t *testing.T) {
	ungrouped := map[string]bool{"record": true, "bench": true, "version": true} // record.go, bench.go: not yet
	for _, c := range app.Commands {
		if c.Help == "" {
			continue
		}
		stdout, stderr, code := runCmd(t, c.Name, "-h")
		if code != 0 || stderr != "" {
			t.Errorf("%s -h: exit %d, stderr %q", c.Name, code, stderr)
			continue
		}
		if other, _, _ := runCmd(t, "help", c.Name); other != stdout {
			t.Errorf("imustream help %s differs from %s -h:\n%s\n---\n%s", c.Name, c.Name, other, stdout)
		}
		lines := strings.Split(stdout, "\n")
		if len(lines) < 3 || lines[0] != "imustream "+c.Name+" — "+c.Help || !strings.HasPrefix(lines[2], "usage: imustream "+c.Name) {
			t.Errorf("%s -h does not start with its summary and usage line:\n%s", c.Name, stdout)
		}
		if ungrouped[c.Name] {
			continue
		}
		if strings.Contains(stdout, "\nOther:\n") || strings.Contains(stdout, "\nFlags:\n") {
			t.Errorf("%s -h lists flags outside its groups:\n%s", c.Name, stdout)
		}
		for _, m := range flagLine.FindAllStringSubmatch(stdout, -1) {
			if p := m[2]; p != "" && (p != strings.ToUpper(p) || p == "VALUE") {
				t.Errorf("%s -h: --%s %s: the placeholder should say what the value is", c.Name, m[1], p)
			}
		}
	}
	for cmd, wants := range map[string][]string{
		"run":    {"\nSensor:\n", "\nNetwork:\n", "\nTiming:\n", "\nSecurity:\n", "\nLogging/config:\n", "  --allow CIDR\n", "  --listen HOST:PORT\n", "  --default-lease DURATION\n", "  --key FILE\n", "  --spin DURATION\n"},
		"start":  {"\nStream:\n", "\nDevice:\n", "\nSecurity:\n", "  --device HOST[:PORT]\n", "  --lease DURATION\n", "  --key FILE\n", "  --timeout DURATION\n", control.DeviceEnv},
		"status": {"\nDevice:\n", "\nSecurity:\n", "  --device HOST[:PORT]\n"},
	} {
		stdout, _, _ := runCmd(t, cmd, "-h")
		for _, want := range wants {
			if !strings.Contains(stdout, want) {
				t.Errorf("%s -h lacks %q:\n%s", cmd, want, stdout)
			}
		}
	}
}

// TestFlagErrorsAreOneLine: a bad flag is named in one line, with a hint
// to the help, not followed by every flag; a duration without a unit says
// that it needs one, from the command line and from the config file.
func TestFlagErrorsAreOneLine(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "imustream.conf")
	if err := os.WriteFile(conf, []byte("default-lease = 5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	unit := "a duration needs a unit, like 5s or 500ms"
	for _, tc := range []struct {
		args []string
		want string // the first line
	}{
		{[]string{"start", "-x"}, "imustream start: flag provided but not defined: -x"},
		{[]string{"status", "--device"}, "imustream status: flag needs an argument: -device"},
		{[]string{"start", "--to", ":9000", "--lease", "5"}, `imustream start: --lease "5": ` + unit},
		{[]string{"status", "--timeout", "300"}, `imustream status: --timeout "300": ` + unit},
		{[]string{"run", "--sim", "--default-lease", "5"}, `imustream run: --default-lease "5": ` + unit},
		{[]string{"run", "--sim", "--spin", "50"}, `imustream run: --spin "50": ` + unit},
		{[]string{"run", "--sim", "--spin", "fast"}, `imustream run: --spin "fast": not a duration, like 5s, 500ms or 1m30s`},
		{[]string{"run", "--sim", "--rate", "fast"}, `imustream run: --rate "fast": not an integer`},
		{[]string{"run", "--sim", "--sim=maybe"}, `imustream run: --sim "maybe": want true or false`},
		{[]string{"run", "--sim", "--rt-priority", "high"}, `imustream run: --rt-priority "high": "high" is not an integer`},
		{[]string{"run", "--sim", "--config", conf}, unit},
	} {
		stdout, stderr, code := runCmd(t, tc.args...)
		lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
		hint := "run 'imustream " + tc.args[0] + " -h' for help"
		if code != 2 || stdout != "" || len(lines) != 2 || !strings.Contains(lines[0], tc.want) || lines[1] != hint {
			t.Errorf("imustream %q: exit %d, stderr:\n%s\nwant exit 2 and the lines %q, %q", tc.args, code, stderr, tc.want, hint)
		}
	}
}

func TestWithDefaultPort(t *testing.T) {
	for in, want := range map[string]string{
		"raspberrypi.local":      "raspberrypi.local:7600",
		"raspberrypi.local:7601": "raspberrypi.local:7601",
		"192.168.1.20":           "192.168.1.20:7600",
		"192.168.1.20:9":         "192.168.1.20:9",
		"::1":                    "[::1]:7600",
		"[::1]":                  "[::1]:7600",
		"[::1]:9":                "[::1]:9",
		"fe80::1%eth0":           "[fe80::1%eth0]:7600",
		"":                       "",
	} {
		if got := control.WithDefaultPort(in); got != want {
			t.Errorf("WithDefaultPort(%q) = %q, want %q", in, got, want)
		}
	}
}

// pingResponder answers every ping on addr with version=fake; it returns
// false if addr is taken.
func pingResponder(t *testing.T, network, addr string) bool {
	t.Helper()
	ua, err := net.ResolveUDPAddr(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenUDP(network, ua)
	if err != nil {
		return false
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 512)
		for {
			n, from, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			cmd, err := control.ParseCommand(buf[:n])
			if err != nil {
				continue
			}
			r := control.Reply{OK: true, ID: cmd.ID, Verb: cmd.Verb, Fields: []control.Field{{Key: "version", Value: "fake"}}}
			_, _ = conn.WriteToUDPAddrPort([]byte(r.String()), from)
		}
	}()
	t.Cleanup(func() {
		conn.Close()
		<-done
	})
	return true
}

// TestDeviceWithoutPort: --device HOST means the control port 7600, for
// IPv4 and IPv6, given as a flag or in IMUSTREAM_DEVICE.
func TestDeviceWithoutPort(t *testing.T) {
	for _, tc := range []struct{ network, listen, device string }{
		{"udp4", "127.0.0.1:7600", "127.0.0.1"},
		{"udp6", "[::1]:7600", "::1"},
		{"udp6", "[::1]:7600", "[::1]"},
	} {
		if !pingResponder(t, tc.network, tc.listen) {
			t.Logf("%s is taken (or there is no IPv6): not tested", tc.listen)
			continue
		}
		stdout, stderr, code := runCmd(t, "ping", "--device", tc.device)
		if code != 0 || stdout != "ok ping version=fake\n" {
			t.Errorf("ping --device %s: exit %d, %q %q; want the answer of %s", tc.device, code, stdout, stderr, tc.listen)
		}
		stdout, stderr, code = runCmdEnv(t, []string{control.DeviceEnv + "=" + tc.device}, "ping")
		if code != 0 || stdout != "ok ping version=fake\n" {
			t.Errorf("%s=%s ping: exit %d, %q %q; want the answer of %s", control.DeviceEnv, tc.device, code, stdout, stderr, tc.listen)
		}
	}
}

// TestDeviceFromEnvironment: IMUSTREAM_DEVICE is the default of --device
// for the client commands, says so in their help, and --device wins.
func TestDeviceFromEnvironment(t *testing.T) {
	_, addr := startDaemon(t)
	env := []string{control.DeviceEnv + "=" + addr}
	if stdout, stderr, code := runCmdEnv(t, env, "status"); code != 0 || !strings.Contains(stdout, "state ") {
		t.Errorf("status with %s: exit %d, %q %q", env[0], code, stdout, stderr)
	}
	if stdout, _, _ := runCmdEnv(t, env, "ping", "-h"); !strings.Contains(stdout, "(default "+addr+")") {
		t.Errorf("ping -h with %s does not show it as the default:\n%s", env[0], stdout)
	}
	closed := freePort(t)
	_, stderr, code := runCmdEnv(t, env, "ping", "--device", closed, "--timeout", "100ms", "--retries", "0")
	if code != 1 || !strings.Contains(stderr, closed) {
		t.Errorf("--device %s with %s: exit %d, %q; want --device to win", closed, env[0], code, stderr)
	}
	_, stderr, code = runCmdEnv(t, []string{control.DeviceEnv + "=no such host:1"}, "ping")
	if code != 1 || !strings.Contains(stderr, "$"+control.DeviceEnv) {
		t.Errorf("a bad %s: exit %d, %q; want an error naming the variable", control.DeviceEnv, code, stderr)
	}
}

// TestNoReplyDiagnosis: a port nothing listens on is named as such; a
// daemon that drops the commands gets the list of likely causes.
func TestNoReplyDiagnosis(t *testing.T) {
	closed := freePort(t)
	_, stderr, code := runCmd(t, "status", "--device", closed, "--timeout", "100ms", "--retries", "0")
	if want := "imustream status: nothing listens on " + closed + " (is `imustream run` running there?)\n"; code != 1 || stderr != want {
		t.Errorf("status to a closed port: exit %d, %q; want exit 1 and %q", code, stderr, want)
	}
	_, addr := startDaemon(t, "--allow", "192.0.2.0/24") // loopback is not on it
	_, stderr, code = runCmd(t, "ping", "--device", addr, "--timeout", "100ms", "--retries", "1")
	for _, want := range []string{"no reply from " + addr + " (2 attempts of 100ms)", "allow list", "--allow CIDR", "--key FILE", "run --listen"} {
		if code != 1 || !strings.Contains(stderr, want) {
			t.Errorf("ping from outside the allow list: exit %d, stderr lacks %q:\n%s", code, want, stderr)
		}
	}
	if strings.Contains(stderr, "nothing listens") {
		t.Errorf("a daemon that drops commands reported as a closed port:\n%s", stderr)
	}
}

// TestStartNeedsTo: start without --to would stream to its own socket,
// gone when it exits; it is refused before anything is sent.
func TestStartNeedsTo(t *testing.T) {
	for _, args := range [][]string{{"start", "--device", freePort(t)}, {"start", "--lease", "5s"}, {"stop"}} {
		_, stderr, code := runCmd(t, args...)
		if code != 2 || !strings.Contains(stderr, "--to is required") || !strings.Contains(stderr, "--to :9000") {
			t.Errorf("imustream %q: exit %d, %q; want exit 2 saying --to is required, with an example", args, code, stderr)
		}
	}
}

// TestStopNothing: stopping a stream that does not exist is no failure:
// stop --to X and stop --to all both exit 0 and say nothing streamed. (And
// start --to NAME:PORT resolves the name on this PC.)
func TestStopNothing(t *testing.T) {
	_, addr := startDaemon(t)
	rx, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	to := ":" + strconv.Itoa(rx.LocalAddr().(*net.UDPAddr).Port)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"stop", "--to", to}, "nothing was streaming to " + to + "\n"},
		{[]string{"stop", "--to", "all"}, "nothing was streaming\n"},
		{[]string{"start", "--to", to}, "ok start to=127.0.0.1" + to},
		{[]string{"stop", "--to", to}, "ok stop to=127.0.0.1" + to + " stopped=1\n"},
		{[]string{"start", "--to", "localhost" + to}, "ok start to=127.0.0.1" + to}, // resolved here: the daemon takes addresses only
		{[]string{"stop", "--to", "all"}, "ok stop stopped=1\n"},
	} {
		stdout, stderr, code := runCmd(t, append(tc.args, "--device", addr)...)
		if code != 0 || !strings.HasPrefix(stdout, tc.want) {
			t.Errorf("imustream %q: exit %d, %q %q; want exit 0 and %q", tc.args, code, stdout, stderr, tc.want)
		}
	}
}
