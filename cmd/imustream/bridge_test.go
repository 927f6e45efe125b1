package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/imustream/imustream/internal/natstest"
)

// csvRow is what these tests read of a recording's row.
type csvRow struct {
	session string
	seq     uint64
	mono    int64
	skipped int64 // ticks skipped before it: floor(late_ns / period) when flagged
}

func readRows(t *testing.T, path string) []csvRow {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var rows []csvRow
	for _, r := range recs[1:] {
		seq, _ := strconv.ParseUint(r[1], 10, 64)
		mono, _ := strconv.ParseInt(r[2], 10, 64)
		flags, _ := strconv.ParseUint(r[11], 0, 16)
		late, _ := strconv.ParseInt(r[12], 10, 64)
		row := csvRow{session: r[0], seq: seq, mono: mono}
		if flags&0x4 != 0 {
			row.skipped = late / 5e6
		}
		rows = append(rows, row)
	}
	return rows
}

// TestBridgeKilled: the bridge is SIGKILLed and started again; a
// consumer that reads the stream afterwards from its start gets every
// sample the bridge published, and its loss is exactly the samples the
// daemon made while no bridge subscription was streaming, as a UDP
// recording of the whole time, subscribed beside the bridge, tells.
func TestBridgeKilled(t *testing.T) {
	pcSide(t)
	cluster := natstest.Start(t, 1)
	url := cluster.URLs()
	_, addr := startDaemon(t)
	dir := t.TempDir()
	udpCSV, natsCSV := filepath.Join(dir, "udp.csv"), filepath.Join(dir, "nats.csv")
	truth := startRecord(t, "--device", addr, "--out", udpCSV)

	bridgeArgs := []string{"bridge", "--nats", url, "--device", "pi=" + addr, "--stats", "0"}
	b1 := startBin(t, bridgeArgs...)
	waitFor(t, "the first bridge to stream", func() bool { return strings.Contains(b1.stderr.String(), "pi: streaming") })
	time.Sleep(2 * time.Second) // some samples on the stream; not a timing check
	if err := b1.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-b1.done
	time.Sleep(time.Second) // a gap
	b2 := startBin(t, bridgeArgs...)
	waitFor(t, "the second bridge to stream", func() bool { return strings.Contains(b2.stderr.String(), "pi: streaming") })
	time.Sleep(2 * time.Second)
	b2.signal(t, syscall.SIGINT)
	if code := b2.wait(t, 20*time.Second); code != 0 {
		t.Fatalf("bridge: exit %d\n%s", code, b2.stderr.String())
	}
	truth.signal(t, syscall.SIGINT)
	if code := truth.wait(t, 20*time.Second); code != 0 {
		t.Fatalf("UDP record: %s", truth)
	}
	if !regexp.MustCompile(`lost +0\n`).MatchString(truth.stdout.String()) {
		t.Fatalf("the UDP recording, the test's ground truth, lost samples:\n%s", truth)
	}

	stdout, stderr, code := runCmd(t, "record", "--nats", url, "--subject", "imustream.pi.imu", "--start-at", "all", "--catch-up", "--out", natsCSV)
	if code != 0 {
		t.Fatalf("record --nats: exit %d\n%s\n%s", code, stdout, stderr)
	}
	m := regexp.MustCompile(`lost +(\d+) \((\d+) of them between sessions`).FindStringSubmatch(stdout)
	if m == nil || m[1] != m[2] || !strings.Contains(stdout, "2 seen") {
		t.Fatalf("record --nats: want two sessions and loss only between them:\n%s", stdout)
	}
	lost, _ := strconv.ParseUint(m[1], 10, 64)

	got := readRows(t, natsCSV)
	all := readRows(t, udpCSV)
	seen := make(map[int64]bool, len(got))
	var aLast, bFirst int64
	for i, r := range got {
		seen[r.mono] = true
		if i > 0 && r.session != got[i-1].session {
			aLast, bFirst = got[i-1].mono, r.mono
		}
	}
	if got[0].seq != 0 {
		t.Errorf("the replay starts at seq %d, not at the stream's first sample", got[0].seq)
	}
	// Ticks the daemon had between the two sessions: UDP rows in the gap,
	// and ticks skipped before each row up to the second session's first.
	var truthGap uint64
	for _, r := range all {
		switch {
		case r.mono > aLast && r.mono < bFirst:
			truthGap += 1 + uint64(r.skipped)
		case r.mono == bFirst:
			truthGap += uint64(r.skipped)
		}
		if r.mono >= got[0].mono && r.mono <= got[len(got)-1].mono && !seen[r.mono] && (r.mono <= aLast || r.mono >= bFirst) {
			t.Fatalf("sample at t_mono %d is missing from the replay outside the gap", r.mono)
		}
	}
	if lost != truthGap || lost == 0 {
		t.Errorf("record --nats reports %d lost, the daemon made %d samples (ticks) while no bridge streamed", lost, truthGap)
	}
	t.Logf("bridge killed: %d samples replayed, %d lost in the gap (the UDP recording agrees)", len(got), lost)
}
