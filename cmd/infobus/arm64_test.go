package main

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestArm64Binary runs the linux/arm64 release binary (task release:arm64)
// under qemu-user, as on the small box in the van: `infobus version`
// names a stamped version, and `infobus bus` starts and answers /healthz.
// Skipped unless INFOBUS_ARM64_BINARY names the binary; CI has no cross
// compiler.
func TestArm64Binary(t *testing.T) {
	bin := os.Getenv("INFOBUS_ARM64_BINARY")
	if bin == "" {
		t.Skip("set INFOBUS_ARM64_BINARY to an arm64 build (task release:arm64)")
	}
	qemu, err := exec.LookPath("qemu-aarch64")
	if err != nil {
		t.Fatalf("qemu-aarch64: %v (apt-get install qemu-user)", err)
	}
	// -L: where the arm64 C library lives, for the binary's dynamic loader.
	run := func(args ...string) *exec.Cmd {
		return exec.Command(qemu, append([]string{"-L", "/usr/aarch64-linux-gnu", bin}, args...)...)
	}
	out, err := run("version").CombinedOutput()
	if err != nil {
		t.Fatalf("infobus version: %v\n%s", err, out)
	}
	t.Logf("%s", strings.TrimSpace(string(out)))
	if strings.Contains(string(out), "dev") || !strings.Contains(string(out), "linux/arm64") {
		t.Errorf("got %q, want a stamped version on linux/arm64", out)
	}
	addr := freeAddr(t)
	cmd := run("bus", "--addr", addr, "--data", t.TempDir(), "--backup-schedule", "off")
	stderr, _ := cmd.StderrPipe()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			t.Log(sc.Text())
		}
	}()
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Logf("/healthz answered %d %s after %s under qemu", resp.StatusCode, strings.TrimSpace(string(body)), time.Since(start).Round(time.Millisecond))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("got %d", resp.StatusCode)
		}
		return
	}
	t.Fatal("the arm64 bus did not answer /healthz within 2 minutes")
}
