package fifo

import (
	"errors"
	"slices"
	"testing"

	"github.com/imustream/imustream/sensor"
)

// fakeChip records the calls ReadBatch makes and answers from its fields.
type fakeChip struct {
	calls     []string
	count     int
	over      bool
	failAt    string // the call that fails
	perSample int    // count units per sample
}

var errFake = errors.New("fake: bus error")

func (c *fakeChip) call(name string) error {
	c.calls = append(c.calls, name)
	if c.failAt == name {
		return errFake
	}
	return nil
}

func (c *fakeChip) Reinit() error { return c.call("reinit") }
func (c *fakeChip) Status() (int, bool, error) {
	return c.count, c.over, c.call("status")
}
func (c *fakeChip) Reset() error { return c.call("reset") }
func (c *fakeChip) Drain(dst []sensor.Sample, count int) (int, int, error) {
	if err := c.call("drain"); err != nil {
		return 0, 0, err
	}
	queued := count / c.perSample
	n := min(queued, len(dst))
	for i := range n {
		dst[i].Status = 0
	}
	return n, queued, nil
}

// The sequence: re-init only when due, status, reset on an overflow
// (counted, the next sample flagged) or drain; a failure is counted and
// flags dst[0]; samples are timed in order.
func TestReadBatchSequence(t *testing.T) {
	tr := NewTracker(1000)
	r := &sensor.Recovery{MaxErrors: 1}
	c := &fakeChip{perSample: 12}
	dst := make([]sensor.Sample, 4)
	read := func(now int64) (int, error) {
		dst[0].MonoNs, dst[0].WallNs = now, now
		return tr.ReadBatch(dst, r, c)
	}
	k := int64(0)
	step := func(want []string, wantN int, wantErr error) {
		t.Helper()
		c.calls = c.calls[:0]
		k++
		n, err := read(k * 5e6)
		if n != wantN || !errors.Is(err, wantErr) || !slices.Equal(c.calls, want) {
			t.Fatalf("calls %v, %d, %v; want %v, %d, %v", c.calls, n, err, want, wantN, wantErr)
		}
	}
	c.count = 5*12 + 3
	step([]string{"status", "drain"}, 4, nil)
	if tr.left != 1 {
		t.Errorf("left %d, want 1 (5 queued, 4 taken)", tr.left)
	}
	c.over = true
	step([]string{"status", "reset"}, 0, nil)
	c.over, c.count = false, 12
	step([]string{"status", "drain"}, 1, nil)
	if dst[0].Status != sensor.StatusFIFOOverflow || tr.Overflows() != 1 {
		t.Errorf("after overflow: flags %#x, overflows %d", dst[0].Status, tr.Overflows())
	}
	c.failAt = "drain"
	step([]string{"status", "drain"}, 0, errFake)
	if dst[0].Status&sensor.StatusSensorError == 0 || r.Stats().Errors != 1 {
		t.Errorf("failed drain: flags %#x, errors %d", dst[0].Status, r.Stats().Errors)
	}
	c.failAt = "reinit"
	step([]string{"reinit"}, 0, errFake)
	c.failAt = ""
	step([]string{"reinit", "status", "drain"}, 1, nil)
	if st := r.Stats(); st.Reinits != 1 || st.Errors != 2 {
		t.Errorf("stats %+v", st)
	}
	if n, err := tr.ReadBatch(nil, r, c); n != 0 || err != nil {
		t.Errorf("empty dst: %d, %v", n, err)
	}
}
