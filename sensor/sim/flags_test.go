package sim

import (
	"flag"
	"io"
	"testing"
)

func TestRegisterFlags(t *testing.T) {
	var o Opts
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o.RegisterFlags(fs)
	if err := fs.Parse([]string{"--sim-motion", "still", "--sim-mag", "--sim-hard-iron", "1,2,3", "--sim-pose", "roll=10,pitch=0,yaw=0"}); err != nil {
		t.Fatal(err)
	}
	if !o.Still || !o.Mag || o.HardIron != [3]float64{1, 2, 3} || o.Pose[0] == 0 {
		t.Errorf("parsed: %+v", o)
	}
	for _, bad := range [][]string{{"--sim-motion", "wobble"}, {"--sim-hard-iron", "1,2"}, {"--sim-soft-iron", "1"}, {"--sim-field", "x"}} {
		if err := fs.Parse(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
