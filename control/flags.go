package control

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/imustream/imustream/internal/cli"
)

// DeviceEnv names the environment variable that sets the default of
// --device for every command of the control PC.
const DeviceEnv = "IMUSTREAM_DEVICE"

// ClientFlags are the flags of the commands that talk to a daemon: where
// it is, how long to wait for it, and the key to sign with.
type ClientFlags struct {
	Device  string
	Timeout time.Duration
	Retries int
	KeyFile string
	From    string
	fs      *flag.FlagSet // RegisterFlagsEnv's: to tell a --device given from $IMUSTREAM_DEVICE
}

// RegisterFlags adds --device, defaulting to def (env names the
// environment variable that sets def, for the help), --timeout, --retries,
// --key and --from to fs.
func (c *ClientFlags) RegisterFlags(fs *flag.FlagSet, def, env string) {
	fs.StringVar(&c.Device, "device", def, fmt.Sprintf("the daemon's control address `HOST[:PORT]`; port %d unless given; IPv6 as [ADDR]:PORT, or ADDR alone. The environment variable %s sets the default for every command", DefaultPort, env))
	fs.DurationVar(&c.Timeout, "timeout", 300*time.Millisecond, "how long to wait for each reply, as a `DURATION` like 300ms or 2s")
	fs.IntVar(&c.Retries, "retries", 3, "how often to resend (same request id) when no reply comes, `N` ≥ 0")
	fs.StringVar(&c.KeyFile, "key", "", "key `FILE` (from imustream keygen): sign commands, accept only signed replies")
	fs.StringVar(&c.From, "from", "", "this controller's `NAME` in signed commands (default: the host name)")
}

// RegisterFlagsEnv is RegisterFlags with $IMUSTREAM_DEVICE (DeviceEnv),
// when set, as --device's default instead of def; Dial then says so when
// it fails on that default.
func (c *ClientFlags) RegisterFlagsEnv(fs *flag.FlagSet, def string) {
	c.fs = fs
	if env := os.Getenv(DeviceEnv); env != "" {
		def = env
	}
	c.RegisterFlags(fs, def, DeviceEnv)
}

// Check refuses flags that contradict each other or are out of range;
// its messages name the flags, for a usage error.
func (c *ClientFlags) Check() error {
	switch {
	case c.Retries < 0:
		return errors.New("--retries must be ≥ 0")
	case c.KeyFile == "" && c.From != "":
		return errors.New("--from names the sender of signed commands; it needs --key")
	}
	return nil
}

// Options are opts with the flags' settings, the key file read.
func (c *ClientFlags) Options(opts ClientOptions) (ClientOptions, error) {
	opts.Timeout, opts.Retries, opts.Probe, opts.From = c.Timeout, c.Retries, true, c.From
	if c.Retries == 0 {
		opts.Retries = -1 // the client's zero means its default
	}
	var err error
	opts.Key, err = LoadKeyIf(c.KeyFile)
	return opts, err
}

// Dial dials the daemon --device names, with opts and the flags' Options
// (call Check first). resolve, when not nil, turns --device into an
// address first (NAME.local by mDNS, which Go's resolver does not ask in a
// static binary); its error names the device. An address from
// $IMUSTREAM_DEVICE that fails says where it came from.
func (c *ClientFlags) Dial(opts ClientOptions, resolve func(device string) (string, error)) (*Client, error) {
	opts, err := c.Options(opts)
	if err != nil {
		return nil, err
	}
	device := c.Device
	if resolve != nil {
		if device, err = resolve(c.Device); err != nil {
			return nil, fmt.Errorf("%s: %w", c.Device, err)
		}
	}
	cl, err := Dial(device, &opts)
	if err != nil && c.fs != nil && !cli.IsSet(c.fs, "device") && os.Getenv(DeviceEnv) != "" {
		return nil, fmt.Errorf("%w (the device is $%s)", err, DeviceEnv)
	}
	return cl, err
}
