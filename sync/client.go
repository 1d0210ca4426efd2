package sync

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Outbox is what the client needs from the bus's store.
type Outbox interface {
	// Enrollment returns where and as whom to sync, or ErrNotEnrolled.
	Enrollment(ctx context.Context) (Enrollment, error)
	// Backlog returns how many visits wait for the office, the acked
	// cursor, and the change counter now: one run pushes nothing written
	// after it started.
	Backlog(ctx context.Context) (pending, acked, upto int64, err error)
	// Pending returns the records with a crew_seq above after and at most
	// upto, in crew_seq order: at most limit records and about maxBytes.
	Pending(ctx context.Context, after, upto int64, limit, maxBytes int) ([]OutRecord, error)
	// Acknowledge moves the cursor to resp.AckedSeq and records the set
	// aside records and the attempt, in one transaction.
	Acknowledge(ctx context.Context, sent []OutRecord, resp *PushResponse) error
	// PullCursor returns where the last pull stopped.
	PullCursor(ctx context.Context) (int64, error)
	// ApplyPull stores pulled changes and the next pull cursor together and
	// returns how many changes were new.
	ApplyPull(ctx context.Context, resp *PullResponse) (int, error)
	// RecordResult notes how a sync ended: nil for success.
	RecordResult(ctx context.Context, err error) error
}

// OutRecord is one visit waiting to be pushed: its crew JSON as stored.
type OutRecord struct {
	CrewSeq int64
	ID      string
	Rev     int64
	Body    json.RawMessage
	// KeepContact: the bus removed this visit's contact details after the
	// office had them, or because the office erased them; the office keeps
	// its copy, if any (PushRequest.KeepContact). A bus restored from a
	// backup pushes erased visits again this way: their callback
	// follow-ups stay valid without the details.
	KeepContact bool
}

// Client defaults.
const (
	DefaultTimeout   = 60 * time.Second
	DefaultGzipLevel = gzip.DefaultCompression
	// maxResponse bounds what the client reads of any answer.
	maxResponse = 16 << 20
	// maxPullPages bounds one run's pulls, should an office misbehave.
	maxPullPages = 10000
	// batchByteMargin leaves room in MaxPushBytes for the envelope.
	batchByteMargin = 64 << 10
)

// Client is the bus end of the protocol: it pushes the outbox to the office
// and pulls the office's changes back. It keeps no state of its own between
// runs; the outbox (the bus's database) holds the cursors.
type Client struct {
	Outbox    Outbox
	HTTP      *http.Client
	Log       *slog.Logger
	BatchSize int // records per push; MaxPushRecords when 0
	GzipLevel int // DefaultGzipLevel when 0
	// Seen is sent on every request: the bus's epoch and build.
	Seen BusSeen
}

// NewHTTPClient returns an HTTP client with timeouts fit for a weak mobile
// link: a request that has not finished within timeout fails, and so does
// a connection that cannot be set up in a tenth of it.
func NewHTTPClient(timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	dial := &net.Dialer{Timeout: max(timeout/10, time.Second), KeepAlive: 30 * time.Second}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           dial.DialContext,
			TLSHandshakeTimeout:   max(timeout/4, time.Second),
			ResponseHeaderTimeout: timeout,
			IdleConnTimeout:       90 * time.Second,
			MaxIdleConnsPerHost:   2,
			// The body is gzip already; the answers are small.
			DisableCompression: true,
		},
	}
}

// Report says what one sync moved.
type Report struct {
	Pushed   int   `json:"pushed"`    // records the office acknowledged in this run
	SetAside int   `json:"set_aside"` // of which the office refused
	Batches  int   `json:"batches"`
	Bytes    int64 `json:"bytes"`   // gzip push bodies sent, resends included
	Pulled   int   `json:"pulled"`  // follow-up status changes and feedback new to the bus
	Pending  int64 `json:"pending"` // visits still waiting when the run ended
}

// Progress is reported after every acknowledged batch.
type Progress struct {
	Done, Total int64
}

// Sync pushes everything the bus has that the office has not acknowledged,
// then pulls the office's changes, and records the outcome. progress may be
// nil. It returns ErrNotEnrolled without recording an attempt when the bus
// has no office.
func (c *Client) Sync(ctx context.Context, progress func(Progress)) (Report, error) {
	rep, err := c.sync(ctx, progress)
	if errors.Is(err, ErrNotEnrolled) {
		return rep, err
	}
	// The outcome is worth recording even when ctx was cancelled.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if rerr := c.Outbox.RecordResult(rctx, err); rerr != nil {
		err = errors.Join(err, fmt.Errorf("record sync result: %w", rerr))
	}
	if pending, _, _, perr := c.Outbox.Backlog(rctx); perr == nil {
		rep.Pending = pending
	}
	return rep, err
}

func (c *Client) sync(ctx context.Context, progress func(Progress)) (Report, error) {
	return c.syncOnce(ctx, progress, false)
}

// syncOnce pushes and pulls; again says it is the run after a rewind,
// which does not rewind a second time.
func (c *Client) syncOnce(ctx context.Context, progress func(Progress), again bool) (Report, error) {
	var rep Report
	enr, err := c.Outbox.Enrollment(ctx)
	if err != nil {
		return rep, err
	}
	total, acked, upto, err := c.Outbox.Backlog(ctx)
	if err != nil {
		return rep, err
	}
	// Three stages work at once: the next batch is read and compressed,
	// the current one is with the office, and the previous one's answer is
	// being recorded. Pushes go one at a time, so a lost answer costs one
	// batch; answers are recorded in order, so the cursor never skips.
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := c.prepareBatches(pctx, enr, acked, upto)
	acks := make(chan ack, 1)
	ackDone := make(chan error, 1)
	go func() { ackDone <- c.recordAcks(ctx, acks, &rep, total, progress) }()
	var pushErr error
	for b := range batches {
		if b.err != nil {
			pushErr = b.err
			break
		}
		resp, err := c.push(ctx, enr, b)
		rep.Bytes += int64(len(b.body))
		if err != nil {
			pushErr = err
			break
		}
		select {
		case acks <- ack{b, resp}:
			continue
		case err := <-ackDone: // the recorder gave up
			ackDone <- err
		}
		break
	}
	close(acks)
	cancel()
	for range batches { // let the reader finish
	}
	if err := errors.Join(pushErr, <-ackDone); err != nil {
		return rep, err
	}
	if err := c.pushExtras(ctx, enr); err != nil {
		return rep, err
	}
	pulled, rewound, err := c.pull(ctx, enr)
	rep.Pulled += pulled
	if err != nil || !rewound || again {
		return rep, err
	}
	// The office holds less than the bus thought (it was restored): push
	// the rest again now rather than at the next run.
	if c.Log != nil {
		c.Log.Info("sync: the office holds less than acknowledged, probably restored from a backup; pushing again")
	}
	return c.pushAgain(ctx, rep, progress)
}

// pushAgain runs sync's push and pull once more after a rewind, adding to rep.
func (c *Client) pushAgain(ctx context.Context, rep Report, progress func(Progress)) (Report, error) {
	more, err := c.syncOnce(ctx, progress, true)
	rep.Pushed += more.Pushed
	rep.SetAside += more.SetAside
	rep.Batches += more.Batches
	rep.Bytes += more.Bytes
	rep.Pulled += more.Pulled
	return rep, err
}

// ack is an office's answer to a push, waiting to be recorded.
type ack struct {
	b    batch
	resp *PushResponse
}

// recordAcks records answers in the order they came until acks closes or
// recording fails. It owns rep's counts of pushed records.
func (c *Client) recordAcks(ctx context.Context, acks <-chan ack, rep *Report, total int64, progress func(Progress)) error {
	for a := range acks {
		if err := c.Outbox.Acknowledge(ctx, a.b.recs, a.resp); err != nil {
			for range acks { // the pusher stops at its next send
			}
			return fmt.Errorf("record acknowledgement: %w", err)
		}
		rep.Batches++
		rep.Pushed += len(a.b.recs)
		rep.SetAside += len(a.resp.SetAside)
		if progress != nil {
			progress(Progress{Done: int64(rep.Pushed), Total: max(total, int64(rep.Pushed))})
		}
		if c.Log != nil {
			c.Log.Debug("sync pushed", "records", len(a.b.recs), "set_aside", len(a.resp.SetAside), "acked_seq", a.resp.AckedSeq, "bytes", len(a.b.body))
		}
	}
	return nil
}

// batch is a push ready to send.
type batch struct {
	recs       []OutRecord
	afterSeq   int64
	throughSeq int64
	body       []byte // gzip
	err        error
}

// prepareBatches reads and compresses batches after acked, one ahead of
// the pusher, until upto; the channel closes after the last or an error.
func (c *Client) prepareBatches(ctx context.Context, enr Enrollment, after, upto int64) <-chan batch {
	size := c.BatchSize
	if size <= 0 || size > MaxPushRecords {
		size = MaxPushRecords
	}
	level := c.GzipLevel
	if level == 0 {
		level = DefaultGzipLevel
	}
	out := make(chan batch, 1)
	go func() {
		defer close(out)
		for {
			recs, err := c.Outbox.Pending(ctx, after, upto, size, MaxPushBytes-batchByteMargin)
			if err != nil || len(recs) == 0 {
				if err != nil {
					select {
					case out <- batch{err: err}:
					case <-ctx.Done():
					}
				}
				return
			}
			b := batch{recs: recs, afterSeq: after, throughSeq: recs[len(recs)-1].CrewSeq}
			req := &PushRequest{BusID: enr.BusID, ThroughSeq: b.throughSeq, Records: make([]json.RawMessage, len(recs))}
			for i, r := range recs {
				req.Records[i] = r.Body
				if r.KeepContact {
					req.KeepContact = append(req.KeepContact, r.ID)
				}
			}
			var buf bytes.Buffer
			b.err = EncodePush(&buf, req, level)
			b.body = buf.Bytes()
			select {
			case out <- b:
			case <-ctx.Done():
				return
			}
			if b.err != nil {
				return
			}
			after = b.throughSeq
		}
	}()
	return out
}

func (c *Client) push(ctx context.Context, enr Enrollment, b batch) (*PushResponse, error) {
	var resp PushResponse
	if err := c.do(ctx, enr, http.MethodPost, PushPath, b.body, &resp, AfterSeqHeader, strconv.FormatInt(b.afterSeq, 10)); err != nil {
		return nil, err
	}
	// An office acknowledging something else than what was sent is broken;
	// moving the cursor on its word could skip records.
	if resp.AckedSeq != b.throughSeq {
		return nil, fmt.Errorf("office acknowledged seq %d for a batch through %d", resp.AckedSeq, b.throughSeq)
	}
	for _, sa := range resp.SetAside {
		if sa.Index < 0 || sa.Index >= len(b.recs) {
			return nil, fmt.Errorf("office set aside record %d of a batch of %d", sa.Index, len(b.recs))
		}
	}
	return &resp, nil
}

// pull pulls the office's changes page by page. rewound says the office
// holds less of the bus's pushes than the bus thought, and the push cursor
// has moved back.
func (c *Client) pull(ctx context.Context, enr Enrollment) (pulled int, rewound bool, err error) {
	rec, _ := c.Outbox.(Reconciler)
	reconciled := false
	for range maxPullPages {
		since, err := c.Outbox.PullCursor(ctx)
		if err != nil {
			return pulled, rewound, err
		}
		plan, err := c.planQuery(ctx)
		if err != nil {
			return pulled, rewound, err
		}
		var resp PullResponse
		if err := c.do(ctx, enr, http.MethodGet, PullPath+"?since="+strconv.FormatInt(since, 10)+plan, nil, &resp); err != nil {
			return pulled, rewound, err
		}
		// An office that sends no epoch predates restores: nothing to follow.
		if rec != nil && !reconciled && resp.Epoch != "" {
			reconciled = true
			var repull bool
			rewound, repull, err = rec.Reconcile(ctx, resp.HeldSeq, resp.Epoch)
			if err != nil {
				return pulled, rewound, fmt.Errorf("reconcile with the office: %w", err)
			}
			if repull && since > 0 {
				continue // this page was read from the old office's cursor
			}
		}
		if resp.Next < since {
			return pulled, rewound, fmt.Errorf("office moved the pull cursor back from %d to %d", since, resp.Next)
		}
		n, err := c.Outbox.ApplyPull(ctx, &resp)
		pulled += n
		if err != nil {
			return pulled, rewound, fmt.Errorf("record pull: %w", err)
		}
		if !resp.More {
			return pulled, rewound, nil
		}
	}
	return pulled, rewound, nil
}

// do sends one protocol request and decodes a 200 answer into out. Any
// other answer becomes a *RefusedError, an answer in another protocol
// version a *VersionError.
// header holds further headers as name, value pairs.
func (c *Client) do(ctx context.Context, enr Enrollment, method, path string, body []byte, out any, header ...string) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(enr.OfficeURL, "/")+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+enr.BusToken)
	req.Header.Set(VersionHeader, strconv.Itoa(Version))
	if c.Seen.Epoch != "" {
		req.Header.Set(EpochHeader, c.Seen.Epoch)
	}
	if c.Seen.Build != "" {
		req.Header.Set(BuildHeader, c.Seen.Build)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		re := &RefusedError{Status: resp.StatusCode}
		_ = json.Unmarshal(data, &re.ErrorBody)
		return re
	}
	if err := CheckVersion(resp.Header.Get(VersionHeader)); err != nil {
		return err
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("office answer is not valid: %w", err)
	}
	return nil
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

// Probe checks cheaply whether the office answers at all.
func (c *Client) Probe(ctx context.Context) error {
	enr, err := c.Outbox.Enrollment(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(enr.OfficeURL, "/")+HealthzPath, nil)
	if err != nil {
		return err
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return &RefusedError{Status: resp.StatusCode}
	}
	return nil
}
