package discovery

import "testing"

// TestLookupDevice: what is not NAME.local comes back as it is, without a
// query (a query would go to the LAN).
func TestLookupDevice(t *testing.T) {
	for _, d := range []string{"127.0.0.1:7600", "pi.lan", "[::1]:7600", "localhost", "pi.locals:1"} {
		if IsLocal(d) {
			t.Fatalf("IsLocal(%q): true", d)
		}
		if got, err := LookupDevice(d); got != d || err != nil {
			t.Errorf("LookupDevice(%q) = %q, %v; want it back", d, got, err)
		}
	}
	for _, d := range []string{"pi.local", "PI.LOCAL.", "pi.local:7600", "[pi.local]:1"} {
		if !IsLocal(d) {
			t.Errorf("IsLocal(%q): false", d)
		}
	}
}
