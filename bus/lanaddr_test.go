package bus

import (
	"slices"
	"testing"
)

func TestHostnameNames(t *testing.T) {
	tests := []struct {
		host string
		want []string
	}{
		{"Bus-Laptop", []string{"bus-laptop", "bus-laptop.local"}},
		{"bus7.wijkbus.example.", []string{"bus7.wijkbus.example"}},
		{"DESKTOP_4F2", nil},
		{"-bad", nil},
		{"", nil},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			if got := hostnameNames(tt.host); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMachineNamesLeavesOutLoopback(t *testing.T) {
	names, err := MachineNames()
	if err != nil {
		t.Skipf("cannot list interfaces here: %v", err)
	}
	for _, ip := range names.IPs {
		if ip.IsLoopback() || (ip.To4() == nil && ip.IsLinkLocalUnicast()) {
			t.Errorf("got %v among the LAN addresses, want no loopback or IPv6 link-local", ip)
		}
	}
}
