package sync

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
)

// Refusals of the receiver. ErrorResponse turns each into its status and
// body; the office's HTTP error handler calls it, so there is one mapping.
var (
	// ErrUnauthorized: no bus token, or one the office does not know.
	ErrUnauthorized = errors.New("unknown or missing bus token")
	// ErrTooLarge: more records or bytes than one push may carry.
	ErrTooLarge = errors.New("batch too large")
	// ErrNotEnrolled: the bus has no office to sync with.
	ErrNotEnrolled = errors.New("this bus is not enrolled with an office; run `infobus bus enroll`")
)

// VersionError is a request or answer in another protocol version.
type VersionError struct {
	Got string // the header as sent, "" when missing
}

func (e *VersionError) Error() string {
	if e.Got == "" {
		return fmt.Sprintf("no %s header: this end speaks sync protocol version %d", VersionHeader, Version)
	}
	return fmt.Sprintf("sync protocol version %s is not %d, the version this end speaks; update the older of bus and office", e.Got, Version)
}

// MalformedError is a request the receiver could not read, said in
// English and in Dutch.
type MalformedError struct{ Msg, NL string }

func (e *MalformedError) Error() string { return e.Msg }

func malformed(en, nl string) error {
	return &MalformedError{en, nl}
}

// TooLargeError says which bound a push broke, in English and in Dutch.
type TooLargeError struct{ Msg, NL string }

func (e *TooLargeError) Error() string { return e.Msg }
func (e *TooLargeError) Unwrap() error { return ErrTooLarge }

// ErrorResponse maps a receiver error to its HTTP status and body. ok is
// false for errors that are not the protocol's: the caller treats those as
// internal.
func ErrorResponse(err error) (status int, body ErrorBody, ok bool) {
	var (
		ve *VersionError
		me *MalformedError
		te *TooLargeError
	)
	switch {
	case errors.As(err, &ve):
		return http.StatusUpgradeRequired, ErrorBody{Error: "sync_version", Message: ve.Error(),
			MessageNL: "bus en kantoor gebruiken een andere versie van de synchronisatie; werk de oudste van de twee bij"}, true
	case errors.Is(err, ErrUnauthorized):
		return http.StatusUnauthorized, ErrorBody{Error: "unauthorized",
			Message:   "the office does not know this bus token; enroll the bus again with a string from `infobus office add-bus`",
			MessageNL: "het kantoor kent de sleutel van deze bus niet; koppel de bus opnieuw met een tekst van `infobus office add-bus`"}, true
	case errors.As(err, &te):
		return http.StatusRequestEntityTooLarge, ErrorBody{Error: "too_large", Message: te.Msg, MessageNL: te.NL}, true
	case errors.Is(err, ErrTooLarge):
		return http.StatusRequestEntityTooLarge, ErrorBody{Error: "too_large", Message: err.Error(), MessageNL: "de push is te groot"}, true
	case errors.As(err, &me):
		return http.StatusBadRequest, ErrorBody{Error: "bad_request", Message: me.Msg, MessageNL: me.NL}, true
	}
	return 0, ErrorBody{}, false
}

// RefusedError is an office's refusal as the bus receives it.
type RefusedError struct {
	Status int
	ErrorBody
}

func (e *RefusedError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("office answered %d %s", e.Status, http.StatusText(e.Status))
	}
	return fmt.Sprintf("office refused (%d %s): %s", e.Status, e.ErrorBody.Error, e.Message)
}

// Offline reports whether err means the office could not be reached, or a
// proxy between could not reach it, rather than that it refused: such a
// failure is worth a cheap connectivity probe before the next full try.
func Offline(err error) bool {
	var re *RefusedError
	if errors.As(err, &re) {
		switch re.Status {
		case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true
		}
		return false
	}
	// The HTTP client reports every failure to connect, send or receive,
	// timeouts included, as a *url.Error; a cut answer is an unexpected EOF.
	var (
		ue *url.Error
		ne net.Error
	)
	return errors.As(err, &ue) || errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}
