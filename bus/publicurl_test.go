package bus

import (
	"net"
	"testing"
)

func TestPublicURL(t *testing.T) {
	tests := []struct {
		name     string
		listen   net.IP
		port     int
		public   string
		recorded string
		ips      []string
		want     string
		derived  bool
		wantErr  bool
	}{
		{name: "configured", public: "https://infobus.local:8443", ips: []string{"192.168.8.20"}, want: "https://infobus.local:8443"},
		{name: "configured name goes into the certificate", public: "https://bus7.wijkbus.example:8443", ips: []string{"192.168.8.20"}, want: "https://bus7.wijkbus.example:8443"},
		{name: "specific listen IP", listen: net.ParseIP("192.168.8.21"), ips: []string{"192.168.8.20", "192.168.8.21"}, want: "https://192.168.8.21:8443", derived: true},
		{name: "first private IPv4", ips: []string{"fd00::20", "203.0.113.5", "192.168.8.20", "10.0.0.2"}, want: "https://192.168.8.20:8443", derived: true},
		{name: "public IPv4 without a private one", ips: []string{"fd00::20", "203.0.113.5"}, want: "https://[fd00::20]:8443", derived: true},
		{name: "public IPv4 only: the CA may not vouch for it", ips: []string{"203.0.113.5"}, wantErr: true},
		{name: "IPv6 only", ips: []string{"fd00::20"}, want: "https://[fd00::20]:8443", derived: true},
		{name: "port 443 left out", port: 443, ips: []string{"192.168.8.20"}, want: "https://192.168.8.20", derived: true},
		{name: "recorded kept when the address moved", recorded: "https://192.168.8.20:8443", ips: []string{"192.168.9.4"}, want: "https://192.168.8.20:8443", derived: true},
		{name: "recorded on another port ignored", recorded: "https://192.168.8.20:9443", ips: []string{"192.168.9.4"}, want: "https://192.168.9.4:8443", derived: true},
		{name: "recorded plain HTTP ignored", recorded: "http://127.0.0.1:8080", ips: []string{"192.168.9.4"}, want: "https://192.168.9.4:8443", derived: true},
		{name: "no address at all", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newTLSFixture(t)
			f.names.IPs = nil
			for _, s := range tt.ips {
				f.names.IPs = append(f.names.IPs, net.ParseIP(s))
			}
			opts := f.options()
			port := tt.port
			if port == 0 {
				port = 8443
			}
			listen := tt.listen
			if listen == nil {
				listen = net.IPv4zero
			}
			opts.Listen = &net.TCPAddr{IP: listen, Port: port}
			opts.PublicURL, opts.RecordedURL = tt.public, tt.recorded

			tl, err := OpenTLS(opts)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("got public URL %s, want an error", tl.PublicURL())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := tl.PublicURL(); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
			if got := tl.PublicURLDerived(); got != tt.derived {
				t.Errorf("derived: got %v, want %v", got, tt.derived)
			}
			// Whatever the URL, the certificate must cover its host.
			verifyFor(t, caCertificate(t, tl), tl.Certificate().Leaf, f.now, urlHost(tl.PublicURL()))
		})
	}
}
