package sim

import "flag"

// FlagGroup is the help heading of the flags RegisterFlags adds.
const FlagGroup = "Simulator: sim-motion sim-pose sim-mag sim-field sim-hard-iron sim-soft-iron"

// RegisterFlags adds the simulator's motion and magnetometer flags
// (--sim-…) to fs, parsed into o.
func (o *Opts) RegisterFlags(fs *flag.FlagSet) {
	fs.Func("sim-motion", "simulated `MOTION`: "+Motions, func(v string) error { return ParseMotion(v, o) })
	fs.Func("sim-pose", "simulated `POSE` roll=R,pitch=P,yaw=Y in degrees (ENU: yaw 0 = x east), held by --sim-motion still, the start of scripted", func(v string) (err error) {
		o.Pose, err = ParsePose(v)
		return err
	})
	fs.BoolVar(&o.Mag, "sim-mag", false, "give the simulated sensor a magnetometer (on with --fusion 9)")
	fs.Func("sim-field", "simulated earth `FIELD` strength=UT,inclination=DEG,declination=DEG (default 50 µT, 65°, 0°)", func(v string) (err error) {
		o.Field, err = ParseField(v)
		return err
	})
	fs.Func("sim-hard-iron", "simulated hard-iron offset `X,Y,Z` in µT, added to the field", func(v string) (err error) {
		o.HardIron, err = ParseHardIron(v)
		return err
	})
	fs.Func("sim-soft-iron", "simulated soft-iron `MATRIX`, 9 numbers M11,M12,…,M33 by rows, multiplying the field", func(v string) (err error) {
		o.SoftIron, err = ParseSoftIron(v)
		return err
	})
}
