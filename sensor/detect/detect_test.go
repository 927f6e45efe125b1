package detect

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/bno055"
	"github.com/imustream/imustream/sensor/icm20948"
	"github.com/imustream/imustream/sensor/lsm6dsox"
	"github.com/imustream/imustream/sensor/lsm9ds1"
	"github.com/imustream/imustream/sensor/mpu6050"
)

// fakeDev points devDir at a temporary directory holding the given i2c-N
// nodes, and checkOpen at openErr.
func fakeDevDir(t *testing.T, openErr error, buses ...string) {
	t.Helper()
	dir := t.TempDir()
	for _, n := range buses {
		if err := os.WriteFile(filepath.Join(dir, "i2c-"+n), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	oldDir, oldOpen := devDir, checkOpen
	devDir = dir
	checkOpen = func(string) error { return openErr }
	t.Cleanup(func() { devDir, checkOpen = oldDir, oldOpen })
}

func contains(t *testing.T, err error, subs ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want one saying %q", subs)
	}
	for _, s := range subs {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q lacks %q", err, s)
		}
	}
	if !strings.HasPrefix(err.Error(), "detect: ") {
		t.Errorf("error %q lacks the package prefix", err)
	}
}

func TestNoI2C(t *testing.T) {
	fakeDevDir(t, nil)
	s, err := Open(Config{})
	if s != nil || !errors.Is(err, ErrNoBus) {
		t.Fatalf("Open = %v, %v; want nil, ErrNoBus", s, err)
	}
	contains(t, err, "i2c-*", "dtparam=i2c_arm=on", "/boot/firmware/config.txt", "raspi-config", "reboot")
	found, err := ProbeBus(Config{Bus: "1"}, "")
	if found != nil || !errors.Is(err, ErrNoBus) {
		t.Fatalf("ProbeBus = %v, %v", found, err)
	}
	// Recording must not leave a file behind when there is no bus.
	rec := filepath.Join(t.TempDir(), "trace.json")
	if _, err := ProbeBus(Config{}, rec); !errors.Is(err, ErrNoBus) {
		t.Fatal(err)
	}
	if _, err := os.Stat(rec); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("trace written without a bus: %v", err)
	}
}

// A Pi 4 with the header bus off still has the HDMI buses.
func TestWrongBus(t *testing.T) {
	fakeDevDir(t, nil, "20", "21")
	for _, name := range []string{"", "1", "I2C1", "/dev/i2c-1"} {
		_, err := Open(Config{Bus: name})
		if !errors.Is(err, ErrNoBus) {
			t.Fatalf("bus %q: %v", name, err)
		}
		contains(t, err, "i2c-1 does not exist", "20, 21", "dtparam=i2c_arm=on")
	}
}

func TestPermissionDenied(t *testing.T) {
	fakeDevDir(t, &fs.PathError{Op: "open", Path: "/dev/i2c-1", Err: syscall.EACCES}, "1")
	_, err := Open(Config{Bus: "1"})
	if !errors.Is(err, ErrPermission) || !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("%v; want ErrPermission wrapping fs.ErrPermission", err)
	}
	contains(t, err, "i2c group", "sudo usermod -aG i2c $USER")
	if _, err := ProbeBus(Config{}, ""); !errors.Is(err, ErrPermission) {
		t.Errorf("ProbeBus: %v", err)
	}
}

func TestOtherOpenError(t *testing.T) {
	fakeDevDir(t, syscall.EBUSY, "1")
	_, err := Open(Config{})
	if !errors.Is(err, syscall.EBUSY) || errors.Is(err, ErrPermission) || errors.Is(err, ErrNoBus) {
		t.Fatalf("%v", err)
	}
}

func TestBusNumber(t *testing.T) {
	for in, want := range map[string]string{"1": "1", "I2C1": "1", "/dev/i2c-22": "22", "FT232H": "", "": "", "-1": ""} {
		got, ok := busNumber(in)
		if got != want || ok != (want != "") {
			t.Errorf("busNumber(%q) = %q, %v", in, got, ok)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string // "" means valid
		is   error
	}{
		{Config{}, "", nil},
		{Config{Kind: "mpu6050", Addr: 0x69, GyroRangeDPS: 1000, DLPFHz: 41}, "", nil},
		{Config{Kind: "lsm9ds1", GyroRangeDPS: 245}, "", nil},
		{Config{GyroRangeDPS: 250}, "", nil}, // auto: an MPU has it
		{Config{GyroRangeDPS: 245}, "", nil}, // auto: the LSM9DS1 has it
		{Config{RateHz: 952}, "", nil},       // auto: the LSM9DS1 can
		{Config{Kind: "sim"}, "auto, mpu6050, icm20948, lsm9ds1, lsm6dsox, bno055", nil},
		{Config{Kind: "MPU6050"}, "auto, mpu6050, icm20948, lsm9ds1, lsm6dsox, bno055", nil},
		{Config{Kind: "icm20948", RateHz: 1125, FIFO: FIFOOn}, "", nil},
		{Config{Kind: "icm20948", RateHz: 1000, FIFO: FIFOOn}, "1125, 375, 225", icm20948.ErrInvalidOpts},
		{Config{Kind: "icm20948", RateHz: 1000}, "", nil}, // auto: no FIFO at a rate it cannot take
		{Config{Kind: "lsm6dsox", RateHz: 833, FIFO: FIFOOn, GyroRangeDPS: 4000}, "", nil},
		{Config{Kind: "lsm6dsox", DLPFHz: 41}, "leave it unset", lsm6dsox.ErrInvalidOpts},
		{Config{Kind: "bno055", RateHz: 100}, "", nil},
		{Config{Kind: "bno055", RateHz: 100, AccelRangeG: 8}, "sets its own", bno055.ErrInvalidOpts},
		{Config{Kind: "bno055", RateHz: 200}, "1 to 100 Hz", bno055.ErrInvalidOpts},
		{Config{Kind: "bno055", Addr: 0x68}, "0x28, 0x29", nil},
		{Config{FIFO: "yes"}, "auto, on, off", nil},
		{Config{Addr: 0x50}, "0x68, 0x69, 0x6a, 0x6b", nil},
		{Config{Kind: "lsm9ds1", Addr: 0x68}, "0x6a, 0x6b", nil},
		{Config{Kind: "mpu6050", GyroRangeDPS: 245}, "250, 500, 1000, 2000", mpu6050.ErrInvalidOpts},
		{Config{Kind: "lsm9ds1", GyroRangeDPS: 1000}, "245, 500, 2000", lsm9ds1.ErrInvalidOpts},
		{Config{Kind: "lsm9ds1", DLPFHz: 41}, "leave it unset", lsm9ds1.ErrInvalidOpts},
		{Config{Addr: 0x6A, DLPFHz: 41}, "leave it unset", lsm9ds1.ErrInvalidOpts},
		{Config{Kind: "mpu6050", RateHz: 300}, "1000, 500, 250, 200", mpu6050.ErrInvalidOpts},
		{Config{GyroRangeDPS: 1500}, "250, 500, 1000, 2000", lsm9ds1.ErrInvalidOpts}, // neither
	} {
		err := tc.cfg.Validate()
		if tc.want == "" {
			if err != nil {
				t.Errorf("%+v: %v", tc.cfg, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "detect: ") {
			t.Errorf("%+v: %v; want an error listing %q", tc.cfg, err, tc.want)
		}
		if tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("%+v: %v does not match %v", tc.cfg, err, tc.is)
		}
		if InvalidOpts(err) != (tc.is != nil) {
			t.Errorf("%+v: InvalidOpts(%v) = %v, want %v", tc.cfg, err, InvalidOpts(err), tc.is != nil)
		}
	}
}

func TestProbe(t *testing.T) {
	b := gy91()
	b.add(0x6B, 0x0F, 0x69) // an LSM6DS3 where an LSM9DS1 could be
	got := Probe(b)
	want := []Found{
		{Addr: 0x68, Kind: MPU6050, Chip: "MPU-9250", IDReg: 0x75, ID: 0x71},
		{Addr: 0x6B, Kind: "", Chip: "unknown", IDReg: 0x0F, ID: 0x69},
		{Addr: 0x76, Kind: BMP280, Chip: "BMP280", IDReg: 0xD0, ID: 0x58},
	}
	if len(got) != len(want) {
		t.Fatalf("Probe = %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("Probe[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	if s := got[0].String(); s != "0x68 MPU-9250 (WHO_AM_I 0x71)" {
		t.Errorf("String() = %q", s)
	}
	if s := got[1].String(); !strings.Contains(s, "0x6b unknown") || !strings.Contains(s, "= 0x69") || !strings.Contains(s, "expected 0x68 (LSM9DS1") {
		t.Errorf("String() = %q", s)
	}
	if s := got[2].String(); s != "0x76 BMP280 (chip id 0x58)" {
		t.Errorf("String() = %q", s)
	}
	// Probe only reads: one transaction per address, no writes.
	if b.txs != len(probes) {
		t.Errorf("%d transactions for %d addresses", b.txs, len(probes))
	}
}

func TestProbeEachChip(t *testing.T) {
	for _, tc := range []struct {
		addr uint16
		reg  byte
		id   byte
		kind Kind
		chip string
	}{
		{0x68, 0x75, 0x68, MPU6050, "MPU-6050"},
		{0x69, 0x75, 0x70, MPU6050, "MPU-6500"},
		{0x68, 0x75, 0x71, MPU6050, "MPU-9250"},
		{0x68, 0x75, 0x73, MPU6050, "MPU-9255"},
		{0x6A, 0x0F, 0x68, LSM9DS1, "LSM9DS1"},
		{0x6B, 0x0F, 0x68, LSM9DS1, "LSM9DS1"},
		{0x77, 0xD0, 0x55, BMP180, "BMP180"},
		{0x77, 0xD0, 0x60, BME280, "BME280"},
		{0x68, 0x75, 0x00, "", "unknown"},
		// The families of the newer boards, at each of their addresses.
		{0x68, 0x00, 0xEA, ICM20948, "ICM-20948"},
		{0x69, 0x00, 0xEA, ICM20948, "ICM-20948"},
		{0x6A, 0x0F, 0x6C, LSM6DSOX, "LSM6DSO/LSM6DSOX"},
		{0x6B, 0x0F, 0x6A, LSM6DSOX, "LSM6DS3TR-C"},
		{0x6A, 0x0F, 0x6B, LSM6DSOX, "ISM330DHCX"},
		{0x28, 0x00, 0xA0, BNO055, "BNO055"},
		{0x29, 0x00, 0xA0, BNO055, "BNO055"},
		{0x1C, 0x0F, 0x3D, LIS3MDL, "LIS3MDL"},
		{0x1E, 0x0F, 0x3D, LIS3MDL, "LIS3MDL"},
		{0x28, 0x00, 0xA1, "", "unknown"},
	} {
		b := newFakeBus()
		b.add(tc.addr, tc.reg, tc.id)
		got := Probe(b)
		if len(got) != 1 || got[0].Addr != tc.addr || got[0].Kind != tc.kind || got[0].Chip != tc.chip || got[0].ID != tc.id || got[0].IDReg != tc.reg {
			t.Errorf("%#x in %#x at %#x: %+v", tc.id, tc.reg, tc.addr, got)
		}
	}
}

func TestOpenBusAuto(t *testing.T) {
	b := gy91()
	d, err := OpenBus(b, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := d.Sensor.(*mpu6050.Dev); !ok || d.String() != "mpu9250@0x68" {
		t.Fatalf("opened %T %v", d.Sensor, d)
	}
	if d.Found != (Found{Addr: 0x68, Kind: MPU6050, Chip: "MPU-9250", IDReg: 0x75, ID: 0x71}) {
		t.Errorf("Found %+v", d.Found)
	}
	desc := d.Describe()
	for _, s := range []string{"mpu9250@0x68", "MPU-9250", "bus 1", "0x76 BMP280"} {
		if !strings.Contains(desc, s) {
			t.Errorf("Describe() = %q lacks %q", desc, s)
		}
	}
	var s sensor.Sample
	for range 3 {
		if err := d.Read(&s); err != nil {
			t.Fatal(err)
		}
	}
	// The fake sits flat: about +1 g on Z.
	if s.Accel[2] < 9.5 || s.Accel[2] > 10.1 {
		t.Errorf("accel %v", s.Accel)
	}
	if st := d.Stats(); st.Reads != 3 || st.Errors != 0 {
		t.Errorf("stats %+v", st)
	}
	// The driver was configured as Config says (defaults): 200 Hz, 92 Hz
	// filter, ±500 °/s, ±4 g.
	mpu := b.devs[0x68]
	if got := mpu.regs[0x19:0x1E]; string(got) != string([]byte{4, 2, 0x08, 0x08, 2}) {
		t.Errorf("config registers % x", got)
	}
	if mpu.regs[0x6C] != 0 {
		t.Errorf("PWR_MGMT_2 = %#x; all axes must be on", mpu.regs[0x6C])
	}
}

func TestOpenBusSenseHAT(t *testing.T) {
	b := newFakeBus()
	b.add(0x6A, 0x0F, 0x68)
	b.add(0x1C, 0x0F, 0x3D) // the magnetometer, not probed
	d, err := OpenBus(b, Config{GyroRangeDPS: 2000, RateHz: 100})
	if err != nil {
		t.Fatal(err)
	}
	l, ok := d.Sensor.(*lsm9ds1.Dev)
	if !ok || d.String() != "lsm9ds1@0x6a" || l.ODR() != lsm9ds1.ODR119Hz {
		t.Fatalf("opened %T %v", d.Sensor, d)
	}
	// The Sense HAT's magnetometer has the LIS3MDL's WHO_AM_I: it is
	// named for what it is, and not opened.
	if d.Found.Kind != LSM9DS1 || len(d.Probed) != 2 || d.Probed[1].Chip != "LSM9DS1 magnetometer" || d.Mag != nil {
		t.Errorf("Found %+v, probed %v", d.Found, d.Probed)
	}
	var s sensor.Sample
	if err := d.Read(&s); err != nil {
		t.Fatal(err)
	}
}

func TestOpenBusPrefersFirst(t *testing.T) {
	b := newFakeBus()
	b.add(0x69, 0x75, 0x68)
	b.add(0x6A, 0x0F, 0x68)
	d, err := OpenBus(b, Config{})
	if err != nil || d.Found.Addr != 0x69 {
		t.Fatalf("%v %+v", err, d)
	}
	// Kind narrows the choice.
	d, err = OpenBus(b, Config{Kind: LSM9DS1})
	if err != nil || d.Found.Addr != 0x6A {
		t.Fatalf("%v %+v", err, d)
	}
}

func TestNothingAnswers(t *testing.T) {
	for _, cfg := range []Config{{}, {Kind: MPU6050}, {Kind: LSM9DS1, Bus: "3"}} {
		b := newFakeBus()
		b.add(0x76, 0xD0, 0x58)
		_, err := OpenBus(b, cfg)
		if !errors.Is(err, sensor.ErrNotFound) {
			t.Fatalf("%+v: %v", cfg, err)
		}
		n := cfg.Bus
		if n == "" {
			n = "1"
		}
		contains(t, err, "nothing answered", "pin 3", "pin 5", "AD0", "i2cdetect -y "+n, "the bus itself works: 0x76 BMP280")
		if cfg.Kind == LSM9DS1 && strings.Contains(err.Error(), "0x68,") {
			t.Errorf("%q lists addresses of another kind", err)
		}
	}
}

func TestWrongChipAtAddress(t *testing.T) {
	b := newFakeBus()
	b.add(0x68, 0x75, 0x12) // an RTC, say
	_, err := OpenBus(b, Config{})
	var we *mpu6050.WhoAmIError
	if !errors.As(err, &we) || we.Got != 0x12 || we.Addr != 0x68 {
		t.Fatalf("%v; want a *mpu6050.WhoAmIError", err)
	}
	contains(t, err, "WHO_AM_I 0x12", "expected 0x68 (MPU-6050), 0x70 (MPU-6500), 0x71 (MPU-9250) or 0x73 (MPU-9255)")

	// With the address given, the driver's own check says the same.
	_, err = OpenBus(b, Config{Addr: 0x68})
	if !errors.As(err, &we) || we.Got != 0x12 {
		t.Fatalf("%v", err)
	}
	contains(t, err, "imustream probe")

	b = newFakeBus()
	b.add(0x6A, 0x0F, 0x6C)
	_, err = OpenBus(b, Config{Kind: LSM9DS1})
	var lw *lsm9ds1.WhoAmIError
	if !errors.As(err, &lw) || lw.Got != 0x6C {
		t.Fatalf("%v", err)
	}
}

func TestExplicitAddressNothingThere(t *testing.T) {
	b := gy91()
	_, err := OpenBus(b, Config{Kind: MPU6050, Addr: 0x69})
	if !errors.Is(err, sensor.ErrNotFound) || !errors.Is(err, errNACK) {
		t.Fatalf("%v", err)
	}
	contains(t, err, "0x69", "AD0", "i2cdetect -y 1")
}

func TestInvalidOptsForFoundChip(t *testing.T) {
	b := newFakeBus()
	b.add(0x6A, 0x0F, 0x68)
	// Valid for an MPU, so auto accepts it until it finds an LSM9DS1.
	_, err := OpenBus(b, Config{GyroRangeDPS: 1000})
	if !errors.Is(err, lsm9ds1.ErrInvalidOpts) {
		t.Fatalf("%v", err)
	}
	contains(t, err, "245, 500, 2000")
}

type closeCounter struct{ n int }

func (c *closeCounter) Close() error { c.n++; return nil }

func TestDeviceHaltClosesBus(t *testing.T) {
	d, err := OpenBus(gy91(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	c := &closeCounter{}
	d.closer = c
	if err := d.Halt(); err != nil || c.n != 1 {
		t.Fatalf("%v, closed %d times", err, c.n)
	}
}

// On a host without I²C (a CI runner, a laptop) the real Open and ProbeBus
// fail fast with the actionable error and no panic.
func TestRealHostWithoutI2C(t *testing.T) {
	if nodes, _ := filepath.Glob("/dev/i2c-*"); len(nodes) > 0 {
		t.Skip("this host has I²C buses")
	}
	s, err := Open(Config{})
	if s != nil || !errors.Is(err, ErrNoBus) {
		t.Fatalf("Open = %v, %v", s, err)
	}
	contains(t, err, "dtparam=i2c_arm=on")
	if _, err := ProbeBus(Config{}, ""); !errors.Is(err, ErrNoBus) {
		t.Fatalf("ProbeBus: %v", err)
	}
}

func TestAddrFlag(t *testing.T) {
	for in, want := range map[string]Addr{"0x68": 0x68, "104": 0x68, "0x7f": 0x7f, "0x1c": 0x1c} {
		var a Addr
		if err := a.Set(in); err != nil || a != want {
			t.Errorf("Set(%q) = %v, %v; want %#x", in, a, err, uint16(want))
		}
	}
	for _, in := range []string{"0", "0x80", "x", "-1", ""} {
		var a Addr
		if err := a.Set(in); err == nil {
			t.Errorf("Set(%q) = %v, want an error", in, a)
		}
	}
	if s := Addr(0x68).String(); s != "0x68" || Addr(0).String() != "" {
		t.Errorf("String: %q, %q", s, Addr(0).String())
	}
}
