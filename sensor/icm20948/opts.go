package icm20948

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// AccelRange is the accelerometer full scale, ± the value in g.
type AccelRange int

// Accelerometer ranges, ACCEL_FS_SEL 0..3 (datasheet table 2).
const (
	Accel2G  AccelRange = 2  // 16384 LSB/g
	Accel4G  AccelRange = 4  // 8192 LSB/g
	Accel8G  AccelRange = 8  // 4096 LSB/g
	Accel16G AccelRange = 16 // 2048 LSB/g
)

var accelRanges = []AccelRange{Accel2G, Accel4G, Accel8G, Accel16G}

// GyroRange is the gyroscope full scale, ± the value in °/s.
type GyroRange int

// Gyroscope ranges, GYRO_FS_SEL 0..3 (datasheet table 1).
const (
	Gyro250DPS  GyroRange = 250  // 131 LSB/(°/s)
	Gyro500DPS  GyroRange = 500  // 65.5
	Gyro1000DPS GyroRange = 1000 // 32.8
	Gyro2000DPS GyroRange = 2000 // 16.4
)

var gyroRanges = []GyroRange{Gyro250DPS, Gyro500DPS, Gyro1000DPS, Gyro2000DPS}

var gyroSens = []float64{131, 65.5, 32.8, 16.4}

// 3 dB bandwidths in Hz of DLPFCFG 0..6 (datasheet 10.2 and 10.12 tables).
var (
	gyroBW  = []float64{196.6, 151.8, 119.5, 51.2, 23.9, 11.6, 5.7}
	accelBW = []float64{246.0, 246.0, 111.4, 50.4, 23.9, 11.5, 5.7}
)

// Opts configures a Dev. Zero fields take the value in DefaultOpts.
type Opts struct {
	// AccelRange defaults to ±4 g.
	AccelRange AccelRange
	// GyroRange defaults to ±500 °/s.
	GyroRange GyroRange
	// RateHz is the rate Read is called at; the chip runs at the lowest
	// 1125/n Hz at or above it (at most 1125). With FIFO it must be such a
	// rate exactly (see FIFORates). It defaults to 200 (225 Hz).
	RateHz int
	// MaxErrors is how many consecutive failed reads make the driver
	// re-initialise the chip. It defaults to 10.
	MaxErrors int
	// FIFO reads the chip through its FIFO (ReadBatch). It defaults to
	// false.
	FIFO bool
	// NoMag leaves the AK09916 alone. It defaults to false: the field is
	// read with every sample.
	NoMag bool
}

// DefaultOpts are the defaults.
var DefaultOpts = Opts{AccelRange: Accel4G, GyroRange: Gyro500DPS, RateHz: 200, MaxErrors: 10}

// ErrInvalidOpts is wrapped by every configuration error.
var ErrInvalidOpts = errors.New("icm20948: invalid options")

type settings struct {
	opts               Opts
	div                int // SMPLRT_DIV
	afs, gfs           byte
	adlpf, gdlpf       byte
	lsbPerG, lsbPerDPS float64
}

// ODRHz is the output data rate for SMPLRT_DIV div.
func odrHz(div int) float64 { return baseRateHz / float64(1+div) }

// FIFORates lists the rates valid with Opts.FIFO: output data rates that
// are a whole number of Hz.
func FIFORates() []int {
	var out []int
	for div := 0; div <= 255; div++ {
		if baseRateHz%(div+1) == 0 {
			out = append(out, baseRateHz/(div+1))
		}
	}
	return out
}

func (o *Opts) resolved() (settings, error) {
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
		if o.MaxErrors != 0 {
			r.MaxErrors = o.MaxErrors
		}
		r.FIFO, r.NoMag = o.FIFO, o.NoMag
	}
	s := settings{opts: r, afs: 255, gfs: 255}
	for i, a := range accelRanges {
		if a == r.AccelRange {
			s.afs, s.lsbPerG = byte(i), 16384/float64(int(1)<<i)
		}
	}
	if s.afs == 255 {
		return s, fmt.Errorf("%w: accelerometer range %d g; valid: %s g", ErrInvalidOpts, int(r.AccelRange), join(accelRanges))
	}
	for i, g := range gyroRanges {
		if g == r.GyroRange {
			s.gfs, s.lsbPerDPS = byte(i), gyroSens[i]
		}
	}
	if s.gfs == 255 {
		return s, fmt.Errorf("%w: gyroscope range %d °/s; valid: %s °/s", ErrInvalidOpts, int(r.GyroRange), join(gyroRanges))
	}
	if r.RateHz <= 0 || r.RateHz > baseRateHz {
		return s, fmt.Errorf("%w: rate %d Hz; valid: 1 to %d Hz", ErrInvalidOpts, r.RateHz, baseRateHz)
	}
	s.div = min(baseRateHz/r.RateHz-1, 255)
	if r.FIFO && odrHz(s.div) != float64(r.RateHz) {
		return s, fmt.Errorf("%w: rate %d Hz with the FIFO, which runs at the output data rate 1125/n Hz; valid: %s Hz", ErrInvalidOpts, r.RateHz, join(FIFORates()))
	}
	half := odrHz(s.div) / 2
	s.gdlpf, s.adlpf = widest(gyroBW, half), widest(accelBW, half)
	if r.MaxErrors < 0 {
		return s, fmt.Errorf("%w: MaxErrors %d; must be positive (0 means the default %d)", ErrInvalidOpts, r.MaxErrors, DefaultOpts.MaxErrors)
	}
	return s, nil
}

// widest returns the DLPFCFG of the widest bandwidth at most limit (the
// narrowest when none is).
func widest(bw []float64, limit float64) byte {
	best := len(bw) - 1
	for i, v := range bw {
		if v <= limit && v > bw[best] {
			best = i
		}
	}
	return byte(best)
}

// Validate reports whether o is valid, zero fields taking their defaults.
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
