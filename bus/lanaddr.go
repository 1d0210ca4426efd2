package bus

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
)

// CertNames are the DNS names and IP addresses a server certificate covers.
type CertNames struct {
	DNS []string
	IPs []net.IP
}

// add appends host as a DNS name or an address.
func (n *CertNames) add(host string) {
	if ip := net.ParseIP(host); ip != nil {
		n.IPs = append(n.IPs, ip)
	} else if host != "" {
		n.DNS = append(n.DNS, host)
	}
}

// normalized returns the names lowercased, deduplicated and sorted, with
// IPv4 addresses in their 4-byte form, so that two sets compare by value.
func (n CertNames) normalized() CertNames {
	var out CertNames
	for _, d := range n.DNS {
		out.DNS = append(out.DNS, strings.ToLower(strings.TrimSuffix(d, ".")))
	}
	slices.Sort(out.DNS)
	out.DNS = slices.Compact(out.DNS)
	for _, ip := range n.IPs {
		if v4 := ip.To4(); v4 != nil {
			ip = v4
		}
		out.IPs = append(out.IPs, ip)
	}
	slices.SortFunc(out.IPs, func(a, b net.IP) int { return bytes.Compare(a, b) })
	out.IPs = slices.CompactFunc(out.IPs, func(a, b net.IP) bool { return a.Equal(b) })
	return out
}

func (n CertNames) equal(o CertNames) bool {
	a, b := n.normalized(), o.normalized()
	return slices.Equal(a.DNS, b.DNS) && slices.EqualFunc(a.IPs, b.IPs, func(x, y net.IP) bool { return x.Equal(y) })
}

// MachineNames returns this machine's hostname (with ".local" added to a
// bare one, the name mDNS answers to) and its LAN addresses: the unicast
// addresses of interfaces that are up and have a link, in the order the
// system lists them. Loopback and IPv6 link-local addresses are left out: a
// tablet cannot use the one, and a browser cannot put the other in a URL.
func MachineNames() (CertNames, error) {
	var n CertNames
	if h, err := os.Hostname(); err == nil {
		n.DNS = hostnameNames(h)
	}
	ifaces, err := net.Interfaces()
	if err != nil {
		return n, fmt.Errorf("list network interfaces: %w", err)
	}
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagRunning == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue // an interface that vanished while we looked
		}
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && isLANAddress(ipn.IP) {
				n.IPs = append(n.IPs, ipn.IP)
			}
		}
	}
	return n, nil
}

func isLANAddress(ip net.IP) bool {
	switch {
	case ip.IsLoopback(), ip.IsUnspecified(), ip.IsMulticast():
		return false
	case ip.To4() == nil && ip.IsLinkLocalUnicast():
		return false
	}
	return ip.IsGlobalUnicast() || ip.IsLinkLocalUnicast()
}

// hostnameNames turns a hostname into the DNS names a certificate can carry;
// a name that is not a valid DNS name (Windows allows underscores) gives none.
func hostnameNames(h string) []string {
	h = strings.ToLower(strings.TrimSuffix(h, "."))
	if !validDNSName(h) {
		return nil
	}
	if !strings.Contains(h, ".") {
		return []string{h, h + ".local"}
	}
	return []string{h}
}

func validDNSName(name string) bool {
	if name == "" || len(name) > 253 {
		return false
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}
