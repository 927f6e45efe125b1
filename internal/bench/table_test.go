package bench

import (
	"bytes"
	"strings"
	"testing"
)

// TestWriteTable checks lines of the table of the fixture's flood run.
func TestWriteTable(t *testing.T) {
	r := readFixture(t).Find("flood")
	r.DaemonStatus["ticks"] = "12200"
	var b bytes.Buffer
	WriteTable(&b, r)
	out := b.String()
	for _, want := range []string{
		"imustream bench --duration 1m0s --load 2 --flood 10000 --baseline --floor\n",
		"200 Hz, batch 1, 1m0s measured after 1s warm-up, load 2, flood 10000 pps from 127.0.0.2 (309920 sent)\n\n",
		"      µs: p50 / p99 / p99.9 / max                        imustream                       time.Ticker\n",
		"              |interval − period|        2.0 / 24.0 / 37.8 / 113.4  242.1 / 1448.2 / 3000.0 / 6018.9\n",
		"                  CPU % / RSS MiB                        5.7 / 5.5                         2.6 / 3.9\n",
		"  sender threads blocked / sleeps                    54639 / 24000                                 -\n",
		"worst wake-up per thread [1024.1 80.1] µs\n",
		"daemon: ticks 12200, late , skipped 0, max late  µs, commands dropped (not allowed) 309920\n",
		"flood seconds vs quiet seconds: |interval − period| p99 24.5 vs 21.5 µs, max 113.4 vs 100.0 µs; skipped 0 vs 0\n",
		"stop → end of stream µs p50/p99/max:   4960.0 / 5000.0 / 5049.0 (2 commands sent again)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	// Without a baseline, the floor and the cycles.
	r.Baseline, r.Floor, r.StartToFirst = nil, nil, Summary{}
	b.Reset()
	WriteTable(&b, r)
	out = b.String()
	if strings.Contains(out, "time.Ticker") || strings.Contains(out, "machine floor") || strings.Contains(out, "start → first") {
		t.Errorf("table shows what was not measured:\n%s", out)
	}
}
