package bridge

import (
	"os"
	"path/filepath"
	"testing"
)

// TestDeviceListReadFile: a file's devices are added after those given;
// a line it cannot take is the file's fault (bad), a missing file is not.
func TestDeviceListReadFile(t *testing.T) {
	dir := t.TempDir()
	good, broken := filepath.Join(dir, "good"), filepath.Join(dir, "broken")
	if err := os.WriteFile(good, []byte("# lab\npi1=127.0.0.1:7600\n\npi2=127.0.0.2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(broken, []byte("pi1=127.0.0.1\nx.y*=127.0.0.1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var l DeviceList
	if err := l.Set("pi0=127.0.0.1:7601"); err != nil {
		t.Fatal(err)
	}
	if bad, err := l.ReadFile(good); bad || err != nil {
		t.Fatalf("ReadFile(good) = %v, %v", bad, err)
	}
	if len(l) != 3 || l[0].Name != "pi0" || l[1].Name != "pi1" || l[2].Name != "pi2" {
		t.Errorf("devices %+v, want pi0, pi1, pi2", l)
	}
	if bad, err := l.ReadFile(broken); !bad || err == nil {
		t.Errorf("ReadFile(broken) = %v, %v; want bad", bad, err)
	}
	if bad, err := l.ReadFile(filepath.Join(dir, "none")); bad || !os.IsNotExist(err) {
		t.Errorf("ReadFile(missing) = %v, %v; want a not-exist error, not bad", bad, err)
	}
	if len(l) != 3 {
		t.Errorf("a failed read added devices: %+v", l)
	}
}
