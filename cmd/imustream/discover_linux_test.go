package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/imustream/imustream/internal/natstest"
	"github.com/imustream/imustream/internal/syncbuf"
)

// TestDiscoverNetns: a daemon in one namespace announces itself over the
// veth the test makes; from the other, imustream discover lists it, a
// command reaches it as --device pi-test.local, and avahi-browse, a real
// mDNS peer (avahi-daemon started for the test inside the namespace, on
// a private D-Bus), sees it, over IPv4 and IPv6 (ff02::fb); a second
// daemon on an IPv6 address is seen with it (AAAA).
func TestDiscoverNetns(t *testing.T) {
	pcSide(t)
	daemonNS, rxNS, ip := netnsPair(t)
	ip("-n", daemonNS, "addr", "add", "fd00:200::1/64", "dev", "vd", "nodad")
	ip("-n", rxNS, "addr", "add", "fd00:200::2/64", "dev", "vr", "nodad")
	startProc(t, exec.Command("ip", "netns", "exec", daemonNS, bin, "run", "--sim", "--listen", "10.200.0.1:7600",
		"--allow", "10.200.0.0/30", "--announce-name", "pi-test"))
	startProc(t, exec.Command("ip", "netns", "exec", daemonNS, bin, "run", "--sim", "--listen", "[fd00:200::1]:7601",
		"--allow", "fd00:200::/64", "--announce-name", "pi-six"))

	in := func(args ...string) (string, string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var o, e bytes.Buffer
		cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", rxNS, bin}, args...)...)
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		return o.String(), e.String(), err
	}
	var out string
	waitFor(t, "discover to list pi-test", func() bool {
		o, _, err := in("discover", "--wait", "2s")
		out = o
		return err == nil && strings.Contains(o, "pi-test")
	})
	for _, want := range []string{"10.200.0.1:7600", "pi-test.local", "sim", "200", "none"} {
		if !strings.Contains(out, want) {
			t.Errorf("discover: no %q in\n%s", want, out)
		}
	}
	o, e, err := in("status", "--device", "pi-test.local")
	if err != nil || !strings.Contains(o, "version") {
		t.Errorf("status --device pi-test.local: %v\n%s%s", err, o, e)
	}
	// The daemon on IPv6 only: its AAAA record, found over IPv4.
	waitFor(t, "discover to list pi-six", func() bool {
		o, _, err := in("discover", "--wait", "2s")
		out = o
		return err == nil && strings.Contains(o, "pi-six")
	})
	if !strings.Contains(out, "[fd00:200::1]:7601") {
		t.Errorf("discover: no [fd00:200::1]:7601 for pi-six in\n%s", out)
	}
	o, e, err = in("status", "--device", "pi-six.local:7601")
	if err != nil || !strings.Contains(o, "version") {
		t.Errorf("status --device pi-six.local:7601: %v\n%s%s", err, o, e)
	}
	o, e, err = in("status", "--device", "nobody-here.local")
	if err == nil || !strings.Contains(e, "nobody-here.local") {
		t.Errorf("status --device nobody-here.local: want an error naming it, got %v\n%s%s", err, o, e)
	}

	t.Run("bridge --discover", func(t *testing.T) { bridgeDiscovers(t, rxNS) })
	t.Run("avahi-browse", func(t *testing.T) { avahiSees(t, rxNS) })
}

// bridgeDiscovers runs a NATS server and `bridge --discover` in namespace
// ns: the bridge finds pi-test and publishes its samples.
func bridgeDiscovers(t *testing.T, ns string) {
	nats := natstest.Binary(t)
	startBin := func(name string, args ...string) *syncbuf.Buffer {
		var log syncbuf.Buffer
		cmd := exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...)
		cmd.Stdout, cmd.Stderr = &log, &log
		if err := cmd.Start(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			<-done
			if t.Failed() {
				t.Logf("%s's output:\n%s", name, log.String())
			}
		})
		return &log
	}
	startBin("nats-server", nats, "-a", "127.0.0.1", "-p", "14222", "-js", "-sd", t.TempDir())
	log := startBin("bridge", bin, "bridge", "--discover", "--nats", "nats://127.0.0.1:14222", "--stats", "1s")
	waitFor(t, "the bridge to follow pi-test", func() bool { return strings.Contains(log.String(), "following it as pi-test") })
	waitFor(t, "the bridge to store samples", func() bool {
		return regexp.MustCompile(`bridge: [1-9][0-9]* samples, [1-9][0-9]* messages stored`).MatchString(log.String())
	})
}

// avahiSees starts dbus-daemon and avahi-daemon for the namespace ns and
// checks that avahi-browse resolves pi-test.
func avahiSees(t *testing.T, ns string) {
	for _, tool := range []string{"avahi-daemon", "avahi-browse", "dbus-daemon", "unshare"} {
		if _, err := exec.LookPath(tool); err != nil {
			msg := fmt.Sprintf("TestDiscoverNetns/avahi-browse did not run: no %s (apt-get install avahi-daemon avahi-utils dbus util-linux)", tool)
			if os.Getenv("CI") != "" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
	dir := t.TempDir()
	bus := filepath.Join(dir, "bus")
	busConf := fmt.Sprintf(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
`, bus)
	avahiConf := "[server]\nuse-ipv4=yes\nuse-ipv6=yes\nallow-interfaces=vr\nenable-dbus=yes\nratelimit-interval-usec=0\n[wide-area]\nenable-wide-area=no\n[publish]\ndisable-publishing=yes\n"
	for name, text := range map[string]string{"bus.conf": busConf, "avahi.conf": avahiConf} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := append(os.Environ(), "DBUS_SYSTEM_BUS_ADDRESS=unix:path="+bus)
	background := func(name string, cmd *exec.Cmd) *syncbuf.Buffer {
		var log syncbuf.Buffer
		cmd.Stdout, cmd.Stderr, cmd.Env = &log, &log, env
		if err := cmd.Start(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			<-done
			if t.Failed() {
				t.Logf("%s's output:\n%s", name, log.String())
			}
		})
		return &log
	}
	background("dbus-daemon", exec.Command("dbus-daemon", "--config-file="+filepath.Join(dir, "bus.conf"), "--nofork", "--nopidfile"))
	waitFor(t, "the test's D-Bus socket", func() bool { _, err := os.Stat(bus); return err == nil })
	// Its own mount namespace: a private /run for avahi's pid file.
	script := "mount -t tmpfs tmpfs /run && mkdir -p /run/avahi-daemon && exec avahi-daemon --no-drop-root --no-chroot --no-rlimits -f " + filepath.Join(dir, "avahi.conf")
	background("avahi-daemon", exec.Command("ip", "netns", "exec", ns, "unshare", "-m", "sh", "-c", script))
	var out string
	defer func() {
		if t.Failed() {
			t.Logf("avahi-browse's last output:\n%s", out)
		}
	}()
	waitFor(t, "avahi-browse to resolve pi-test", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, "avahi-browse", "--parsable", "--resolve", "--terminate", "_imustream._udp")
		cmd.Env = env
		o, _ := cmd.CombinedOutput()
		out = string(o)
		// Resolved (=) over each transport; the interface's name is the
		// index's in the test's namespace, whatever that is.
		return regexp.MustCompile(`(?m)^=;[^;]*;IPv4;pi-test;`).MatchString(out) &&
			regexp.MustCompile(`(?m)^=;[^;]*;IPv6;pi-test;`).MatchString(out) &&
			regexp.MustCompile(`(?m)^=;[^;]*;IPv6;pi-six;`).MatchString(out)
	})
	for _, want := range []string{"pi-test.local", "10.200.0.1", "7600", `"key=none"`, `"sensor=sim"`, "pi-six.local;fd00:200::1;7601"} {
		if !strings.Contains(out, want) {
			t.Errorf("avahi-browse: no %s in\n%s", want, out)
		}
	}
	t.Logf("avahi-browse:\n%s", out)
}
