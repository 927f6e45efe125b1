package view

import (
	"errors"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/imustream/imustream/foxglove"
	"github.com/imustream/imustream/receiver"
)

// TestSite: the page and Foxglove served on their addresses, what Where
// and WriteSummary say, the notes ReportTo writes, and a Shutdown that
// leaves nothing listening.
func TestSite(t *testing.T) {
	if _, err := Listen("256.0.0.1:1", "", foxglove.ServerConfig{}); err == nil || !strings.HasPrefix(err.Error(), "view: --http:") {
		t.Errorf("Listen on a bad page address: %v", err)
	}
	if _, err := Listen("127.0.0.1:0", "bad", foxglove.ServerConfig{}); err == nil || !strings.HasPrefix(err.Error(), "view: --foxglove:") {
		t.Errorf("Listen on a bad Foxglove address: %v", err)
	}
	s, err := Listen("127.0.0.1:0", "127.0.0.1:0", foxglove.ServerConfig{Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	want := regexp.MustCompile(`^view: open http://127\.0\.0\.1:\d+/ \(Foxglove: ws://127\.0\.0\.1:\d+/foxglove or ws://127\.0\.0\.1:\d+\)$`)
	if !want.MatchString(s.Where()) {
		t.Errorf("Where = %q", s.Where())
	}
	var notes strings.Builder
	cfg := Config{Device: "pi:7600"}
	cfg.ReportTo(&notes, false)
	if cfg.OnLive != nil {
		t.Error("ReportTo without live sets OnLive")
	}
	cfg.OnNote(receiver.RefreshFailed{Err: errors.New("timeout"), Quiet: 2 * time.Second})
	cfg.OnRestart(time.Second)
	cfg.OnRun(nil, errors.New("no reply"))
	cfg.OnRun(&receiver.RecordResult{}, errors.New("not said"))
	for _, w := range []string{"\nview: lease refresh failed: timeout; no samples for 2.0 s. Still trying\n",
		"\nview: the daemon ended the stream; starting it again in 1s\n", "\nview: the stream did not start: no reply; the page's Start tries again\n"} {
		if !strings.Contains(notes.String(), w) {
			t.Errorf("the notes lack %q:\n%s", w, notes.String())
		}
	}
	if strings.Contains(notes.String(), "not said") {
		t.Errorf("a run that started is reported as not started:\n%s", notes.String())
	}

	s.Serve(New(cfg))
	get := func(url string) (int, string) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("http://" + s.Page.Addr().String() + "/"); code != http.StatusOK || !strings.Contains(body, "<html") {
		t.Errorf("the page: %d %.80q", code, body)
	}
	// Foxglove answers a plain GET, which is no WebSocket, with an error
	// of its own: on the page's /foxglove and on its own address.
	for _, url := range []string{"http://" + s.Page.Addr().String() + "/foxglove", "http://" + s.FoxOnly.Addr().String() + "/"} {
		if code, body := get(url); code == http.StatusOK || strings.Contains(body, "<html") {
			t.Errorf("%s: %d %.80q; want Foxglove's refusal of a plain request", url, code, body)
		}
	}
	s.Shutdown()
	for _, a := range []net.Addr{s.Page.Addr(), s.FoxOnly.Addr()} {
		if c, err := net.DialTimeout("tcp", a.String(), time.Second); err == nil {
			c.Close()
			t.Errorf("%s still listens after Shutdown", a)
		}
	}
	var sum strings.Builder
	s.WriteSummary(&sum, "pi:7600", []*receiver.RecordResult{{Ended: "stopped by a signal (Ctrl-C)"}})
	for _, w := range []string{"from pi:7600\n", "  ended          stopped by a signal (Ctrl-C)\n", "view: 0 page connections, 0 frames sent, 0 dropped for slow pages; Foxglove: 0 clients, 0 messages, 0 dropped for slow clients\n"} {
		if !strings.Contains(sum.String(), w) {
			t.Errorf("the summary lacks %q:\n%s", w, sum.String())
		}
	}
}
