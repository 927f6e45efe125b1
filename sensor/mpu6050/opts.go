package mpu6050

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Chip is a member of the family, told apart by WHO_AM_I.
type Chip uint8

// Supported chips.
const (
	MPU6050 Chip = iota + 1 // WHO_AM_I 0x68; also MPU-6000 and MPU-9150.
	MPU6500                 // WHO_AM_I 0x70.
	MPU9250                 // WHO_AM_I 0x71.
	MPU9255                 // WHO_AM_I 0x73.
)

var chipInfo = [...]struct {
	whoAmI byte
	name   string
	short  string
	// Temperature in °C = raw/tempSens + tempOffset.
	tempSens, tempOffset float64
}{
	MPU6050: {whoAmIMPU6050, "MPU-6050", "mpu6050", 340, 36.53},
	MPU6500: {whoAmIMPU6500, "MPU-6500", "mpu6500", 333.87, 21},
	MPU9250: {whoAmIMPU9250, "MPU-9250", "mpu9250", 333.87, 21},
	MPU9255: {whoAmIMPU9255, "MPU-9255", "mpu9255", 333.87, 21},
}

func (c Chip) valid() bool { return c >= MPU6050 && c <= MPU9255 }

// String returns the datasheet name, e.g. "MPU-6050".
func (c Chip) String() string {
	if !c.valid() {
		return "Chip(" + strconv.Itoa(int(c)) + ")"
	}
	return chipInfo[c].name
}

// WhoAmI returns the chip's WHO_AM_I value.
func (c Chip) WhoAmI() byte {
	if !c.valid() {
		return 0
	}
	return chipInfo[c].whoAmI
}

// hasAccelConfig2 reports whether the accelerometer has its own DLPF
// register (ACCEL_CONFIG2); on the MPU-6050 CONFIG filters both sensors.
func (c Chip) hasAccelConfig2() bool { return c != MPU6050 }

// ChipFromWhoAmI returns the chip that answers v to WHO_AM_I.
func ChipFromWhoAmI(v byte) (Chip, bool) {
	for c := MPU6050; c <= MPU9255; c++ {
		if chipInfo[c].whoAmI == v {
			return c, true
		}
	}
	return 0, false
}

// AccelRange is the accelerometer full scale, ± the value in g.
type AccelRange int

// Accelerometer ranges (ACCEL_CONFIG AFS_SEL 0..3).
const (
	Accel2G  AccelRange = 2  // 16384 LSB/g
	Accel4G  AccelRange = 4  // 8192 LSB/g
	Accel8G  AccelRange = 8  // 4096 LSB/g
	Accel16G AccelRange = 16 // 2048 LSB/g
)

var accelRanges = []AccelRange{Accel2G, Accel4G, Accel8G, Accel16G}

func (r AccelRange) String() string { return "±" + strconv.Itoa(int(r)) + " g" }

// afsSel returns AFS_SEL and the datasheet sensitivity in LSB/g.
func (r AccelRange) afsSel() (sel byte, lsbPerG float64, ok bool) {
	for i, v := range accelRanges {
		if v == r {
			return byte(i), 16384 / float64(int(1)<<i), true
		}
	}
	return 0, 0, false
}

// GyroRange is the gyroscope full scale, ± the value in °/s.
type GyroRange int

// Gyroscope ranges (GYRO_CONFIG FS_SEL 0..3).
const (
	Gyro250DPS  GyroRange = 250  // 131 LSB/(°/s)
	Gyro500DPS  GyroRange = 500  // 65.5 LSB/(°/s)
	Gyro1000DPS GyroRange = 1000 // 32.8 LSB/(°/s)
	Gyro2000DPS GyroRange = 2000 // 16.4 LSB/(°/s)
)

var gyroRanges = []GyroRange{Gyro250DPS, Gyro500DPS, Gyro1000DPS, Gyro2000DPS}

// gyroSens is the datasheet sensitivity per FS_SEL: the datasheet rounds
// 32768/250 to 131 and so on, and the chips are trimmed to those values.
var gyroSens = []float64{131, 65.5, 32.8, 16.4}

func (r GyroRange) String() string { return "±" + strconv.Itoa(int(r)) + " °/s" }

func (r GyroRange) fsSel() (sel byte, lsbPerDPS float64, ok bool) {
	for i, v := range gyroRanges {
		if v == r {
			return byte(i), gyroSens[i], true
		}
	}
	return 0, 0, false
}

// DLPF is the digital low-pass filter setting, named by its nominal
// bandwidth in Hz (the MPU-6500/9250 gyroscope figure). Every setting runs
// the chip at 1 kHz internally. Actual -3 dB bandwidths:
//
//	DLPF_CFG  setting  MPU-6050 accel/gyro  MPU-6500/9250 gyro/accel
//	1         184      184/188 Hz           184/218.1 Hz
//	2         92       94/98 Hz             92/99 Hz
//	3         41       44/42 Hz             41/44.8 Hz
//	4         20       21/20 Hz             20/21.2 Hz
//	5         10       10/10 Hz             10/10.2 Hz
//	6         5        5/5 Hz               5/5.05 Hz
//
// DLPF_CFG 0 and 7 (no filter, 8 kHz gyro) are not offered: the divider
// would then decimate an unfiltered signal.
type DLPF int

// Filter settings.
const (
	DLPF184Hz DLPF = 184
	DLPF92Hz  DLPF = 92
	DLPF41Hz  DLPF = 41
	DLPF20Hz  DLPF = 20
	DLPF10Hz  DLPF = 10
	DLPF5Hz   DLPF = 5
)

var dlpfs = []DLPF{DLPF184Hz, DLPF92Hz, DLPF41Hz, DLPF20Hz, DLPF10Hz, DLPF5Hz}

func (f DLPF) String() string { return strconv.Itoa(int(f)) + " Hz" }

// cfg returns DLPF_CFG (CONFIG) and A_DLPF_CFG (ACCEL_CONFIG2): the same
// index in both tables.
func (f DLPF) cfg() (byte, bool) {
	for i, v := range dlpfs {
		if v == f {
			return byte(i + 1), true
		}
	}
	return 0, false
}

// internalRateHz is the sample rate before SMPLRT_DIV while the DLPF is on.
const internalRateHz = 1000

// Opts configures a Dev. Zero fields take the value in DefaultOpts.
type Opts struct {
	// AccelRange is the accelerometer full scale. It defaults to ±4 g:
	// ±2 g saturates on ordinary knocks and vibration.
	AccelRange AccelRange
	// GyroRange is the gyroscope full scale. It defaults to ±500 °/s.
	GyroRange GyroRange
	// RateHz is the output data rate, which should be the rate Read is
	// called at. It must be 1000/n Hz for a whole n (SMPLRT_DIV = n-1), and
	// at least 10 Hz so that the narrowest filter is below Nyquist. It
	// defaults to 200.
	RateHz int
	// DLPF is the low-pass filter. Its bandwidth must be at most RateHz/2.
	// It defaults to the widest setting that is.
	DLPF DLPF
	// MaxErrors is how many consecutive failed reads make the driver
	// re-initialise the chip before the next one. It defaults to 10.
	MaxErrors int
	// FIFO reads an MPU-6500/9250/9255 through its FIFO (ReadBatch, see
	// fifo.go): samples at RateHz on the chip's clock, collected in
	// bursts. The MPU-6050 is read one sample at a time whatever it says.
	// It defaults to false.
	FIFO bool
}

// DefaultOpts are the defaults. DLPF is left zero so that it follows RateHz.
var DefaultOpts = Opts{
	AccelRange: Accel4G,
	GyroRange:  Gyro500DPS,
	RateHz:     200,
	MaxErrors:  10,
}

// ErrInvalidOpts is wrapped by every configuration error.
var ErrInvalidOpts = errors.New("mpu6050: invalid options")

// ValidRates returns the output data rates the chip can produce, fastest
// first.
func ValidRates() []int {
	var out []int
	for n := 1; n <= 256; n++ {
		r := internalRateHz / n
		if internalRateHz%n == 0 && len(validDLPF(r)) > 0 {
			out = append(out, r)
		}
	}
	return out
}

// validDLPF returns the filter settings allowed at rateHz, widest first.
func validDLPF(rateHz int) []DLPF {
	var out []DLPF
	for _, f := range dlpfs {
		if 2*int(f) <= rateHz {
			out = append(out, f)
		}
	}
	return out
}

// resolved returns o with defaults filled in, or an error that says what is
// wrong and lists the valid values.
func (o *Opts) resolved() (Opts, error) {
	r := DefaultOpts
	if o != nil {
		if o.AccelRange != 0 {
			r.AccelRange = o.AccelRange
		}
		if o.GyroRange != 0 {
			r.GyroRange = o.GyroRange
		}
		if o.RateHz != 0 {
			r.RateHz = o.RateHz
		}
		r.DLPF = o.DLPF
		r.FIFO = o.FIFO
		if o.MaxErrors != 0 {
			r.MaxErrors = o.MaxErrors
		}
	}
	if _, _, ok := r.AccelRange.afsSel(); !ok {
		return r, fmt.Errorf("%w: accelerometer range %d g; valid: %s g", ErrInvalidOpts, int(r.AccelRange), join(accelRanges))
	}
	if _, _, ok := r.GyroRange.fsSel(); !ok {
		return r, fmt.Errorf("%w: gyroscope range %d °/s; valid: %s °/s", ErrInvalidOpts, int(r.GyroRange), join(gyroRanges))
	}
	if r.RateHz <= 0 || r.RateHz > internalRateHz || internalRateHz%r.RateHz != 0 || len(validDLPF(r.RateHz)) == 0 {
		return r, fmt.Errorf("%w: rate %d Hz; the chip makes 1000/n Hz and needs at least 10 Hz for its 5 Hz filter; valid: %s Hz", ErrInvalidOpts, r.RateHz, join(ValidRates()))
	}
	allowed := validDLPF(r.RateHz)
	if r.DLPF == 0 {
		r.DLPF = allowed[0]
	} else if _, ok := r.DLPF.cfg(); !ok {
		return r, fmt.Errorf("%w: low-pass filter %d Hz; valid: %s Hz", ErrInvalidOpts, int(r.DLPF), join(dlpfs))
	} else if 2*int(r.DLPF) > r.RateHz {
		return r, fmt.Errorf("%w: low-pass filter %d Hz is above half the %d Hz rate (aliasing); valid at %d Hz: %s Hz", ErrInvalidOpts, int(r.DLPF), r.RateHz, r.RateHz, join(allowed))
	}
	if r.MaxErrors < 0 {
		return r, fmt.Errorf("%w: MaxErrors %d; must be positive (0 means the default %d)", ErrInvalidOpts, r.MaxErrors, DefaultOpts.MaxErrors)
	}
	return r, nil
}

// Validate reports whether o is a valid configuration, with zero fields
// taking their defaults. The error lists the valid values.
func (o *Opts) Validate() error {
	_, err := o.resolved()
	return err
}

func join[T ~int](v []T) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(int(x))
	}
	return strings.Join(s, ", ")
}
