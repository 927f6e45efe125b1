package detect

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2creg"
	"periph.io/x/host/v3"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/baro"
	"github.com/imustream/imustream/sensor/lsm9ds1"
	"github.com/imustream/imustream/sensor/mpu6050"
)

var (
	// ErrNoBus is wrapped when the I²C bus device node is missing.
	ErrNoBus = errors.New("detect: no I²C bus")
	// ErrPermission is wrapped when the bus exists but may not be opened.
	ErrPermission = errors.New("detect: permission denied")
)

// Where the i2c-dev nodes live, and how to test one for access; tests
// replace both (they may run as root, which ignores file modes).
var (
	devDir    = "/dev"
	checkOpen = func(path string) error {
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			return err
		}
		return f.Close()
	}
)

const enableHint = "enable I²C with `dtparam=i2c_arm=on` in /boot/firmware/config.txt (/boot/config.txt before Bookworm), or raspi-config → Interface Options → I2C, and reboot"

// busNumber returns N for "N", "I2CN" and "/dev/i2c-N".
func busNumber(name string) (string, bool) {
	n := strings.TrimPrefix(strings.TrimPrefix(name, "/dev/i2c-"), "I2C")
	if _, err := strconv.ParseUint(n, 10, 16); err != nil {
		return "", false
	}
	return n, true
}

// checkBus turns the two usual set-up problems into actionable errors before
// periph reports them less helpfully (its sysfs driver formats errors with
// %v, so they cannot be matched, and blames a "plugdev" group).
func checkBus(name string) error {
	nodes, err := filepath.Glob(filepath.Join(devDir, "i2c-*"))
	if err != nil {
		return fmt.Errorf("detect: listing I²C buses: %w", err)
	}
	sort.Strings(nodes)
	if len(nodes) == 0 {
		return fmt.Errorf("%w: no %s found; %s", ErrNoBus, filepath.Join(devDir, "i2c-*"), enableHint)
	}
	n, ok := busNumber(name)
	if !ok {
		return nil // Not an i2c-dev bus (an FT232H, say): periph knows.
	}
	path := filepath.Join(devDir, "i2c-"+n)
	if _, err := os.Stat(path); err != nil {
		// Pi 4 and 5 have i2c-20/21 (HDMI) even with the header bus off.
		var others []string
		for _, p := range nodes {
			others = append(others, strings.TrimPrefix(filepath.Base(p), "i2c-"))
		}
		return fmt.Errorf("%w: %s does not exist (buses present: %s); %s; if the sensor is on another bus, name that one", ErrNoBus, path, strings.Join(others, ", "), enableHint)
	}
	if err := checkOpen(path); err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return fmt.Errorf("%w: cannot open %s: add your user to the i2c group (`sudo usermod -aG i2c $USER`, then log out and in again): %w", ErrPermission, path, err)
		}
		return fmt.Errorf("detect: opening %s: %w", path, err)
	}
	return nil
}

// openBus validates cfg, checks the host, initialises periph and opens
// the bus cfg names.
func openBus(cfg *Config) (i2c.BusCloser, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	name := cfg.bus()
	if err := checkBus(name); err != nil {
		return nil, err
	}
	if _, err := host.Init(); err != nil {
		return nil, fmt.Errorf("detect: initialising periph host drivers: %w", err)
	}
	b, err := i2creg.Open(name)
	if err != nil {
		return nil, fmt.Errorf("detect: opening I²C bus %q: %w", name, err)
	}
	return b, nil
}

// Found is a device that answered a probe.
type Found struct {
	Addr uint16 `json:"addr"`
	// Kind is the driver family, a barometer kind, or "" when the identity
	// register held an unknown value.
	Kind Kind `json:"kind,omitempty"`
	// Chip is the datasheet name, e.g. "MPU-9250", or "unknown".
	Chip  string `json:"chip"`
	IDReg byte   `json:"id_reg"` // the identity register read
	ID    byte   `json:"id"`     // the value read
}

// IMU reports whether f can be opened.
func (f Found) IMU() bool { return f.Kind.IMU() }

// String says what is where, e.g. "0x68 MPU-9250 (WHO_AM_I 0x71)".
func (f Found) String() string {
	reg := "WHO_AM_I"
	if f.IDReg == regBaroID {
		reg = "chip id"
	}
	if f.Kind == "" {
		return fmt.Sprintf("%#02x unknown device (register 0x%02x = 0x%02x; expected %s)", f.Addr, f.IDReg, f.ID, expected(f.Addr))
	}
	return fmt.Sprintf("%#02x %s (%s 0x%02x)", f.Addr, f.Chip, reg, f.ID)
}

const (
	regMPUWhoAmI = 0x75
	regLSMWhoAmI = 0x0F
	regBaroID    = 0xD0
)

// probes are the addresses Probe tries, in order, and how to identify what
// answers.
var probes = []struct {
	addr uint16
	reg  byte
}{
	{0x68, regMPUWhoAmI},
	{0x69, regMPUWhoAmI},
	{0x6A, regLSMWhoAmI},
	{0x6B, regLSMWhoAmI},
	{0x76, regBaroID},
	{0x77, regBaroID},
}

func identify(addr uint16, reg, id byte) Found {
	f := Found{Addr: addr, IDReg: reg, ID: id, Chip: "unknown"}
	switch reg {
	case regMPUWhoAmI:
		if c, ok := mpu6050.ChipFromWhoAmI(id); ok {
			f.Kind, f.Chip = MPU6050, c.String()
		}
	case regLSMWhoAmI:
		if lsm9ds1.IsWhoAmI(id) {
			f.Kind, f.Chip = LSM9DS1, "LSM9DS1"
		}
	case regBaroID:
		switch id {
		case 0x55:
			f.Kind, f.Chip = BMP180, "BMP180"
		case 0x58:
			f.Kind, f.Chip = BMP280, "BMP280"
		case 0x60:
			f.Kind, f.Chip = BME280, "BME280"
		}
	}
	return f
}

func expected(addr uint16) string {
	switch kindAt(addr) {
	case MPU6050:
		return mpu6050.Expected()
	case LSM9DS1:
		return lsm9ds1.Expected()
	}
	return "0x55 (BMP180), 0x58 (BMP280) or 0x60 (BME280)"
}

// Probe reads the identity register at each known address (0x68, 0x69,
// 0x6a, 0x6b, 0x76, 0x77) and returns what answered, known or not. It only
// reads; it does not configure anything.
func Probe(bus i2c.Bus) []Found {
	var out []Found
	var id [1]byte
	for _, p := range probes {
		if err := bus.Tx(p.addr, []byte{p.reg}, id[:]); err != nil {
			continue // No ACK: nothing there.
		}
		out = append(out, identify(p.addr, p.reg, id[0]))
	}
	return out
}

// Device is an opened IMU. Read is the driver's; Halt also closes the bus
// when Open opened it.
type Device struct {
	sensor.Sensor // *mpu6050.Dev or *lsm9ds1.Dev
	// Found is the chip in use.
	Found Found
	// Probed is everything that answered the probe, Found included; nil
	// when Config.Addr named the address.
	Probed []Found
	// Bus is the bus name.
	Bus string
	// Baro is the barometer whose pressure Read adds, when Config.Pressure
	// asked for one and it opened; BaroErr says why not otherwise.
	Baro    *baro.Dev
	BaroErr error
	// Mag is the magnetometer Read adds, when Config.Mag asked for one and
	// the chip has one that opened; MagErr says why not otherwise.
	Mag    sensor.Magnetometer
	MagErr error

	closer io.Closer
}

// Read reads the IMU and adds the barometer's latest pressure, flagged
// sensor.StatusPressure while it is fresh. It never waits for the
// barometer, and the pressure is added even when the IMU read fails.
func (d *Device) Read(s *sensor.Sample) error {
	err := d.Sensor.Read(s)
	if d.Mag != nil {
		// Its faults are its own (counted in MagStats), not the IMU's.
		_ = d.Mag.ReadMag(s)
	}
	if d.Baro != nil {
		if pa, ok := d.Baro.Pressure(); ok {
			s.PressurePa = pa
			s.Status |= sensor.StatusPressure
		} else {
			s.Status &^= sensor.StatusPressure
		}
	}
	return err
}

// String names the IMU, and the barometer if one is read, e.g.
// "mpu9250@0x68+bmp280@0x76".
func (d *Device) String() string {
	if d.Baro != nil {
		return d.Sensor.String() + "+" + d.Baro.String()
	}
	return d.Sensor.String()
}

// Halt stops the barometer and the sensor and closes the bus if Open
// opened it.
func (d *Device) Halt() error {
	var err error
	if d.Baro != nil {
		err = d.Baro.Halt()
	}
	if d.Mag != nil {
		err = errors.Join(err, d.Mag.Halt())
	}
	err = errors.Join(err, d.Sensor.Halt())
	if d.closer != nil {
		if cerr := d.closer.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("detect: closing bus: %w", cerr))
		}
		d.closer = nil
	}
	return err
}

// Stats returns the driver's counters; safe to call while another
// goroutine reads.
func (d *Device) Stats() sensor.Stats {
	if c, ok := d.Sensor.(sensor.Counted); ok {
		return c.Stats()
	}
	return sensor.Stats{}
}

// Describe says what was found and what else answered, for the log, e.g.
// "mpu9250@0x68: MPU-9250 (WHO_AM_I 0x71) on I²C bus 1; also there: 0x76
// BMP280 (chip id 0x58)".
func (d *Device) Describe() string {
	s := fmt.Sprintf("%s: %s (WHO_AM_I 0x%02x) on I²C bus %s", d.Sensor, d.Found.Chip, d.Found.ID, d.Bus)
	if d.Baro != nil {
		s += fmt.Sprintf("; pressure from %s every %s", d.Baro, d.Baro.Period())
	} else if d.BaroErr != nil {
		s += "; no pressure: " + d.BaroErr.Error()
	}
	if d.Mag != nil {
		s += "; field from " + d.Mag.String()
	} else if d.MagErr != nil {
		s += "; no magnetometer: " + d.MagErr.Error()
	}
	var others []string
	for _, f := range d.Probed {
		if f.Addr != d.Found.Addr {
			others = append(others, f.String())
		}
	}
	if len(others) > 0 {
		s += "; also there: " + strings.Join(others, ", ")
	}
	return s
}

// Open validates cfg, checks that the bus exists and may be opened,
// initialises periph's host drivers, opens the bus and the IMU on it. The
// result is a *Device; its Halt closes the bus.
//
// On a machine without I²C it fails at once with an error wrapping ErrNoBus.
func Open(cfg Config) (sensor.Sensor, error) {
	bus, err := openBus(&cfg)
	if err != nil {
		return nil, err
	}
	d, err := OpenBus(bus, cfg)
	if err != nil {
		bus.Close()
		return nil, err
	}
	d.closer = bus
	return d, nil
}

// OpenBus opens the IMU cfg describes on a bus the caller opened (and
// closes). With cfg.Addr zero it probes the known addresses of cfg.Kind and
// takes the first supported chip, in the order 0x68, 0x69, 0x6a, 0x6b.
func OpenBus(bus i2c.Bus, cfg Config) (*Device, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	d := &Device{Bus: cfg.bus()}
	addr := cfg.Addr
	if addr == 0 {
		d.Probed = Probe(bus)
		for _, f := range d.Probed {
			if f.IMU() && (cfg.kind() == Auto || f.Kind == cfg.kind()) {
				addr = f.Addr
				break
			}
		}
		if addr == 0 {
			return nil, notFound(&cfg, d.Probed)
		}
	}
	var err error
	switch kindAt(addr) {
	case MPU6050:
		var m *mpu6050.Dev
		if m, err = mpu6050.New(bus, addr, cfg.mpuOpts()); err == nil {
			d.Sensor = m
			d.Found = Found{Addr: addr, Kind: MPU6050, Chip: m.Chip().String(), IDReg: regMPUWhoAmI, ID: m.Chip().WhoAmI()}
		}
	case LSM9DS1:
		var o *lsm9ds1.Opts
		if o, err = cfg.lsmOpts(); err != nil {
			break
		}
		var l *lsm9ds1.Dev
		if l, err = lsm9ds1.New(bus, addr, o); err == nil {
			d.Sensor = l
			d.Found = Found{Addr: addr, Kind: LSM9DS1, Chip: "LSM9DS1", IDReg: regLSMWhoAmI, ID: 0x68}
		}
	}
	if err != nil {
		return nil, explain(err, &cfg)
	}
	if cfg.Mag {
		d.openMag(bus)
	}
	if cfg.Pressure {
		d.openBaro(bus)
	}
	return d, nil
}

// openBaro opens the first barometer that answered the probe, or that
// answers now when the IMU's address was given and nothing was probed.
func (d *Device) openBaro(bus i2c.Bus) {
	found := d.Probed
	if found == nil {
		var id [1]byte
		for _, p := range probes {
			if p.reg == regBaroID && bus.Tx(p.addr, []byte{p.reg}, id[:]) == nil {
				found = append(found, identify(p.addr, p.reg, id[0]))
			}
		}
	}
	for _, f := range found {
		if f.Kind.Barometer() {
			if d.Baro, d.BaroErr = baro.New(bus, f.Addr, nil); d.BaroErr != nil {
				d.BaroErr = fmt.Errorf("detect: %w", d.BaroErr)
			}
			return
		}
	}
	d.BaroErr = fmt.Errorf("detect: no BMP180, BMP280 or BME280 answered at 0x76 or 0x77 on I²C bus %s", d.Bus)
}

// wiringHint is what to check when nothing answers.
func wiringHint(cfg *Config) string {
	n, ok := busNumber(cfg.bus())
	if !ok {
		n = DefaultBus
	}
	return fmt.Sprintf("check the wiring (3.3 V to pin 1, SDA to pin 3, SCL to pin 5, GND to pin 6), the AD0/SDO pin that picks the address (MPU: 0x68 low, 0x69 high), and run `i2cdetect -y %s` to see what answers", n)
}

// notFound explains an empty or unhelpful probe.
func notFound(cfg *Config, found []Found) error {
	want := addrs(cfg.kind())
	for _, f := range found {
		if f.Kind != "" || kindAt(f.Addr) == "" {
			continue
		}
		var cause error
		if kindAt(f.Addr) == MPU6050 {
			cause = &mpu6050.WhoAmIError{Addr: f.Addr, Got: f.ID}
		} else {
			cause = &lsm9ds1.WhoAmIError{Addr: f.Addr, Got: f.ID}
		}
		// Only an unknown device where an IMU of the wanted kind would be.
		for _, a := range want {
			if a == f.Addr {
				return fmt.Errorf("detect: no supported IMU on I²C bus %s: %w (another chip at that address? an RTC such as the DS3231 also uses 0x68)", cfg.bus(), cause)
			}
		}
	}
	var also string
	if len(found) > 0 {
		var s []string
		for _, f := range found {
			s = append(s, f.String())
		}
		also = "; the bus itself works: " + strings.Join(s, ", ")
	}
	return fmt.Errorf("detect: nothing answered at %s on I²C bus %s (%w); %s%s", hexAddrs(want), cfg.bus(), sensor.ErrNotFound, wiringHint(cfg), also)
}

// explain adds what to do to a driver error.
func explain(err error, cfg *Config) error {
	var mw *mpu6050.WhoAmIError
	var lw *lsm9ds1.WhoAmIError
	switch {
	case errors.Is(err, sensor.ErrNotFound):
		return fmt.Errorf("detect: %w; %s", err, wiringHint(cfg))
	case errors.As(err, &mw), errors.As(err, &lw):
		return fmt.Errorf("detect: %w; run `imustream probe` to see what is on the bus", err)
	}
	return fmt.Errorf("detect: %w", err)
}
