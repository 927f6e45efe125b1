package main

import "runtime/debug"

// goarm names the ARM variant the binary was built for (GOARM=6 for a Pi
// Zero/1, 7 for a Pi 2/3), empty on other architectures.
func goarm() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, s := range bi.Settings {
		if s.Key == "GOARM" || s.Key == "GOARM64" {
			return " (" + s.Key + "=" + s.Value + ")"
		}
	}
	return ""
}
