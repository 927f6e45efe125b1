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
	"github.com/imustream/imustream/sensor/bno055"
	"github.com/imustream/imustream/sensor/icm20948"
	"github.com/imustream/imustream/sensor/lis3mdl"
	"github.com/imustream/imustream/sensor/lsm6dsox"
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
	switch {
	case f.IDReg == regBaroID:
		reg = "chip id"
	case f.Kind == BNO055:
		reg = "CHIP_ID"
	}
	if f.Kind == "" {
		return fmt.Sprintf("%#02x unknown device (register 0x%02x = 0x%02x; expected %s)", f.Addr, f.IDReg, f.ID, expected(f.Addr))
	}
	return fmt.Sprintf("%#02x %s (%s 0x%02x)", f.Addr, f.Chip, reg, f.ID)
}

const (
	regMPUWhoAmI = 0x75
	regICMWhoAmI = 0x00 // bank 0, where the ICM-20948 starts
	regLSMWhoAmI = 0x0F
	regBNOChipID = 0x00
	regBaroID    = 0xD0
)

// probes are the addresses Probe tries, in order, and how to identify what
// answers: reg, and alt when reg's value is unknown (0: none).
var probes = []struct {
	addr     uint16
	reg, alt byte
	hasAlt   bool
}{
	{0x68, regMPUWhoAmI, regICMWhoAmI, true},
	{0x69, regMPUWhoAmI, regICMWhoAmI, true},
	{0x6A, regLSMWhoAmI, 0, false},
	{0x6B, regLSMWhoAmI, 0, false},
	{0x28, regBNOChipID, 0, false},
	{0x29, regBNOChipID, 0, false},
	{0x1C, regLSMWhoAmI, 0, false},
	{0x1E, regLSMWhoAmI, 0, false},
	{0x76, regBaroID, 0, false},
	{0x77, regBaroID, 0, false},
}

func identify(addr uint16, reg, id byte) Found {
	f := Found{Addr: addr, IDReg: reg, ID: id, Chip: "unknown"}
	mag := addr == lis3mdl.AddrLow || addr == lis3mdl.AddrHigh
	bno := addr == bno055.AddrLow || addr == bno055.AddrHigh
	switch {
	case reg == regMPUWhoAmI:
		if c, ok := mpu6050.ChipFromWhoAmI(id); ok {
			f.Kind, f.Chip = MPU6050, c.String()
		}
	case reg == regBNOChipID && bno:
		if bno055.IsChipID(id) {
			f.Kind, f.Chip = BNO055, "BNO055"
		}
	case reg == regICMWhoAmI:
		if icm20948.IsWhoAmI(id) {
			f.Kind, f.Chip = ICM20948, "ICM-20948"
		}
	case reg == regLSMWhoAmI && mag:
		if lis3mdl.IsWhoAmI(id) {
			f.Kind, f.Chip = LIS3MDL, "LIS3MDL"
		}
	case reg == regLSMWhoAmI:
		if lsm9ds1.IsWhoAmI(id) {
			f.Kind, f.Chip = LSM9DS1, "LSM9DS1"
		} else if c, ok := lsm6dsox.ChipFromWhoAmI(id); ok {
			f.Kind, f.Chip = LSM6DSOX, c.String()
		}
	case reg == regBaroID:
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
	switch addr {
	case 0x68, 0x69:
		return mpu6050.Expected() + " in register 0x75, or " + icm20948.Expected() + " in register 0x00"
	case 0x6A, 0x6B:
		return lsm9ds1.Expected() + ", or " + lsm6dsox.Expected()
	case 0x28, 0x29:
		return bno055.Expected()
	case 0x1C, 0x1E:
		return "0x3d (LIS3MDL)"
	}
	return "0x55 (BMP180), 0x58 (BMP280) or 0x60 (BME280)"
}

// Probe reads the identity register at each known address (0x68, 0x69,
// 0x6a, 0x6b, 0x28, 0x29, 0x1c, 0x1e, 0x76, 0x77) and returns what
// answered, known or not. It only reads; it does not configure anything.
// At 0x68 and 0x69 a value that is no MPU's WHO_AM_I (register 0x75) is
// followed by a read of the ICM-20948's (0x00).
func Probe(bus i2c.Bus) []Found {
	var out []Found
	for _, p := range probes {
		if f, ok := probeAt(bus, p.addr, p.reg, p.alt, p.hasAlt); ok {
			out = append(out, f)
		}
	}
	// The LSM9DS1's magnetometer has the LIS3MDL's WHO_AM_I.
	for _, f := range out {
		if f.Kind == LSM9DS1 {
			for i := range out {
				if out[i].Kind == LIS3MDL {
					out[i].Chip = "LSM9DS1 magnetometer"
				}
			}
		}
	}
	return out
}

// probeAt identifies what answers at addr; false when nothing does.
func probeAt(bus i2c.Bus, addr uint16, reg, alt byte, hasAlt bool) (Found, bool) {
	var id [1]byte
	if err := bus.Tx(addr, []byte{reg}, id[:]); err != nil {
		return Found{}, false // No ACK: nothing there.
	}
	f := identify(addr, reg, id[0])
	if f.Kind == "" && hasAlt && bus.Tx(addr, []byte{alt}, id[:]) == nil {
		if g := identify(addr, alt, id[0]); g.Kind != "" {
			return g, true
		}
	}
	return f, true
}

// probeOne identifies what answers at addr with the probes' registers.
func probeOne(bus i2c.Bus, addr uint16) (Found, bool) {
	for _, p := range probes {
		if p.addr == addr {
			return probeAt(bus, p.addr, p.reg, p.alt, p.hasAlt)
		}
	}
	return Found{}, false
}

// Device is an opened IMU. Read is the driver's; Halt also closes the bus
// when Open opened it.
type Device struct {
	sensor.Sensor // the chip's driver, e.g. *mpu6050.Dev
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
	// Mag is the magnetometer read with the IMU: the one Read adds, when
	// Config.Mag asked for one and the chip has one that opened (the
	// MPU-9250/9255's AK8963, the LSM9DS1's), or the LIS3MDL an
	// LSM6DSOX-family IMU's driver reads itself (ownMag). MagErr says why
	// there is none otherwise.
	Mag    sensor.Magnetometer
	MagErr error
	ownMag bool
	// Warning is what to know about this chip on this bus (the BNO055's
	// clock stretching on a Raspberry Pi before the 5), or "".
	Warning string

	closer io.Closer
}

// Read reads the IMU and adds the barometer's latest pressure, flagged
// sensor.StatusPressure while it is fresh. It never waits for the
// barometer, and the pressure is added even when the IMU read fails.
func (d *Device) Read(s *sensor.Sample) error {
	err := d.Sensor.Read(s)
	if d.Mag != nil && !d.ownMag {
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

// ReadBatch implements sensor.Batcher for an IMU read through its FIFO,
// adding the barometer's latest pressure to each sample as Read does.
func (d *Device) ReadBatch(dst []sensor.Sample) (int, error) {
	b, ok := d.Sensor.(sensor.Batcher)
	if !ok {
		return 0, errNoFIFO
	}
	n, err := b.ReadBatch(dst)
	if d.Baro != nil {
		pa, fresh := d.Baro.Pressure()
		for i := range dst[:n] {
			if fresh {
				dst[i].PressurePa = pa
				dst[i].Status |= sensor.StatusPressure
			} else {
				dst[i].Status &^= sensor.StatusPressure
			}
		}
	}
	return n, err
}

// FIFORateHz implements sensor.Batcher: the IMU's, or 0.
func (d *Device) FIFORateHz() float64 {
	if b, ok := d.Sensor.(sensor.Batcher); ok {
		return b.FIFORateHz()
	}
	return 0
}

var errNoFIFO = errors.New("detect: the sensor is not read through a FIFO")

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
	if d.Mag != nil {
		s += "; magnetometer " + d.Mag.String()
	} else if d.MagErr != nil {
		s += "; no magnetometer: " + d.MagErr.Error()
	}
	if b, ok := sensor.AsBatcher(d.Sensor); ok {
		s += fmt.Sprintf("; read through its FIFO at %g Hz", b.FIFORateHz())
	}
	if d.Warning != "" {
		s += "; warning: " + d.Warning
	}
	if d.Baro != nil {
		s += fmt.Sprintf("; pressure from %s every %s", d.Baro, d.Baro.Period())
	} else if d.BaroErr != nil {
		s += "; no pressure: " + d.BaroErr.Error()
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
	kind := cfg.kind()
	switch {
	case kind != Auto:
	case cfg.Addr == 0:
		kind = d.found(addr).Kind
	case len(kindsAt(addr)) == 1:
		kind = kindAt(addr)
	default:
		// Two families share the address: the identity registers tell.
		kind = kindAt(addr)
		if f, ok := probeOne(bus, addr); ok && f.Kind.IMU() {
			kind = f.Kind
		}
	}
	if err := d.open(bus, kind, addr, &cfg); err != nil {
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
		// An unknown device where an IMU would be, or, for a named kind,
		// a chip of another.
		other := cfg.kind() != Auto && f.Kind.IMU() && f.Kind != cfg.kind()
		if (f.Kind != "" && !other) || kindAt(f.Addr) == "" {
			continue
		}
		fam := cfg.kind()
		if fam == Auto {
			fam = kindAt(f.Addr)
		}
		cause := whoAmIError(fam, f.Addr, f.ID)
		for _, a := range want {
			if a == f.Addr {
				hint := "another chip at that address? an RTC such as the DS3231 also uses 0x68"
				if other {
					hint = fmt.Sprintf("that is an %s: --sensor %s or auto opens it", f.Chip, f.Kind)
				}
				return fmt.Errorf("detect: no supported IMU on I²C bus %s: %w (%s)", cfg.bus(), cause, hint)
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
	var (
		mw *mpu6050.WhoAmIError
		lw *lsm9ds1.WhoAmIError
		iw *icm20948.WhoAmIError
		sw *lsm6dsox.WhoAmIError
		bw *bno055.IDError
	)
	switch {
	case errors.Is(err, sensor.ErrNotFound):
		return fmt.Errorf("detect: %w; %s", err, wiringHint(cfg))
	case errors.As(err, &mw), errors.As(err, &lw), errors.As(err, &iw), errors.As(err, &sw), errors.As(err, &bw):
		return fmt.Errorf("detect: %w; run `imustream probe` to see what is on the bus", err)
	}
	return fmt.Errorf("detect: %w", err)
}

// whoAmIError is family k's error for an unexpected identity id at addr.
func whoAmIError(k Kind, addr uint16, id byte) error {
	switch k {
	case LSM9DS1:
		return &lsm9ds1.WhoAmIError{Addr: addr, Got: id}
	case ICM20948:
		return &icm20948.WhoAmIError{Addr: addr, Got: id}
	case LSM6DSOX:
		return &lsm6dsox.WhoAmIError{Addr: addr, Got: id}
	case BNO055:
		return &bno055.IDError{Addr: addr, Got: id}
	}
	return &mpu6050.WhoAmIError{Addr: addr, Got: id}
}
