package detect

import (
	"math"
	"strings"
	"testing"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/lsm9ds1"
)

// bypassBus answers at 0x0C only while the MPU's bypass switch
// (INT_PIN_CFG bit 1) is on, as the AK8963 inside an MPU-9250 does.
type bypassBus struct{ *fakeBus }

func (b *bypassBus) Tx(addr uint16, w, r []byte) error {
	if addr == 0x0C {
		b.mu.Lock()
		on := b.devs[0x68].regs[0x37]&0x02 != 0
		b.mu.Unlock()
		if !on {
			return errNACK
		}
	}
	return b.fakeBus.Tx(addr, w, r)
}

// withAK8963 adds the AK8963 of an MPU-9250: WIA 0x48, ASA 128 (no
// adjustment), and a field of (100, 200, −300) LSB in its axes with data
// ready.
func withAK8963(b *fakeBus) *bypassBus {
	ak := b.add(0x0C, 0x00, 0x48)
	ak.regs[0x10], ak.regs[0x11], ak.regs[0x12] = 128, 128, 128
	ak.before = func(d *fakeDev, reg byte) {
		if reg == 0x02 {
			copy(d.regs[0x02:], []byte{0x01, 100, 0, 200, 0, 0xd4, 0xfe, 0x10})
		}
	}
	return &bypassBus{b}
}

func TestOpenBusMagMPU9250(t *testing.T) {
	d, err := OpenBus(withAK8963(gy91()), Config{Mag: true})
	if err != nil {
		t.Fatal(err)
	}
	if d.Mag == nil || !d.HasMag() || !sensor.HasMag(d) || !strings.Contains(d.Describe(), "magnetometer ak8963@0x0c") {
		t.Fatalf("no magnetometer: %v; %s", d.MagErr, d.Describe())
	}
	var s sensor.Sample
	if err := d.Read(&s); err != nil {
		t.Fatal(err)
	}
	// MPU axes: (AK y, AK x, −AK z) × 0.15 µT.
	want := [3]float64{30, 15, 45}
	for i := range 3 {
		if math.Abs(float64(s.Mag[i])-want[i]) > 1e-4 {
			t.Fatalf("mag %v, want %v", s.Mag, want)
		}
	}
	if s.Status&sensor.StatusMag == 0 || s.Accel[2] < 9 || d.MagStats().Reads != 1 {
		t.Errorf("status %#x accel %v stats %+v", s.Status, s.Accel, d.MagStats())
	}
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
}

// No magnetometer, or none asked for: the IMU streams as before.
func TestOpenBusMagAbsent(t *testing.T) {
	d, err := OpenBus(&bypassBus{gy91()}, Config{Mag: true})
	if err != nil {
		t.Fatal(err)
	}
	if d.Mag != nil || d.MagErr == nil || !strings.Contains(d.Describe(), "no magnetometer") || sensor.HasMag(d) {
		t.Errorf("mag %v err %v", d.Mag, d.MagErr)
	}
	var s sensor.Sample
	if err := d.Read(&s); err != nil || s.Status&sensor.StatusMag != 0 {
		t.Errorf("%v %#x", err, s.Status)
	}
	d, err = OpenBus(withAK8963(gy91()), Config{})
	if err != nil || d.Mag != nil || d.MagErr != nil {
		t.Errorf("opened without Config.Mag: %v %v %v", err, d.Mag, d.MagErr)
	}
	b := newFakeBus()
	b.add(0x68, 0x75, 0x68) // MPU-6050
	d, err = OpenBus(b, Config{Mag: true})
	if err != nil || d.Mag != nil || !strings.Contains(d.MagErr.Error(), "MPU-6050 has no magnetometer") {
		t.Errorf("%v %v", err, d.MagErr)
	}
}

func TestOpenBusMagLSM9DS1(t *testing.T) {
	b := newFakeBus()
	b.add(0x6A, 0x0F, 0x68)
	m := b.add(0x1C, 0x0F, 0x3D)
	m.before = func(d *fakeDev, reg byte) {
		if reg == 0xA7 { // STATUS_REG_M with the auto-increment bit
			copy(d.regs[0xA7:], []byte{0x08, 0x10, 0x27, 0, 0, 0, 0}) // x = 10000 LSB
		}
	}
	d, err := OpenBus(b, Config{Mag: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := d.Mag.(*lsm9ds1.Mag); !ok {
		t.Fatalf("magnetometer %v: %v", d.Mag, d.MagErr)
	}
	var s sensor.Sample
	_ = d.Read(&s) // the fake A/G's registers do not hold the configuration; the field is read all the same
	if s.Status&sensor.StatusMag == 0 || math.Abs(float64(s.Mag[0])+140) > 1e-3 {
		t.Errorf("mag %v status %#x; want x = −140 µT (0.14 mgauss/LSB, x negated)", s.Mag, s.Status)
	}
}
