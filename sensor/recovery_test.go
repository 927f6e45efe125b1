package sensor

import (
	"errors"
	"strings"
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

// txBus answers every transaction with err, or with next when err is nil.
type txBus struct {
	err  error
	next byte
	addr uint16
	w    []byte
}

func (b *txBus) Tx(addr uint16, w, r []byte) error {
	b.addr, b.w = addr, w
	if b.err != nil {
		return b.err
	}
	for i := range r {
		r[i] = b.next
		b.next++
	}
	return nil
}

func TestBurst(t *testing.T) {
	bus := &txBus{next: 1}
	errInit := errors.New("init")
	var initErr error
	inits := 0
	b := Burst{
		Recovery: Recovery{MaxErrors: 2},
		Name:     "chip",
		Bus:      bus,
		Addr:     0x68,
		Reg:      [1]byte{0x3B},
		Reinit:   func() error { inits++; return initErr },
	}
	var s Sample
	var buf [3]byte
	if err := b.Read(&s, buf[:]); err != nil || buf != [3]byte{1, 2, 3} || bus.addr != 0x68 || string(bus.w) != "\x3b" {
		t.Fatalf("Read: %v, buf % x, Tx at %#x w % x", err, buf, bus.addr, bus.w)
	}
	bus.err = errors.New("nack")
	for range 2 {
		err := b.Read(&s, buf[:])
		if !errors.Is(err, bus.err) || err.Error() != "chip: read at 0x68: nack" || s.Status != StatusSensorError {
			t.Fatalf("failed Read: %v, status %b", err, s.Status)
		}
	}
	if inits != 0 {
		t.Fatalf("%d re-initialisations before MaxErrors failures", inits)
	}
	initErr = errInit
	err := b.Read(&s, buf[:])
	if !errors.Is(err, errInit) || !strings.Contains(err.Error(), "while re-initialising") || inits != 1 {
		t.Fatalf("Read with a failing re-initialisation: %v, %d inits", err, inits)
	}
	initErr, bus.err = nil, nil
	if err := b.Read(&s, buf[:]); err != nil || inits != 2 {
		t.Fatalf("Read after re-initialising: %v, %d inits", err, inits)
	}
	b.Good(&s, false)
	if s.Status != StatusReinit {
		t.Errorf("first good sample after re-init: status %b", s.Status)
	}
	if got, want := b.Stats(), (Stats{Reads: 1, Errors: 3, Reinits: 1}); got != want {
		t.Errorf("Stats %+v, want %+v", got, want)
	}
	if n := testing.AllocsPerRun(100, func() { _ = b.Read(&s, buf[:]) }); n != 0 {
		t.Errorf("Read allocates %v times", n)
	}
}

func TestGoodCounts(t *testing.T) {
	var r Recovery
	for _, tc := range []struct {
		accel, gyro [3]int16
		sat         bool
	}{
		{[3]int16{1, -2, 3}, [3]int16{-32767, 0, 32766}, false},
		{[3]int16{32767, 0, 0}, [3]int16{}, true},
		{[3]int16{}, [3]int16{0, 0, -32768}, true},
	} {
		s := Sample{Status: StatusSaturated | StatusLate}
		r.GoodCounts(&s, tc.accel, tc.gyro, 0.5, 2)
		for i := range 3 {
			if s.Accel[i] != float32(tc.accel[i])/2 || s.Gyro[i] != float32(tc.gyro[i])*2 {
				t.Errorf("%v %v: accel %v gyro %v", tc.accel, tc.gyro, s.Accel, s.Gyro)
			}
		}
		if want := StatusLate | map[bool]Status{true: StatusSaturated}[tc.sat]; s.Status != want {
			t.Errorf("%v %v: status %b, want %b", tc.accel, tc.gyro, s.Status, want)
		}
	}
	if got := r.Stats().Reads; got != 3 {
		t.Errorf("%d reads counted, want 3", got)
	}
}
