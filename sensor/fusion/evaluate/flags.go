package evaluate

import "flag"

// RegisterFlags adds the simulator's flags (its seed too) and the run's
// rate, length and skip to fs, bound to c, with the CLI's defaults.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.Uint64Var(&c.Sim.Seed, "seed", 1, "seed `N` of the simulated sensor")
	c.Sim.RegisterFlags(fs)
	fs.IntVar(&c.RateHz, "rate", 200, "sample rate in `HZ`")
	fs.Float64Var(&c.Seconds, "seconds", 60, "simulated `SECONDS` to run")
	fs.Float64Var(&c.Skip, "skip", 0, "leave the first `SECONDS` out of the figures (the filter converging)")
}
