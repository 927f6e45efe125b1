package bridge

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// ParseDevice reads NAME=HOST[:PORT], or HOST[:PORT] alone (named by
// NameFor).
func ParseDevice(s string) (Device, error) {
	s = strings.TrimSpace(s)
	name, addr, named := strings.Cut(s, "=")
	if !named {
		name, addr = "", s
	}
	if addr == "" {
		return Device{}, fmt.Errorf("bridge: device %q: no address", s)
	}
	d := Device{Name: name, Addr: addr}
	if d.Name == "" {
		d.Name = NameFor(addr)
	}
	if err := CheckName(d.Name); err != nil {
		return Device{}, fmt.Errorf("bridge: device %q: %w", s, err)
	}
	return d, nil
}

// ReadDevices reads a devices file: one device a line as ParseDevice
// takes it; blank lines and lines starting with # are skipped.
func ReadDevices(r io.Reader) ([]Device, error) {
	var ds []Device
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		d, err := ParseDevice(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		ds = append(ds, d)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("bridge: devices: %w", err)
	}
	return ds, nil
}
