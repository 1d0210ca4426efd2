package bus

import "time"

// Default rate limits per client address. The crew's tablets each have
// their own address on the bus's network; a tablet replaying a long queue
// sends one PUT per visit, so the general limit is far above what a crew
// does and only stops a flood. Pairing codes are guessed, so pairing gets a
// tight one.
const (
	DefaultLimitWindow   = time.Minute
	DefaultLimitRequests = 3000
	DefaultLimitPair     = 10
)

// RateLimits are requests allowed per Window from one client address.
type RateLimits struct {
	Window   time.Duration
	Requests int // on every route
	Pair     int // on POST /api/pair, besides Requests
}

func (l *RateLimits) defaults() {
	if l.Window == 0 {
		l.Window = DefaultLimitWindow
	}
	if l.Requests == 0 {
		l.Requests = DefaultLimitRequests
	}
	if l.Pair == 0 {
		l.Pair = DefaultLimitPair
	}
}
