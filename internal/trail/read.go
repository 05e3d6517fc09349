package trail

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// This file reads the files people have after an incident: one event (an
// EventBridge envelope or a bare record), JSON lines or objects one after
// another, a JSON array of events, or a CloudTrail log file
// ({"Records":[...]}), any of them gzipped. It streams: a log file's records
// are decoded one at a time, token by token, so memory does not grow with
// the file and time grows linearly with it.

// MaxValueSize bounds one top-level JSON value other than a log file's
// Records list (which is streamed): an event, or an object read while
// looking for one. Anything larger is not an incident's evidence.
const MaxValueSize = 64 << 20

// maxResyncs bounds how often one input may be malformed before the rest of
// it is given up: each bad value costs a re-read of its line.
const maxResyncs = 1000

// Item is one event of an input, or why it could not be read.
type Item struct {
	// Source says where the event was read: FILE:LINE for an event on its
	// own or in an array, FILE#Records[i] for a CloudTrail log file's record.
	Source string
	Event  Event
	// Err is set, wrapping ErrMalformed, when this event could not be read;
	// the reader goes on with the next one.
	Err error
}

// Reader reads the events of one input in order. It is not safe for
// concurrent use.
type Reader struct {
	label string
	tail  *tail
	dec   *json.Decoder
	base  int64 // absolute offset at which dec started reading

	// state: reading top-level values, or the elements of an array or of
	// a log file's Records list.
	state   readState
	index   int
	resyncs int
	done    bool
}

type readState int

const (
	atTop readState = iota
	inArray
	inRecords
)

// NewReader reads events from r; label names the input in each item's
// Source. Gzipped input is recognised by its magic number.
func NewReader(r io.Reader, label string) (*Reader, error) {
	br := bufio.NewReader(r)
	var src io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("read events from %s: %w", label, err)
		}
		src = zr
	}
	t := &tail{r: src, line: 1}
	return &Reader{label: label, tail: t, dec: json.NewDecoder(t)}, nil
}

// Next returns the next item. It returns io.EOF at the end of the input, and
// any other error when the input itself could not be read (I/O, gzip); a
// malformed event is an item with Err set, not an error.
func (r *Reader) Next() (Item, error) {
	for {
		if r.done {
			return Item{}, io.EOF
		}
		switch r.state {
		case inArray, inRecords:
			it, ok, err := r.element()
			if err != nil || ok {
				return it, err
			}
		default:
			it, ok, err := r.top()
			if err != nil || ok {
				return it, err
			}
		}
	}
}

func (r *Reader) offset() int64 { return r.base + r.dec.InputOffset() }

func (r *Reader) lineSource(abs int64) string {
	return fmt.Sprintf("%s:%d", r.label, r.tail.lineAt(abs))
}

// top reads the next top-level value. ok is false when it produced no item
// (a log file's opening was consumed; the records follow).
func (r *Reader) top() (Item, bool, error) {
	r.tail.drop(r.offset())
	tok, err := r.dec.Token()
	if err == io.EOF {
		r.done = true
		return Item{}, false, io.EOF
	}
	if err != nil {
		return r.malformedTop(err)
	}
	start := r.offset() - 1 // the delimiter just read
	switch tok {
	case json.Delim('['):
		r.state, r.index = inArray, 0
		return Item{}, false, nil
	case json.Delim('{'):
	default:
		// A bare string, number, boolean or null.
		return Item{Source: r.lineSource(r.offset() - 1), Err: fmt.Errorf("%w: not a JSON object", ErrMalformed)}, true, nil
	}
	key, err := r.dec.Token()
	if err != nil {
		return r.malformedTop(err)
	}
	if key == "Records" {
		val, err := r.dec.Token()
		if err != nil {
			return r.malformedTop(err)
		}
		if val == json.Delim('[') {
			r.state, r.index = inRecords, 0
			return Item{}, false, nil
		}
		src := r.lineSource(start)
		if err := r.skipOpened(val); err != nil {
			return r.malformedTop(err)
		}
		if err := r.finishObject(); err != nil {
			return r.malformedTop(err)
		}
		return Item{Source: src, Err: fmt.Errorf("%w: \"Records\" is not a list of records", ErrMalformed)}, true, nil
	}
	if _, isKey := key.(string); isKey {
		if err := r.skipValue(); err != nil {
			return r.malformedTop(err)
		}
	}
	if key != json.Delim('}') {
		if err := r.finishObject(); err != nil {
			return r.malformedTop(err)
		}
	}
	// The tail holds the object's bytes exactly as they were written.
	raw := r.tail.copyRange(start, r.offset())
	ev, err := Parse(raw)
	return Item{Source: r.lineSource(start), Event: ev, Err: err}, true, nil
}

// element reads the next element of an array or of a log file's Records.
func (r *Reader) element() (Item, bool, error) {
	r.tail.drop(r.offset())
	if !r.dec.More() {
		if _, err := r.dec.Token(); err != nil { // ']'
			return r.malformedInside(err)
		}
		if r.state == inRecords {
			if err := r.finishObject(); err != nil {
				return r.malformedInside(err)
			}
		}
		r.state = atTop
		return Item{}, false, nil
	}
	i := r.index
	r.index++
	var raw json.RawMessage
	if err := r.dec.Decode(&raw); err != nil {
		return r.malformedInside(err)
	}
	src := r.lineSource(r.offset() - int64(len(raw)))
	if r.state == inRecords {
		src = fmt.Sprintf("%s#Records[%d]", r.label, i)
	}
	if len(raw) > 0 && raw[0] == '[' {
		return Item{Source: src, Err: fmt.Errorf("%w: a list inside a list of events", ErrMalformed)}, true, nil
	}
	ev, err := Parse(raw)
	return Item{Source: src, Event: ev, Err: err}, true, nil
}

// skipValue consumes the next value.
func (r *Reader) skipValue() error {
	var skip json.RawMessage
	return r.dec.Decode(&skip)
}

// skipOpened consumes the rest of a value whose first token was tok.
func (r *Reader) skipOpened(tok json.Token) error {
	depth := 0
	for {
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
		var err error
		if tok, err = r.dec.Token(); err != nil {
			return err
		}
	}
}

// finishObject consumes the remaining members of an object and its '}'.
func (r *Reader) finishObject() error {
	for r.dec.More() {
		if _, err := r.dec.Token(); err != nil {
			return err
		}
		if err := r.skipValue(); err != nil {
			return err
		}
	}
	_, err := r.dec.Token()
	return err
}

// malformedInside reports a syntax error inside an array or a log file:
// the positions of what follows cannot be trusted, so the rest of the input
// is not read.
func (r *Reader) malformedInside(err error) (Item, bool, error) {
	if !isSyntax(err) {
		return Item{}, false, r.readErr(err)
	}
	src := fmt.Sprintf("%s#[%d]", r.label, r.index-1)
	if r.state == inRecords {
		src = fmt.Sprintf("%s#Records[%d]", r.label, r.index-1)
	}
	r.done = true
	return Item{Source: src, Err: fmt.Errorf("%w: %w (the rest of the input is not read)", ErrMalformed, truncated(err))}, true, nil
}

// malformedTop reports a top-level value that is not JSON, and goes on on
// the line after the one it starts on, so that in JSON lines one bad line
// costs one event.
func (r *Reader) malformedTop(err error) (Item, bool, error) {
	if !isSyntax(err) {
		return Item{}, false, r.readErr(err)
	}
	start := r.tail.nextNonSpace(r.tail.start())
	src := r.lineSource(start)
	r.resyncs++
	if r.resyncs > maxResyncs {
		r.done = true
		return Item{Source: src, Err: fmt.Errorf("%w: %w (over %d malformed values: the rest of the input is not read)", ErrMalformed, err, maxResyncs)}, true, nil
	}
	next, err2 := r.tail.resync(start)
	if err2 != nil {
		r.done = true
		if !errors.Is(err2, io.EOF) {
			return Item{}, false, r.readErr(err2)
		}
	}
	r.base = next
	r.dec = json.NewDecoder(r.tail.reader())
	r.state = atTop
	return Item{Source: src, Err: fmt.Errorf("%w: not JSON: %w", ErrMalformed, truncated(err))}, true, nil
}

func (r *Reader) readErr(err error) error {
	r.done = true
	return fmt.Errorf("read events from %s: %w", r.label, err)
}

// truncated names an end of input inside a value for what it is.
func truncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("the input ends inside a JSON value")
	}
	return err
}

func isSyntax(err error) bool {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	return errors.As(err, &se) || errors.As(err, &te) || errors.Is(err, io.ErrUnexpectedEOF) ||
		err == io.EOF // EOF inside a value
}
