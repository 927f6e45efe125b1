package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestValue(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.conf")
	if err := os.WriteFile(p, []byte("# a comment\nrig-layout = simulink\nlisten = 1.2.3.4:5\nrig-layout = \"labview\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if v, err := Value(p, "rig-layout"); err != nil || v != "labview" {
		t.Errorf("Value = %q, %v; want the last one, labview", v, err)
	}
	if v, err := Value(p, "rig-to"); err != nil || v != "" {
		t.Errorf("absent key: %q, %v", v, err)
	}
	if _, err := Value(filepath.Join(t.TempDir(), "none"), "x"); !errors.Is(err, ErrConfig) {
		t.Errorf("missing file: %v", err)
	}
}
