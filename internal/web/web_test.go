package web

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
)

// The logged status is the one the error handler sent, and a refusal is
// logged at info while a success stays at debug.
func TestLogRequests(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	handleError := func(c *fiber.Ctx, err error) error {
		return c.Status(fiber.StatusTeapot).SendString(err.Error())
	}
	app := fiber.New(fiber.Config{ErrorHandler: handleError})
	app.Use(LogRequests(log, handleError))
	app.Get("/ok", func(c *fiber.Ctx) error { return c.SendString("ok") })
	app.Get("/bad", func(c *fiber.Ctx) error { return errors.New("refused") })
	for _, path := range []string{"/ok", "/bad"} {
		resp, err := app.Test(httptest.NewRequest("GET", path, nil))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	got := buf.String()
	if strings.Contains(got, "path=/ok") {
		t.Errorf("a success was logged at info: %s", got)
	}
	if !strings.Contains(got, "path=/bad status=418") {
		t.Errorf("got log %q, want the refusal with status 418", got)
	}
}

func TestCheckSettings(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		wantErr string
	}{
		{"addr", CheckAddr("127.0.0.1:8080", "x"), ""},
		{"addr without port", CheckAddr("localhost", "127.0.0.1:8080"), `--addr "localhost": must be host:port, like 127.0.0.1:8080`},
		{"no public URL", CheckPublicURL(""), ""},
		{"https URL", CheckPublicURL("https://bus.example:8443"), ""},
		{"ftp URL", CheckPublicURL("ftp://x"), `--public-url "ftp://x": must be an http or https URL`},
		{"URL without host", CheckPublicURL("http://"), `--public-url "http://": must be an http or https URL`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			if tt.err != nil {
				got = tt.err.Error()
			}
			if got != tt.wantErr {
				t.Errorf("got %q, want %q", got, tt.wantErr)
			}
		})
	}
}
