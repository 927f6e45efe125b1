package control

import (
	"fmt"
	"io"
	"time"
)

// WriteFields writes an ok reply's fields, a key and its value a line,
// as imustream status prints them.
func (r Reply) WriteFields(w io.Writer) {
	for _, f := range r.Fields {
		fmt.Fprintf(w, "%-17s %s\n", f.Key, f.Value)
	}
}

// CheckLease refuses a --lease the daemon would refuse (outside
// MinLease..MaxLease), before anything is asked of it. The error names
// the flag: it is the command line's.
func CheckLease(d time.Duration) error {
	if d < MinLease || d > MaxLease {
		return fmt.Errorf("--lease %s outside %s..%s", d, MinLease, MaxLease)
	}
	return nil
}
