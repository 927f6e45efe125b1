package calib

import "flag"

// Flags load a calibration file and a mounting on a command line (run,
// evaluate).
type Flags struct {
	File  string
	Mount Mounting
	fs    *flag.FlagSet // whether --mount was given, since "x=x,y=y,z=z" and none are the same rotation but only one overrides the file
}

// RegisterFlags adds --calibration and --mount to fs.
func (c *Flags) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.File, "calibration", "", "calibration `FILE` written by imustream calibrate, applied to every sample")
	c.fs = fs
	fs.Var(&c.Mount, "mount", "mounting as `AXES|MATRIX`: the body axes as signed sensor axes, e.g. x=-y,y=x,z=z, or a 3×3 JSON matrix (rows = body axes in sensor coordinates); overrides the calibration file's")
}

// Load reads the calibration file and the mounting (LoadMounted); nil
// when neither is given. It runs before the sensor is opened, so that a
// bad file is refused without touching the bus.
func (c *Flags) Load() (*Calibration, error) {
	var mount *Mounting
	if c.fs != nil {
		c.fs.Visit(func(f *flag.Flag) {
			if f.Name == "mount" {
				mount = &c.Mount
			}
		})
	}
	return LoadMounted(c.File, mount)
}
