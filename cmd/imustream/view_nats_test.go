package main

import (
	"context"
	"encoding/json"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/imustream/imustream/internal/natstest"
)

// TestViewNATSInBrowser: a daemon on a loopback address of its own →
// imustream bridge → nats-server → imustream view --nats, opened in
// headless Chromium, beside record --nats as ground truth: the page plots
// the device's samples with the values the recorder wrote, shows no
// start/stop but says why, and the view's summary counts no loss.
func TestViewNATSInBrowser(t *testing.T) {
	pcSide(t)
	chromium := needTool(t, "TestViewNATSInBrowser", "chromium", "chromium-browser", "google-chrome")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	url := natstest.Start(t, 1).URLs()
	addr := netip.AddrPortFrom(netip.MustParseAddr("127.0.1.11"), netip.MustParseAddrPort(freePort(t)).Port()).String()
	daemon := startProc(t, exec.Command(bin, "run", "--sim", "--rate", "500", "--listen", addr))
	b := startBin(t, "bridge", "--nats", url, "--device", "pi="+addr, "--stats", "0")
	waitFor(t, "the bridge to stream", func() bool { return strings.Contains(b.stderr.String(), "pi: streaming") })
	csvPath := filepath.Join(t.TempDir(), "rec.csv")
	rec := startBin(t, "record", "--nats", url, "--subject", "imustream.pi.imu", "--start-at", "all", "--out", csvPath)
	v := startView(t, "--nats", url, "--subject", "imustream.pi.imu", "--start-at", "all", "--http", "127.0.0.1:0", "--foxglove", "")
	page := openInChromium(t, ctx, chromium, "http://"+v.httpAddr+"/")

	state := func() pageState {
		t.Helper()
		var s pageState
		if err := page.eval(ctx, "window.imustream || null", &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if s := state(); s.Updates > 0 && s.Health != nil && s.Health.Running && s.Samples > 500 {
			break
		}
		if time.Now().After(deadline) {
			var raw json.RawMessage
			page.eval(ctx, "window.imustream || null", &raw)
			t.Fatalf("no chart update after 90 s; the page's state: %s\nview: %s\ndaemon:\n%s", raw, &v.recordProc, daemon.stderr)
		}
	}
	var ui struct {
		Start, Stop, Note string
	}
	if err := page.eval(ctx, `({start: getComputedStyle(document.getElementById("start")).display,
		stop: getComputedStyle(document.getElementById("stop")).display,
		note: document.getElementById("readonly").offsetParent ? document.getElementById("readonly").textContent : ""})`, &ui); err != nil {
		t.Fatal(err)
	}
	if ui.Start != "none" || ui.Stop != "none" || !strings.Contains(ui.Note, "NATS") {
		t.Errorf("the page of a NATS view: start %q, stop %q, note %q; want the buttons hidden and a note shown", ui.Start, ui.Stop, ui.Note)
	}
	var lasts []map[string]any
	for range 10 {
		time.Sleep(300 * time.Millisecond)
		lasts = append(lasts, state().Last)
	}

	v.signal(t, syscall.SIGINT)
	if code := v.wait(t, 20*time.Second); code != 0 {
		t.Fatalf("view: %s", &v.recordProc)
	}
	rec.signal(t, syscall.SIGINT)
	if code := rec.wait(t, 20*time.Second); code != 0 {
		t.Fatalf("record --nats: %s", rec)
	}
	if lost := summaryLost(t, v.stdout.String()); len(lost) != 1 || lost[0] != 0 {
		t.Errorf("view --nats lost %v samples, want none:\n%s", lost, v.stdout.String())
	}
	matched := pageMatchesCSV(t, lasts, csvPath, "record --nats's file")
	if matched < 5 {
		t.Errorf("only %d of the page's samples compared", matched)
	}
	t.Logf("view --nats: %d of the page's latest samples equal to record --nats's rows", matched)
}
