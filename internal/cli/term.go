package cli

import (
	"io"
	"os"
)

// IsTerminal says whether w is a terminal, where a command redraws a live
// line and writes no rows unasked. Any character device counts, /dev/null
// too: it asks the file's mode, not the terminal driver.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
