package evaluate

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/imustream/imustream/sensor/sim"
)

// FuzzRecording feeds Recording arbitrary CSV: it returns figures that are
// numbers, or an error, never a panic.
func FuzzRecording(f *testing.F) {
	f.Add("session,t_mono_ns,flags,qw,qx,qy,qz\na,1,128,1,0,0,0\na,5000001,128,0.9,0.1,0,0\n")
	f.Add("session,seq,t_mono_ns,t_wall_ns,flags,qw,qx,qy,qz\nab,0,0,0,192,0.96,0.09,-0.02,0.26\n")
	f.Add("session,t_mono_ns,flags,qw,qx,qy,qz\na,1,0,,,,\n")
	f.Add("qz,qy,qx,qw,flags,t_mono_ns,session\n0,0,0,1,128,-9223372036854775808,x\n")
	f.Add("\"session\",t_mono_ns,flags,qw,qx,qy,qz\n\"a\nb\",1,128,NaN,Inf,0,0\n")
	f.Fuzz(func(t *testing.T, csv string) {
		e, err := Recording(strings.NewReader(csv), RecordingConfig{Sim: sim.Opts{Still: true}})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "evaluate: ") {
				t.Fatalf("error %q lacks the package prefix", err)
			}
			_ = errors.Is(err, ErrRecording)
			return
		}
		if e.N <= 0 || math.IsNaN(e.RollRMS+e.PitchRMS+e.HeadingRMS) || math.IsInf(e.RollRMS, 0) {
			t.Fatalf("figures %+v", e)
		}
	})
}
