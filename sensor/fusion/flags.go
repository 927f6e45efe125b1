package fusion

import (
	"flag"
	"fmt"
)

// FlagGroup is the help heading of the flags Flags.RegisterFlags adds.
const FlagGroup = "Orientation: fusion fusion-gain fusion-integral-gain fusion-declination"

// Flags choose the filter on a command line: its mode, as given, and
// its options.
type Flags struct {
	Mode string
	Opts Opts
}

// RegisterFlags adds --fusion (defaulting to def) and the filter's
// options to fs.
func (f *Flags) RegisterFlags(fs *flag.FlagSet, def string) {
	fs.StringVar(&f.Mode, "fusion", def, "orientation filter `MODE`: off, 6 (gyro and accel) or 9 (and magnetometer); adds the quaternion to every sample (84-byte records)")
	fs.Float64Var(&f.Opts.Gain, "fusion-gain", DefaultOpts.Gain, "the filter's proportional `GAIN` in rad/s: higher trusts accel and mag more")
	fs.Float64Var(&f.Opts.IntegralGain, "fusion-integral-gain", DefaultOpts.IntegralGain, "the filter's integral `GAIN` (gyro offset estimate); negative turns it off")
	fs.Float64Var(&f.Opts.DeclinationDeg, "fusion-declination", 0, "magnetic declination in `DEG`, east positive, to turn the 9-axis heading to true north")
}

// Options returns the filter's options, checked (Opts.Validate) unless
// the mode is off.
func (f *Flags) Options() (Opts, error) {
	m, err := ParseMode(f.Mode)
	if err != nil {
		return Opts{}, fmt.Errorf("--fusion: %w", err)
	}
	o := f.Opts
	o.Mode = m
	if m == Off {
		return o, nil
	}
	return o, o.Validate()
}
