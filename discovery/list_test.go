package discovery

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
)

// TestWriteTableAndJSON: the columns line up under the header, and each
// JSON line reads back as its entry.
func TestWriteTableAndJSON(t *testing.T) {
	es := []Entry{
		{Instance: "imu-lab", Host: "pi.local", Port: 7600, Addrs: []netip.Addr{netip.MustParseAddr("192.168.1.20")},
			TXT: map[string]string{"version": "v1.2.0", "sensor": "mpu6050@0x68", "rate": "200", "key": "none"}},
		{Instance: "bench", Host: "zero.local", Port: 7601, TXT: map[string]string{}},
	}
	var b strings.Builder
	if err := WriteTable(&b, es); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "NAME     DEVICE") ||
		strings.Index(lines[1], "192.168.1.20:7600") != strings.Index(lines[0], "DEVICE") ||
		strings.Index(lines[1], "mpu6050@0x68") != strings.Index(lines[0], "SENSOR") {
		t.Errorf("table:\n%s", b.String())
	}
	b.Reset()
	if err := WriteJSON(&b, es); err != nil {
		t.Fatal(err)
	}
	lines = strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("JSON: %d lines:\n%s", len(lines), b.String())
	}
	var e Entry
	if err := json.Unmarshal([]byte(lines[0]), &e); err != nil || e.Instance != "imu-lab" || e.Addr() != "192.168.1.20:7600" || e.TXT["rate"] != "200" {
		t.Errorf("JSON line %q: %+v, %v", lines[0], e, err)
	}
}
