package main

import (
	"fmt"
	"io"

	"github.com/imustream/imustream/control"
	"github.com/imustream/imustream/internal/cli"
)

// runKeygen writes a new key file.
func runKeygen(name string, args []string, stdout, stderr io.Writer) error {
	var out string
	fs := app.NewFlags(name, stderr)
	fs.StringVar(&out, "out", "", "key `FILE` to create (mode 0600; an existing file is never overwritten)")
	app.GroupFlags(fs, "Output: out")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if out == "" {
		return cli.Usagef("--out FILE is required")
	}
	k, err := control.GenerateKey()
	if err != nil {
		return err
	}
	if err := control.WriteKeyFile(out, k); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote a 256-bit key to %s (mode 0600)\n"+
		"copy it to the daemon (run --key) and to each control PC (--key), over a channel you trust\n", out)
	return nil
}
