package bus

import (
	"errors"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// httpsURL makes the public URL for host on the listen port.
func (t *TLS) httpsURL(host string) string {
	port := t.listenPort()
	if port == 443 {
		if strings.Contains(host, ":") {
			return "https://[" + host + "]"
		}
		return "https://" + host
	}
	return "https://" + net.JoinHostPort(host, strconv.Itoa(port))
}

// choosePublicURL settles the URL tablets use; see PublicURL. The URL is the
// origin the tablets' queued records belong to, so a derived one prefers the
// previous start's over whatever address DHCP handed out today.
func (t *TLS) choosePublicURL(machine CertNames) error {
	if t.opts.PublicURL != "" {
		t.publicURL = t.opts.PublicURL
		return nil
	}
	t.derived = true
	if ip := t.listenIP(); ip != nil {
		t.publicURL = t.httpsURL(ip.String())
		return nil
	}
	if u := t.usableRecordedURL(); u != "" {
		t.publicURL = u
		host := urlHost(u)
		if ip := net.ParseIP(host); ip != nil && !slices.ContainsFunc(machine.IPs, ip.Equal) {
			t.opts.Log.Warn("this machine no longer has the address tablets use; they cannot reach the bus until it has again "+
				"(reserve it in the router's DHCP), or start with --public-url to move them to another origin",
				"public_url", u, "addresses", machine.IPs)
		}
		return nil
	}
	// Only addresses the CA may vouch for: a public one would fail every
	// tablet's check (the CA's name constraints).
	ips := slices.DeleteFunc(slices.Clone(machine.IPs), func(ip net.IP) bool { return !permits(t.ca, ip.String()) })
	ip := preferredAddress(ips)
	if ip == nil {
		return errors.New("no LAN address to make the public URL from: connect the laptop to the van's network, or give --public-url")
	}
	t.publicURL = t.httpsURL(ip.String())
	return nil
}

// usableRecordedURL is the recorded URL if it still fits: HTTPS on the port
// the server listens on.
func (t *TLS) usableRecordedURL() string {
	u, err := url.Parse(t.opts.RecordedURL)
	if err != nil || u.Scheme != "https" || u.Hostname() == "" {
		return ""
	}
	port := u.Port()
	if port == "" {
		port = "443"
	}
	if port != strconv.Itoa(t.listenPort()) {
		return ""
	}
	return strings.TrimSuffix(t.opts.RecordedURL, "/")
}

func urlHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// preferredAddress picks the address for a derived URL: the first private
// IPv4 (a van's router hands out those), then the first IPv4, then the first
// address at all, in the order the system lists them.
func preferredAddress(ips []net.IP) net.IP {
	for _, ip := range ips {
		if ip.To4() != nil && ip.IsPrivate() {
			return ip
		}
	}
	for _, ip := range ips {
		if ip.To4() != nil {
			return ip
		}
	}
	if len(ips) > 0 {
		return ips[0]
	}
	return nil
}
