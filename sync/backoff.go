package sync

import (
	"math/rand/v2"
	"time"
)

// Backoff spaces out retries after failures: each failure doubles the wait
// from Base, and a random factor between ½ and 1½ keeps a fleet of buses
// from retrying in step; no wait is longer than Max. Reset after a success. A Backoff is not
// safe for concurrent use.
type Backoff struct {
	Base, Max time.Duration
	failures  int
}

// Failure counts a failure and returns how long to wait before the next try.
func (b *Backoff) Failure() time.Duration {
	b.failures++
	d := b.Base
	for i := 1; i < b.failures && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	return min(time.Duration(float64(d)*(0.5+rand.Float64())), b.Max)
}

// Reset forgets earlier failures.
func (b *Backoff) Reset() { b.failures = 0 }

// Failures returns how many failures in a row were counted.
func (b *Backoff) Failures() int { return b.failures }
