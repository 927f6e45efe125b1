package sensor

import "testing"

type plain struct{}

func (plain) Read(*Sample) error { return nil }
func (plain) String() string     { return "plain" }
func (plain) Halt() error        { return nil }

type withMag struct{ plain }

func (withMag) HasMag() bool         { return true }
func (withMag) HasOrientation() bool { return true }

type wrapper struct {
	plain
	in Sensor
}

func (w wrapper) Unwrap() Sensor { return w.in }

func TestHasMagThroughWrappers(t *testing.T) {
	if HasMag(plain{}) || HasOrientation(plain{}) || HasMag(wrapper{in: plain{}}) {
		t.Error("plain sensor has a magnetometer")
	}
	if !HasMag(wrapper{in: wrapper{in: withMag{}}}) || !HasOrientation(wrapper{in: withMag{}}) {
		t.Error("not found through wrappers")
	}
}

func TestAxesAndMagReading(t *testing.T) {
	if got := (Axes{2, 1, -3}).Apply([3]float64{1, 2, 3}); got != [3]float64{2, 1, -3} {
		t.Errorf("%v", got)
	}
	if got := (Axes{}).Apply([3]float64{1, 2, 3}); got != [3]float64{1, 2, 3} {
		t.Errorf("identity %v", got)
	}
	var m MagReading
	var s Sample
	m.Put(&s)
	if s.Status != 0 {
		t.Error("a reading before any")
	}
	m.SetCounts(&s, [3]int16{10, -20, 30}, [3]float64{0.5, 0.5, 0.5}, Axes{-1, 2, 3}, false)
	if s.Mag != [3]float32{-5, -10, 15} || s.Status != StatusMag {
		t.Errorf("%v %#x", s.Mag, s.Status)
	}
	m.SetCounts(&s, [3]int16{1, 2, 3}, [3]float64{1, 1, 1}, Axes{}, true)
	if s.Mag != [3]float32{-5, -10, 15} || s.Status != StatusMagOverflow {
		t.Errorf("overflow: %v %#x", s.Mag, s.Status)
	}
	for i := range MaxStaleReads {
		if m.NoData(&s) {
			t.Fatalf("stale after %d", i+1)
		}
	}
	if !m.NoData(&s) || s.Status != StatusMag {
		t.Error("not stale after MaxStaleReads+1")
	}
}
