package detect

import (
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/conn/v3/physic"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/sim"
)

// routeBus sends the transactions for one address to their own bus, so the
// barometer's goroutine can replay a recording while the IMU runs on the
// register fake, in whatever order the two interleave.
type routeBus struct {
	i2c.Bus
	addr uint16
	to   i2c.Bus
}

func (r *routeBus) Tx(addr uint16, w, rd []byte) error {
	if addr == r.addr {
		return r.to.Tx(addr, w, rd)
	}
	return r.Bus.Tx(addr, w, rd)
}

func (r *routeBus) SetSpeed(physic.Frequency) error { return nil }

// bmp280Ops is a BMP280 at 0x76 as the probe and periph's bmxx80
// (DefaultOpts) see it: the probe's id read, then bmxx80's id read,
// calibration (a real chip's, from bmxx80's tests) and configuration, and
// one conversion of 100942.6953125 Pa.
func bmp280Ops() []i2ctest.IO {
	return []i2ctest.IO{
		{Addr: 0x76, W: []byte{0xD0}, R: []byte{0x58}},
		{Addr: 0x76, W: []byte{0xD0}, R: []byte{0x58}},
		{Addr: 0x76, W: []byte{0x88}, R: []byte{0x10, 0x6e, 0x6c, 0x66, 0x32, 0x0, 0x5d, 0x95, 0xb8, 0xd5, 0xd0, 0xb, 0x77, 0x1e, 0x9d, 0xff, 0xf9, 0xff, 0xac, 0x26, 0xa, 0xd8, 0xbd, 0x10, 0x0, 0x4b}},
		{Addr: 0x76, W: []byte{0xF4, 0x6C, 0xF5, 0xA0, 0xF4, 0x6C}},
		{Addr: 0x76, W: []byte{0xF4, 0x6D}},
		{Addr: 0x76, W: []byte{0xF3}, R: []byte{0}},
		{Addr: 0x76, W: []byte{0xF7}, R: []byte{0x4a, 0x52, 0xc0, 0x80, 0x96, 0xc0}},
	}
}

const bmp280Pa = float32(100942.6953125)

// readPressure reads d until a sample carries the pressure.
func readPressure(t testing.TB, d *Device, s *sensor.Sample) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.Status = 0
		if err := d.Read(s); err != nil {
			t.Fatal(err)
		}
		if s.Status&sensor.StatusPressure != 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no pressure; baro stats %+v, last error %v", d.Baro.Stats(), d.Baro.LastError())
		}
		time.Sleep(time.Millisecond)
	}
}

func TestOpenBusPressure(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"probed", Config{Pressure: true}},
		{"IMU address given", Config{Addr: 0x68, Pressure: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pb := &i2ctest.Playback{Ops: bmp280Ops(), DontPanic: true}
			bus := &routeBus{Bus: gy91(), addr: 0x76, to: pb}
			d, err := OpenBus(bus, tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if d.Baro == nil || d.BaroErr != nil {
				t.Fatalf("no barometer: %v", d.BaroErr)
			}
			if d.String() != "mpu9250@0x68+bmp280@0x76" {
				t.Errorf("String() = %q", d)
			}
			if desc := d.Describe(); !strings.Contains(desc, "pressure from bmp280@0x76 every 50ms") {
				t.Errorf("Describe() = %q", desc)
			}
			var s sensor.Sample
			readPressure(t, d, &s)
			if s.PressurePa != bmp280Pa || s.Accel[2] < 9.5 || s.Accel[2] > 10.1 {
				t.Errorf("sample %+v; want %v Pa and the IMU at rest", s, bmp280Pa)
			}
			if err := d.Halt(); err != nil {
				t.Fatal(err)
			}
			if err := pb.Close(); err != nil {
				t.Error(err)
			}
			if st := d.Baro.Stats(); st.Reads != 1 {
				t.Errorf("baro stats %+v", st)
			}
		})
	}
}

// Without Pressure the barometer is probed but never opened: no
// transaction beyond the probe's id read.
func TestOpenBusNoPressure(t *testing.T) {
	pb := &i2ctest.Playback{Ops: bmp280Ops()[:1], DontPanic: true}
	d, err := OpenBus(&routeBus{Bus: gy91(), addr: 0x76, to: pb}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Baro != nil || d.BaroErr != nil || d.String() != "mpu9250@0x68" {
		t.Errorf("barometer %v, %v, %q", d.Baro, d.BaroErr, d)
	}
	var s sensor.Sample
	if err := d.Read(&s); err != nil || s.Status&sensor.StatusPressure != 0 {
		t.Errorf("Read: %v, status %#x", err, s.Status)
	}
	if err := pb.Close(); err != nil {
		t.Error(err)
	}
}

// A missing or broken barometer does not stop the IMU.
func TestOpenBusPressureUnavailable(t *testing.T) {
	b := newFakeBus()
	b.add(0x68, 0x75, 0x68)
	d, err := OpenBus(b, Config{Pressure: true})
	if err != nil {
		t.Fatal(err)
	}
	if d.Baro != nil || d.BaroErr == nil {
		t.Fatalf("barometer %v, error %v", d.Baro, d.BaroErr)
	}
	contains(t, d.BaroErr, "detect: no BMP180, BMP280 or BME280 answered at 0x76 or 0x77 on I²C bus 1")
	if desc := d.Describe(); !strings.Contains(desc, "no pressure: detect: no BMP180") {
		t.Errorf("Describe() = %q", desc)
	}

	// Chip id right, calibration read fails.
	pb := &i2ctest.Playback{Ops: bmp280Ops()[:2], DontPanic: true}
	d, err = OpenBus(&routeBus{Bus: gy91(), addr: 0x76, to: pb}, Config{Pressure: true})
	if err != nil {
		t.Fatal(err)
	}
	if d.Baro != nil {
		t.Fatal("barometer opened")
	}
	contains(t, d.BaroErr, "detect: baro: opening the barometer at 0x76")
	var s sensor.Sample
	if err := d.Read(&s); err != nil || s.Status&sensor.StatusPressure != 0 {
		t.Errorf("Read: %v, status %#x", err, s.Status)
	}
}

// The pressure is added to a failed IMU read too: the barometer is
// independent of the IMU.
func TestReadPressureOnIMUError(t *testing.T) {
	d, err := OpenBus(gy91(), Config{Addr: 0x68})
	if err != nil {
		t.Fatal(err)
	}
	pb := &i2ctest.Playback{Ops: bmp280Ops(), DontPanic: true}
	d.openBaro(&routeBus{Bus: newFakeBus(), addr: 0x76, to: pb})
	// Rather than the MPU: an IMU whose every read fails.
	d.Sensor = sim.New(sim.Opts{FailEvery: 1})
	defer d.Halt()
	if d.Baro == nil {
		t.Fatalf("no barometer: %v", d.BaroErr)
	}
	var s sensor.Sample
	deadline := time.Now().Add(5 * time.Second)
	for s.Status&sensor.StatusPressure == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no pressure")
		}
		if err := d.Read(&s); err == nil {
			t.Fatal("IMU read did not fail")
		}
		time.Sleep(time.Millisecond)
	}
	if s.Status&sensor.StatusSensorError == 0 || s.PressurePa != bmp280Pa {
		t.Errorf("sample %+v", s)
	}
}

// The pressure costs the hot path no allocation and no transaction: one
// IMU burst per Read, as without a barometer.
func TestReadPressureHotPath(t *testing.T) {
	pb := &i2ctest.Playback{Ops: bmp280Ops(), DontPanic: true}
	imu := gy91()
	d, err := OpenBus(&routeBus{Bus: imu, addr: 0x76, to: pb}, Config{Pressure: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Halt()
	var s sensor.Sample
	readPressure(t, d, &s)
	imu.mu.Lock()
	before := imu.txs
	imu.mu.Unlock()
	const runs = 100
	if n := testing.AllocsPerRun(runs, func() { _ = d.Read(&s) }); n != 0 {
		t.Errorf("Read with pressure: %v allocs, want 0", n)
	}
	imu.mu.Lock()
	defer imu.mu.Unlock()
	// AllocsPerRun runs the function once more to warm up.
	if n := imu.txs - before; n != runs+1 {
		t.Errorf("%d IMU transactions for %d reads", n, runs+1)
	}
}

func BenchmarkReadPressure(b *testing.B) {
	pb := &i2ctest.Playback{Ops: bmp280Ops(), DontPanic: true}
	d, err := OpenBus(&routeBus{Bus: gy91(), addr: 0x76, to: pb}, Config{Pressure: true})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Halt()
	var s sensor.Sample
	readPressure(b, d, &s)
	b.ReportAllocs()
	for b.Loop() {
		if err := d.Read(&s); err != nil {
			b.Fatal(err)
		}
	}
}
