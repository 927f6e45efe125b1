package receiver

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/imustream/imustream/control"
)

// clockSource answers time exchanges as a device whose clock is off by
// offset, with a 200 µs round trip; with fail set it answers none.
type clockSource struct {
	now, offset int64
	fail        bool
}

func (s *clockSource) Time(context.Context) (control.TimeSample, error) {
	if s.fail {
		return control.TimeSample{}, errors.New("no reply")
	}
	s.now += 1e6
	d := s.now + 100e3 + s.offset
	return control.TimeSample{Sent: s.now, Received: s.now + 200e3, Device: control.DeviceTimes{Rx: d, Tx: d}}, nil
}

// TestWriteSync: the offset and round trip of a few exchanges, the drift
// unknown without 10 s of them; one line when the daemon does not answer.
func TestWriteSync(t *testing.T) {
	var b bytes.Buffer
	WriteSync(&b, &clockSource{offset: 5e6}, 0)
	out := b.String()
	for _, want := range []string{"time_offset       5ms (device − this host", "time_rtt          200µs (smallest of ", "time_drift        unknown"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	b.Reset()
	WriteSync(&b, &clockSource{fail: true}, 0)
	if want := "time_sync         none: the daemon did not answer the time command\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}
