package fusion

import (
	"flag"
	"io"
	"testing"
)

func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		mode Mode
		ok   bool
	}{
		{nil, Off, true},
		{[]string{"--fusion", "9", "--fusion-gain", "2"}, NineAxis, true},
		{[]string{"--fusion", "6"}, SixAxis, true},
		{[]string{"--fusion", "7"}, Off, false},
		{[]string{"--fusion", "9", "--fusion-gain", "-1"}, NineAxis, false},
		{[]string{"--fusion", "off", "--fusion-gain", "-1"}, Off, true}, // off checks nothing
	} {
		var f Flags
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		f.RegisterFlags(fs, "off")
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		o, err := f.Options()
		if (err == nil) != tc.ok || err == nil && o.Mode != tc.mode {
			t.Errorf("%q: Options() = %+v, %v", tc.args, o, err)
		}
		if tc.ok && len(tc.args) == 0 && (o.Gain != DefaultOpts.Gain || o.IntegralGain != DefaultOpts.IntegralGain) {
			t.Errorf("defaults: %+v", o)
		}
	}
}
