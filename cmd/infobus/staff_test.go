package main

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"os/exec"
	"strings"
	"testing"

	"infobus/office"
)

// TestAddStaff runs `infobus office add-staff` as an admin would: the link
// it prints opens the set-password page of the new account, on the URL the
// running office recorded.
func TestAddStaff(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	store, err := office.OpenStore(ctx, dir, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.PutSetting(ctx, office.SettingPublicURL, "https://office.example"); err != nil {
		t.Fatal(err)
	}
	store.Close()

	out, err := exec.Command(binary, "office", "add-staff", "Ada@Example.org", "--role", "admin", "--data", dir).Output()
	if err != nil {
		t.Fatalf("add-staff: %v", err)
	}
	link := strings.TrimSpace(string(out))
	u, err := url.Parse(link)
	if err != nil || u.Scheme != "https" || u.Host != "office.example" || u.Path != "/account/set-password" || u.Query().Get("token") == "" {
		t.Fatalf("add-staff printed %q, want https://office.example/account/set-password?token=…", link)
	}

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"taken", []string{"ada@example.org"}, "already has an account"},
		{"bad role", []string{"bob@example.org", "--role", "boss"}, "role must be staff or admin"},
		{"bad email", []string{"bob"}, "email must be an email address"},
		{"no email", nil, "EMAIL is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(binary, append([]string{"office", "add-staff", "--data", dir}, tc.args...)...)
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), tc.want) {
				t.Errorf("got %v: %s; want exit 2 saying %q", err, out, tc.want)
			}
		})
	}

	store, err = office.OpenStore(ctx, dir, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	st, err := store.LinkStaff(ctx, u.Query().Get("token"))
	if err != nil || st.Email != "ada@example.org" || st.Role != office.RoleAdmin {
		t.Fatalf("the link's account: got %+v, %v; want ada@example.org, admin", st, err)
	}
	entries, err := store.AuditLog(ctx, 10)
	if err != nil || len(entries) != 1 || entries[0].Action != office.ActionStaffAdded || entries[0].Actor != office.ActorCLI {
		t.Errorf("audit log: got %+v, %v; want one staff_added by cli", entries, err)
	}
}
