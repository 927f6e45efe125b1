package view

import "testing"

func TestLiteralHost(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1:8080": true, "[::1]:8080": true, "localhost:8080": true, "LOCALHOST": true, "192.168.1.5": true, "[fe80::1%eth0]:80": true,
		"evil.example:8080": false, "localhost.evil.example": false, "": false, "127.0.0.1.nip.io:8080": false,
	} {
		if got := LiteralHost(host); got != want {
			t.Errorf("LiteralHost(%q) = %v, want %v", host, got, want)
		}
	}
}
