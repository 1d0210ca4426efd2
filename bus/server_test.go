package bus

import (
	"strings"
	"testing"
)

func TestConfigTLS(t *testing.T) {
	tests := []struct {
		name      string
		cfg       Config
		wantTLS   bool
		wantError string
	}{
		{name: "loopback IPv4", cfg: Config{Addr: "127.0.0.1:8080"}},
		{name: "loopback IPv6", cfg: Config{Addr: "[::1]:8080"}},
		{name: "localhost", cfg: Config{Addr: "localhost:8080"}},
		{name: "every interface", cfg: Config{Addr: ":8443"}, wantTLS: true},
		{name: "unspecified IPv4", cfg: Config{Addr: "0.0.0.0:8443"}, wantTLS: true},
		{name: "LAN address", cfg: Config{Addr: "192.168.8.20:8443"}, wantTLS: true},
		{name: "loopback with a provided certificate", cfg: Config{Addr: "127.0.0.1:8443", TLSCert: "c.pem", TLSKey: "k.pem"}, wantTLS: true},
		{name: "certificate without key", cfg: Config{Addr: ":8443", TLSCert: "c.pem"}, wantTLS: true, wantError: "both or neither"},
		{name: "key without certificate", cfg: Config{Addr: ":8443", TLSKey: "k.pem"}, wantTLS: true, wantError: "both or neither"},
		{name: "plain public URL off loopback", cfg: Config{Addr: ":8443", PublicURL: "http://192.168.8.20:8443"}, wantTLS: true, wantError: "must be an https URL"},
		{name: "plain public URL on loopback", cfg: Config{Addr: "127.0.0.1:8080", PublicURL: "http://127.0.0.1:8080"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.cfg.ServesTLS(); got != tt.wantTLS {
				t.Errorf("ServesTLS: got %v, want %v", got, tt.wantTLS)
			}
			err := tt.cfg.Validate()
			switch {
			case tt.wantError == "" && err != nil:
				t.Errorf("Validate: got %v, want no error", err)
			case tt.wantError != "" && (err == nil || !strings.Contains(err.Error(), tt.wantError)):
				t.Errorf("Validate: got %v, want an error containing %q", err, tt.wantError)
			}
		})
	}
}
