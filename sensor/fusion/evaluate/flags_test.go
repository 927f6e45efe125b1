package evaluate

import (
	"flag"
	"testing"
)

// TestRegisterFlags: the defaults are Run's, and each flag sets its field.
func TestRegisterFlags(t *testing.T) {
	var c Config
	fs := flag.NewFlagSet("evaluate", flag.ContinueOnError)
	c.RegisterFlags(fs)
	if c.Sim.Seed != 1 || c.RateHz != 200 || c.Seconds != 60 || c.Skip != 0 {
		t.Errorf("defaults: %+v", c)
	}
	if err := fs.Parse([]string{"--seed", "7", "--rate", "100", "--seconds", "5", "--skip", "1.5", "--sim-motion", "still"}); err != nil {
		t.Fatal(err)
	}
	if c.Sim.Seed != 7 || c.RateHz != 100 || c.Seconds != 5 || c.Skip != 1.5 || !c.Sim.Still {
		t.Errorf("not bound: %+v", c)
	}
}
