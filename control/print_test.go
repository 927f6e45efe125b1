package control

import (
	"bytes"
	"testing"
	"time"
)

// TestWriteFields: one field a line, the key padded to 17.
func TestWriteFields(t *testing.T) {
	var b bytes.Buffer
	Reply{OK: true, Fields: []Field{{"state", "idle"}, {"drop_sender_limit", "0"}}}.WriteFields(&b)
	if want := "state             idle\ndrop_sender_limit 0\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

// TestCheckLease: the ends are allowed, a step past them is not.
func TestCheckLease(t *testing.T) {
	for d, ok := range map[time.Duration]bool{MinLease: true, MaxLease: true, 3 * time.Second: true,
		MinLease - time.Millisecond: false, MaxLease + time.Second: false, 0: false} {
		if err := CheckLease(d); (err == nil) != ok {
			t.Errorf("CheckLease(%s) = %v", d, err)
		}
	}
	if err := CheckLease(time.Millisecond); err == nil || err.Error() != "--lease 1ms outside 100ms..24h0m0s" {
		t.Errorf("CheckLease(1ms) = %v", err)
	}
}
