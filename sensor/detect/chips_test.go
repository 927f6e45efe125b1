package detect

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/bno055"
	"github.com/imustream/imustream/sensor/icm20948"
	"github.com/imustream/imustream/sensor/lsm6dsox"
)

// At 0x68 an unknown WHO_AM_I in 0x75 costs one more read, of 0x00 (the
// ICM-20948's WHO_AM_I), and a found chip names its ID register.
// TestProbeEachChip has every identity value.
func TestProbeUnknownAt0x68(t *testing.T) {
	b := newFakeBus()
	b.add(0x68, 0x75, 0x12)
	if got := Probe(b); len(got) != 1 || got[0].IDReg != 0x75 || b.txs != len(probes)+1 {
		t.Errorf("unknown at 0x68: %+v after %d transactions", got, b.txs)
	}
	if s := (Found{Addr: 0x28, Kind: BNO055, Chip: "BNO055", IDReg: 0, ID: 0xA0}).String(); s != "0x28 BNO055 (CHIP_ID 0xa0)" {
		t.Errorf("String() = %q", s)
	}
}

// An Adafruit LSM6DSOX + LIS3MDL FeatherWing: auto opens the IMU with the
// magnetometer.
func TestOpenBusLSM6WithMag(t *testing.T) {
	b := newFakeBus()
	b.add(0x6A, 0x0F, 0x6C)
	b.add(0x1C, 0x0F, 0x3D)
	d, err := OpenBus(b, Config{RateHz: 208})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := d.Sensor.(*lsm6dsox.Dev); !ok || d.Mag == nil || d.String() != "lsm6dso@0x6a" {
		t.Fatalf("opened %T %v, mag %v", d.Sensor, d, d.Mag)
	}
	if desc := d.Describe(); !strings.Contains(desc, "magnetometer lis3mdl@0x1c") {
		t.Errorf("Describe() = %q", desc)
	}
	var s sensor.Sample
	if err := d.Read(&s); err != nil {
		t.Fatal(err)
	}
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
}

// --fifo auto at 833 Hz reads the LSM6DSO through its FIFO; at 1000 Hz,
// which is no output data rate, it does not.
func TestOpenBusFIFOAuto(t *testing.T) {
	for rate, want := range map[int]bool{833: true, 1000: false, 104: false} {
		b := newFakeBus()
		b.add(0x6B, 0x0F, 0x6B)
		d, err := OpenBus(b, Config{RateHz: rate})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := sensor.AsBatcher(d); ok != want {
			t.Errorf("%d Hz: FIFO %v, want %v", rate, ok, want)
		}
		if want && !strings.Contains(d.Describe(), "read through its FIFO at 833 Hz") {
			t.Errorf("Describe() = %q", d.Describe())
		}
	}
}

// --fifo on with a chip whose FIFO is not read is refused, the chip
// halted; the LSM6DS3TR-C's is read.
func TestOpenBusFIFOOnRefused(t *testing.T) {
	b := newFakeBus()
	b.add(0x68, 0x75, 0x68) // MPU-6050
	_, err := OpenBus(b, Config{RateHz: 1000, FIFO: FIFOOn})
	contains(t, err, "--fifo on", "MPU-6050", "one sample at a time")
	if b.devs[0x68].regs[0x6B]&0x40 == 0 {
		t.Error("the MPU-6050 was left awake")
	}
	// The LSM6DS3TR-C's FIFO is read.
	b = newFakeBus()
	b.add(0x6B, 0x0F, 0x6A) // LSM6DS3TR-C
	d, err := OpenBus(b, Config{RateHz: 833, FIFO: FIFOOn})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := sensor.AsBatcher(d); !ok || !strings.Contains(d.Describe(), "read through its FIFO at 833 Hz") {
		t.Errorf("LSM6DS3TR-C with --fifo on: %q", d.Describe())
	}
}

func TestOpenBusICMAndBNO(t *testing.T) {
	b := newFakeBus()
	icm := b.add(0x69, 0x00, 0xEA)
	icm.regs[0x17] = 0x09 // the AK09916's WIA2 through slave 4
	d, err := OpenBus(b, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := d.Sensor.(*icm20948.Dev); !ok || d.Found.Chip != "ICM-20948" {
		t.Fatalf("opened %T %+v", d.Sensor, d.Found)
	}
	// With the address given, the identity registers choose the driver.
	// (The fake has one register file for all banks: a fresh one.)
	b = newFakeBus()
	b.add(0x69, 0x00, 0xEA).regs[0x17] = 0x09
	d, err = OpenBus(b, Config{Addr: 0x69})
	if err != nil || d.Found.Kind != ICM20948 {
		t.Fatalf("%v %+v", err, d)
	}

	b = newFakeBus()
	bno := b.add(0x28, 0x00, 0xA0)
	bno.regs[0x08+24+1] = 0x40 // quaternion w = 1
	d, err = OpenBus(b, Config{RateHz: 100})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := d.Sensor.(*bno055.Dev); !ok {
		t.Fatalf("opened %T", d.Sensor)
	}
	var s sensor.Sample
	if err := d.Read(&s); err != nil || s.Status&sensor.StatusOrientation == 0 {
		t.Fatalf("read: %v, status %#x", err, s.Status)
	}
	// The daemon's default 200 Hz is beyond its fusion.
	_, err = OpenBus(b, Config{RateHz: 200})
	if !errors.Is(err, bno055.ErrInvalidOpts) {
		t.Errorf("200 Hz: %v", err)
	}
	contains(t, err, "1 to 100 Hz")
}

// A named kind that finds another family's chip says which it is.
func TestOpenBusOtherKind(t *testing.T) {
	b := newFakeBus()
	b.add(0x6A, 0x0F, 0x6C)
	_, err := OpenBus(b, Config{Kind: LSM9DS1})
	contains(t, err, "LSM6DSO/LSM6DSOX", "--sensor lsm6dsox")
}

func TestStretchWarning(t *testing.T) {
	dir := t.TempDir()
	old := sysI2C
	sysI2C = dir
	t.Cleanup(func() { sysI2C = old })
	node := filepath.Join(dir, "i2c-1", "of_node")
	if err := os.MkdirAll(node, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(node, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if w := stretchWarning("1"); w != "" {
		t.Errorf("no compatible: %q", w)
	}
	write("compatible", []byte("brcm,bcm2711-i2c\x00brcm,bcm2835-i2c\x00"))
	if w := stretchWarning("1"); !strings.Contains(w, "100000 Hz") || !strings.Contains(w, "i2c_arm_baudrate=10000") {
		t.Errorf("default speed: %q", w)
	}
	write("clock-frequency", []byte{0, 0, 0x27, 0x10}) // 10 kHz
	if w := stretchWarning("1"); w != "" {
		t.Errorf("10 kHz: %q", w)
	}
	write("clock-frequency", []byte{0, 0x06, 0x1A, 0x80}) // 400 kHz
	if w := stretchWarning("/dev/i2c-1"); !strings.Contains(w, "400000 Hz") {
		t.Errorf("400 kHz: %q", w)
	}
	write("compatible", []byte("snps,designware-i2c\x00")) // Pi 5
	if w := stretchWarning("1"); w != "" {
		t.Errorf("Pi 5: %q", w)
	}
}
