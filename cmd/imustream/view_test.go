package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/imustream/imustream/internal/syncbuf"
)

// -screenshot writes the browser test's screenshot there as well (the
// one in docs/img/view.png is made so).
var screenshotOut = flag.String("screenshot", "", "also write TestViewInBrowser's screenshot to this PNG `FILE`")

// The page's chart updates per second that TestViewInBrowser requires.
// The view sends 30 frames a second and the page draws each; the
// measured acceptance run asks for 20 (-view-min-ups=20). By default the
// floor only proves the page is live: on a machine loaded far past its
// cores fewer frames reach the page (view and Chromium wait for a CPU),
// and the suite must pass there.
var minUpdates = flag.Float64("view-min-ups", 5, "TestViewInBrowser's floor of chart updates per second")

// needTool finds an outside tool: without it the test is skipped, saying
// which, or fails under CI, which installs it.
func needTool(t *testing.T, test string, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	msg := fmt.Sprintf("%s did not run: %s not found (Debian: apt-get install %s)", test, names[0], names[0])
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// viewProc is `imustream view` running in the background.
type viewProc struct {
	recordProc
	httpAddr, foxAddr string
}

var viewURLs = regexp.MustCompile(`view: open http://([^/ ]+)/ \(Foxglove: ws://[^ ]+/foxglove(?: or ws://([^ )]+))?\)`)

// startView runs view and waits for the line that says where it serves.
func startView(t *testing.T, args ...string) *viewProc {
	t.Helper()
	p := &viewProc{recordProc: recordProc{cmd: exec.Command(bin, append([]string{"view"}, args...)...), done: make(chan struct{})}}
	p.cmd.Stdout = &p.stdout
	pr, pw := io.Pipe()
	p.cmd.Stderr = pw
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	found := make(chan []string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Split(scanLinesOrCR)
		for sc.Scan() {
			p.stderr.Write([]byte(sc.Text() + "\n"))
			if m := viewURLs.FindStringSubmatch(sc.Text()); m != nil {
				found <- m
			}
		}
	}()
	go func() {
		err := p.cmd.Wait()
		pw.Close()
		if ee, ok := err.(*exec.ExitError); ok {
			p.code = ee.ExitCode()
		} else if err != nil {
			p.code = -1
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
	})
	select {
	case m := <-found:
		p.httpAddr, p.foxAddr = m[1], m[2]
	case <-p.done:
		t.Fatalf("view exited: %s", p)
	case <-time.After(20 * time.Second):
		t.Fatalf("view did not say where it serves: %s", p)
	}
	return p
}

// scanLinesOrCR splits at \n and at the \r of a progress line.
func scanLinesOrCR(data []byte, atEOF bool) (int, []byte, error) {
	for i, c := range data {
		if c == '\n' || c == '\r' {
			return i + 1, data[:i], nil
		}
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// cpuNs is the CPU time of every thread of pid so far, from schedstat
// (exact, unlike the tick-sampled utime).
func cpuNs(t *testing.T, pid int) int64 {
	t.Helper()
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	var sum int64
	for _, f := range tasks {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // a thread that ended
		}
		if fs := strings.Fields(string(b)); len(fs) > 0 {
			n, _ := strconv.ParseInt(fs[0], 10, 64)
			sum += n
		}
	}
	return sum
}

// summaryLost reads every "lost" line of a printed summary.
func summaryLost(t *testing.T, out string) []int {
	t.Helper()
	var lost []int
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "lost" {
			n, err := strconv.Atoi(f[1])
			if err != nil {
				t.Fatalf("summary line %q", line)
			}
			lost = append(lost, n)
		}
	}
	return lost
}

// csvByColumn indexes a recording's rows by one column.
func csvByColumn(t *testing.T, path string, col int) map[string][]string {
	t.Helper()
	rows := readCSV(t, path)
	m := make(map[string][]string, len(rows))
	for _, r := range rows[1:] {
		m[r[col]] = r
	}
	return m
}

// sameFloat32 says whether a value as a browser or node printed it is the
// CSV's float32.
func sameFloat32(got any, csv string) bool {
	want, err := strconv.ParseFloat(csv, 32)
	if err != nil {
		return false
	}
	var g float64
	switch v := got.(type) {
	case float64:
		g = v
	case string:
		if g, err = strconv.ParseFloat(v, 64); err != nil {
			return false
		}
	default:
		return false
	}
	return float32(g) == float32(want)
}

// cdp is a DevTools protocol connection to one page of a headless
// Chromium.
type cdp struct {
	conn    *websocket.Conn
	id      int
	profile string // chromium's --user-data-dir: names its processes
}

func (c *cdp) call(ctx context.Context, method string, params any) (json.RawMessage, error) {
	c.id++
	req, _ := json.Marshal(map[string]any{"id": c.id, "method": method, "params": params})
	if err := c.conn.Write(ctx, websocket.MessageText, req); err != nil {
		return nil, err
	}
	for {
		_, b, err := c.conn.Read(ctx)
		if err != nil {
			return nil, err
		}
		var r struct {
			ID     int             `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, err
		}
		if r.ID != c.id {
			continue // an event
		}
		if r.Error != nil {
			return nil, fmt.Errorf("%s: %s", method, r.Error.Message)
		}
		return r.Result, nil
	}
}

// eval runs a JavaScript expression in the page and decodes its value.
func (c *cdp) eval(ctx context.Context, expr string, v any) error {
	res, err := c.call(ctx, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true})
	if err != nil {
		return err
	}
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails any `json:"exceptionDetails"`
	}
	if err := json.Unmarshal(res, &r); err != nil {
		return err
	}
	if r.ExceptionDetails != nil {
		return fmt.Errorf("%s: %v", expr, r.ExceptionDetails)
	}
	return json.Unmarshal(r.Result.Value, v)
}

// openInChromium starts a headless Chromium on url and connects to its
// page over the DevTools protocol.
func openInChromium(t *testing.T, ctx context.Context, chromium, url string) *cdp {
	t.Helper()
	profile := t.TempDir()
	cmd := exec.Command(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--disable-background-timer-throttling", "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows",
		"--user-data-dir="+profile, "--window-size=1280,1000", "--remote-debugging-address=127.0.0.1",
		"--remote-debugging-port=0", url)
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log syncbuf.Buffer
	port := make(chan string, 1)
	var wg sync.WaitGroup
	wg.Go(func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			log.Write([]byte(sc.Text() + "\n"))
			if m := regexp.MustCompile(`DevTools listening on ws://127\.0\.0\.1:(\d+)/`).FindStringSubmatch(sc.Text()); m != nil {
				port <- m[1]
			}
		}
	})
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		pw.Close()
		wg.Wait()
	})
	var p string
	select {
	case p = <-port:
	case <-time.After(60 * time.Second):
		t.Fatalf("chromium did not open its DevTools port:\n%s", log.String())
	}
	var wsURL string
	waitFor(t, "the page in chromium's target list", func() bool {
		resp, err := http.Get("http://127.0.0.1:" + p + "/json/list")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var targets []struct{ Type, URL, WebSocketDebuggerURL string }
		if json.NewDecoder(resp.Body).Decode(&targets) != nil {
			return false
		}
		for _, tg := range targets {
			if tg.Type == "page" && strings.HasPrefix(tg.URL, url) {
				wsURL = tg.WebSocketDebuggerURL
			}
		}
		return wsURL != ""
	})
	conn, _, err := websocket.Dial(ctx, wsURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetReadLimit(64 << 20) // screenshots
	t.Cleanup(func() { conn.CloseNow() })
	return &cdp{conn: conn, profile: profile}
}

// cpuNs is the CPU time of every process of this Chromium so far.
func (c *cdp) cpuNs(t *testing.T) int64 {
	t.Helper()
	var sum int64
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range procs {
		b, err := os.ReadFile(f)
		if err != nil || !strings.Contains(string(b), "--user-data-dir="+c.profile) {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(f)))
		sum += cpuNs(t, pid)
	}
	return sum
}

// pageState is window.imustream of the page.
type pageState struct {
	Connected                bool
	Frames, MissedFrames     int
	Updates, Samples, Points int
	DrawMs                   float64 // time spent drawing the charts
	Last                     map[string]any
	Health                   *struct {
		Running                 bool
		Dropped, Overflow, Lost int
	}
}

// TestViewInBrowser is the acceptance test of the page: headless Chromium
// opens view's page against a daemon streaming at 1 kHz, next to a
// recorder; the charts update at least 20 times a second, the page gets
// every frame (it keeps up), the latest values it shows are the
// recorder's for the same sample, the buttons stop and start the stream,
// and neither the view's stream nor the recorder's loses a sample.
func TestViewInBrowser(t *testing.T) {
	pcSide(t)
	chromium := needTool(t, "TestViewInBrowser", "chromium", "chromium-browser", "google-chrome")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	daemon, addr := startDaemon(t, "--rate", "1000")
	csvPath := filepath.Join(t.TempDir(), "rec.csv")
	rec := startRecord(t, "--device", addr, "--out", csvPath)
	v := startView(t, "--device", addr, "--http", "127.0.0.1:0", "--foxglove", "")
	url := "http://" + v.httpAddr + "/"
	page := openInChromium(t, ctx, chromium, url)

	state := func() pageState {
		t.Helper()
		var s pageState
		if err := page.eval(ctx, "window.imustream || null", &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	// Chromium's first start on a busy machine takes a while.
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if s := state(); s.Updates > 0 && s.Health != nil && s.Health.Running {
			break
		}
		if time.Now().After(deadline) {
			var raw json.RawMessage
			page.eval(ctx, "window.imustream || null", &raw)
			t.Fatalf("no chart update while streaming after 90 s; the page's state: %s\nview: %s\ndaemon:\n%s", raw, &v.recordProc, daemon.stderr)
		}
	}

	// The measured window: 10 s, the latest sample read twice a second,
	// and on until 12 are read (a busy machine's Chromium answers slowly).
	const window = 10 * time.Second
	s0, cpu0, ccpu0, t0 := state(), cpuNs(t, v.cmd.Process.Pid), page.cpuNs(t), time.Now()
	var lasts []map[string]any
	for time.Since(t0) < window || len(lasts) < 12 {
		time.Sleep(500 * time.Millisecond)
		lasts = append(lasts, state().Last)
	}
	s1, cpu1, ccpu1, el := state(), cpuNs(t, v.cmd.Process.Pid), page.cpuNs(t), time.Since(t0)
	shot, err := page.call(ctx, "Page.captureScreenshot", map[string]any{"format": "png"})
	if err != nil {
		t.Fatal(err)
	}
	ups := float64(s1.Updates-s0.Updates) / el.Seconds()
	rate := float64(s1.Samples-s0.Samples) / el.Seconds()
	load, _ := os.ReadFile("/proc/loadavg")
	t.Logf("page: %.1f chart updates/s (%.1f frames/s reached it, %.2f ms per update), %.1f samples/s (%.1f points/s plotted), %d frames missed; CPU of view %.1f %%, of chromium %.1f %% of one core over %.1f s; load average %s",
		ups, float64(s1.Frames-s0.Frames)/el.Seconds(), (s1.DrawMs-s0.DrawMs)/float64(max(1, s1.Updates-s0.Updates)), rate, float64(s1.Points-s0.Points)/el.Seconds(), s1.MissedFrames,
		float64(cpu1-cpu0)/float64(el.Nanoseconds())*100, float64(ccpu1-ccpu0)/float64(el.Nanoseconds())*100, el.Seconds(), strings.Join(strings.Fields(string(load))[:3], " "))
	if ups < *minUpdates {
		t.Errorf("%.1f chart updates per second, want ≥ %g", ups, *minUpdates)
	}
	if s1.MissedFrames != 0 || s1.Health.Dropped != 0 || s1.Health.Overflow != 0 {
		t.Errorf("the page did not keep up: %d frames missed, %d dropped, %d samples not kept", s1.MissedFrames, s1.Health.Dropped, s1.Health.Overflow)
	}

	var png struct{ Data string }
	if err := json.Unmarshal(shot, &png); err != nil {
		t.Fatal(err)
	}
	img, err := base64.StdEncoding.DecodeString(png.Data)
	if err != nil || len(img) < 10000 {
		t.Fatalf("screenshot of %d bytes: %v", len(img), err)
	}
	if *screenshotOut != "" {
		if err := os.WriteFile(*screenshotOut, img, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// The buttons.
	if err := page.eval(ctx, `document.getElementById("stop").click(), true`, new(bool)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the stream to stop", func() bool { return !state().Health.Running })
	if err := page.eval(ctx, `document.getElementById("start").click(), true`, new(bool)); err != nil {
		t.Fatal(err)
	}
	before := state().Samples
	waitFor(t, "the stream to start again", func() bool { s := state(); return s.Health.Running && s.Samples > before+500 })

	v.signal(t, syscall.SIGINT)
	if code := v.wait(t, 20*time.Second); code != 0 {
		t.Fatalf("view: %s", &v.recordProc)
	}
	rec.signal(t, syscall.SIGINT)
	if code := rec.wait(t, 20*time.Second); code != 0 {
		t.Fatalf("record: %s", rec)
	}
	if lost := summaryLost(t, v.stdout.String()); len(lost) != 2 || lost[0] != 0 || lost[1] != 0 {
		t.Errorf("view's two runs lost %v samples, want none:\n%s", lost, v.stdout.String())
	}
	if lost := summaryLost(t, rec.stdout.String()); len(lost) != 1 || lost[0] != 0 {
		t.Errorf("the recorder beside the page lost %v samples:\n%s", lost, rec.stdout.String())
	}

	// What the page showed is what the recorder wrote for that sample
	// (the same device time: each subscriber has its own session).
	if matched := pageMatchesCSV(t, lasts, csvPath, "the recording"); matched < 10 {
		t.Errorf("only %d of the page's samples compared", matched)
	}
}

// pageMatchesCSV compares each of the page's latest samples with the row
// of the same t_mono_ns in the CSV at csvPath (what: its name in errors)
// and returns how many it compared.
func pageMatchesCSV(t *testing.T, lasts []map[string]any, csvPath, what string) int {
	t.Helper()
	rows := csvByColumn(t, csvPath, 2)
	cols := map[string]int{"ax": 4, "ay": 5, "az": 6, "gx": 7, "gy": 8, "gz": 9, "temp": 10}
	matched := 0
	for _, l := range lasts {
		mono, _ := l["mono"].(string)
		row, ok := rows[mono]
		if !ok {
			t.Errorf("the page's sample at t_mono_ns %s is not in %s", mono, what)
			continue
		}
		for k, c := range cols {
			if !sameFloat32(l[k], row[c]) {
				t.Errorf("t_mono_ns %s: the page shows %s = %v, the recorder wrote %s", mono, k, l[k], row[c])
			}
		}
		matched++
	}
	return matched
}

// TestViewFoxgloveNode: the official npm client @foxglove/ws-protocol
// connects to view's Foxglove port, subscribes to /imu and receives at
// least 99 % of the samples of 10 s at 1 kHz, each equal to the row a
// recorder beside it wrote for the same header stamp (t_wall_ns).
func TestViewFoxgloveNode(t *testing.T) {
	pcSide(t)
	node := needTool(t, "TestViewFoxgloveNode", "node", "nodejs")
	dir, err := filepath.Abs("../../tests/node")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@foxglove", "ws-protocol")); err != nil {
		npm := needTool(t, "TestViewFoxgloveNode", "npm")
		cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in tests/node: %v\n%s", err, out)
		}
	}
	nodeArgs := []string{}
	if exec.Command(node, "-e", `process.exit(typeof WebSocket === "function" ? 0 : 1)`).Run() != nil {
		nodeArgs = append(nodeArgs, "--experimental-websocket") // Node 20
	}

	_, addr := startDaemon(t, "--rate", "1000")
	csvPath := filepath.Join(t.TempDir(), "rec.csv")
	rec := startRecord(t, "--device", addr, "--out", csvPath)
	v := startView(t, "--device", addr, "--http", "127.0.0.1:0", "--foxglove", "127.0.0.1:0")
	if v.foxAddr == "" {
		t.Fatalf("view named no Foxglove address: %s", &v.recordProc)
	}
	out := filepath.Join(t.TempDir(), "fox.txt")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append(nodeArgs, "foxglove-client.mjs", "ws://"+v.foxAddr, "10", out)...)
	cmd.Dir = dir
	cpu0, t0 := cpuNs(t, v.cmd.Process.Pid), time.Now()
	res, err := cmd.Output()
	if err != nil {
		t.Fatalf("node foxglove-client.mjs: %v\n%s", err, res)
	}
	t.Logf("node: %s", res)
	t.Logf("view's CPU while node read: %.1f %% of one core over %.1f s", float64(cpuNs(t, v.cmd.Process.Pid)-cpu0)/float64(time.Since(t0).Nanoseconds())*100, time.Since(t0).Seconds())
	v.signal(t, syscall.SIGINT)
	if code := v.wait(t, 20*time.Second); code != 0 {
		t.Fatalf("view: %s", &v.recordProc)
	}
	rec.signal(t, syscall.SIGINT)
	if code := rec.wait(t, 20*time.Second); code != 0 {
		t.Fatalf("record: %s", rec)
	}

	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	rows := csvByColumn(t, csvPath, 3)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	var first, last int64
	for i, line := range lines {
		f := strings.Split(line, ",")
		row, ok := rows[f[0]]
		if len(f) != 7 || !ok {
			t.Fatalf("node got %q: no recorded sample has that t_wall_ns", line)
		}
		for j, c := range []int{4, 5, 6, 7, 8, 9} {
			if !sameFloat32(f[j+1], row[c]) {
				t.Fatalf("t_wall_ns %s: node got %s, the recorder wrote %s (column %d)", f[0], f[j+1], row[c], c)
			}
		}
		w, _ := strconv.ParseInt(f[0], 10, 64)
		if i == 0 {
			first = w
		}
		last = w
	}
	// The recorder's samples of the same span: what node should have.
	want := 0
	for k := range rows {
		if w, _ := strconv.ParseInt(k, 10, 64); w >= first && w <= last {
			want++
		}
	}
	got := float64(len(lines)) / float64(want)
	t.Logf("node received %d of the recorder's %d samples in its span (%.2f %%), over %.2f s", len(lines), want, got*100, float64(last-first)/1e9)
	if got < 0.99 || last-first < int64(9*time.Second) {
		t.Errorf("node received %d of %d samples (%.2f %%) over %.2f s: want ≥ 99 %% over 10 s", len(lines), want, got*100, float64(last-first)/1e9)
	}
	if lost := summaryLost(t, v.stdout.String()); len(lost) != 1 || lost[0] != 0 {
		t.Errorf("view lost %v samples:\n%s", lost, v.stdout.String())
	}
}

// TestViewErrors: a bad lease is a usage error; an address that cannot be
// served and a daemon that does not answer end view at once with an error.
func TestViewErrors(t *testing.T) {
	closed := freePort(t)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--lease", "1ms", "--http", "127.0.0.1:0", "--foxglove", ""}, 2, "--lease 1ms outside"},
		{[]string{"--http", "256.0.0.1:1"}, 1, "view: --http:"},
		{[]string{"--http", "127.0.0.1:0", "--foxglove", "bad"}, 1, "view: --foxglove:"},
		{[]string{"--device", closed, "--http", "127.0.0.1:0", "--foxglove", "", "--timeout", "100ms", "--retries", "0"}, 1, closed},
	} {
		_, stderr, code := runCmd(t, append([]string{"view"}, tc.args...)...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("view %v: exit %d, stderr %q; want exit %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
}
