package sensor

import (
	"errors"
	"testing"
)

func TestRecovery(t *testing.T) {
	r := Recovery{MaxErrors: 3}
	var s Sample
	s.Status = StatusLate
	errBus := errors.New("bus")
	for i := range 3 {
		if r.Due() {
			t.Fatalf("re-initialisation due after %d failures, want after 3", i)
		}
		if err := r.Fail(&s, errBus); err != errBus {
			t.Fatalf("Fail returned %v", err)
		}
		if s.Status != StatusLate|StatusSensorError {
			t.Fatalf("status after a failure %b", s.Status)
		}
	}
	if !r.Due() {
		t.Fatal("no re-initialisation due after MaxErrors failures")
	}
	r.Reinitialised()
	if r.Due() {
		t.Fatal("still due after re-initialising")
	}
	r.Good(&s, true)
	if s.Status != StatusLate|StatusSaturated|StatusReinit {
		t.Errorf("first good sample after re-init: status %b", s.Status)
	}
	r.Good(&s, false)
	if s.Status != StatusLate {
		t.Errorf("second good sample: status %b, want only the timing bit", s.Status)
	}
	r.Force()
	if !r.Due() {
		t.Error("Force did not make a re-initialisation due")
	}
	if got, want := r.Stats(), (Stats{Reads: 2, Errors: 3, Reinits: 1}); got != want {
		t.Errorf("Stats %+v, want %+v", got, want)
	}
}
