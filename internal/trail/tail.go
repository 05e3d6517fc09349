package trail

import (
	"bytes"
	"fmt"
	"io"
)

// tail is the input as the decoder reads it, keeping the bytes from the
// start of the value being read: they give each event's line, its raw
// bytes, and where to go on after a malformed line. Bytes before the
// current value are dropped, so it holds one value and the decoder's
// read-ahead, never the whole input.
type tail struct {
	r    io.Reader
	buf  []byte // the bytes from off on that have been read
	off  int64
	line int // the line of buf[0]
	// pending is what is read again after a resync, before r.
	pending []byte
	err     error
}

func (t *tail) Read(p []byte) (int, error) {
	if len(t.pending) > 0 {
		n := copy(p, t.pending)
		t.pending = t.pending[n:]
		return n, nil
	}
	if t.err != nil {
		return 0, t.err
	}
	n, err := t.r.Read(p)
	t.buf = append(t.buf, p[:n]...)
	if len(t.buf) > MaxValueSize {
		t.err = fmt.Errorf("a single JSON value over %d MiB", MaxValueSize>>20)
		return n, t.err
	}
	return n, err
}

// reader returns what a new decoder reads after a resync.
func (t *tail) reader() io.Reader { return t }

// start is the absolute offset of the first byte kept.
func (t *tail) start() int64 { return t.off }

// drop forgets the bytes before abs.
func (t *tail) drop(abs int64) {
	k := int(abs - t.off)
	if k <= 0 {
		return
	}
	k = min(k, len(t.buf))
	t.line += bytes.Count(t.buf[:k], []byte{'\n'})
	t.off += int64(k)
	if k == len(t.buf) {
		t.buf = t.buf[:0]
	} else {
		t.buf = t.buf[k:]
	}
}

// lineAt is the 1-based line of the byte at abs (abs must not be dropped).
func (t *tail) lineAt(abs int64) int {
	k := min(max(int(abs-t.off), 0), len(t.buf))
	return t.line + bytes.Count(t.buf[:k], []byte{'\n'})
}

// nextNonSpace is the offset of the first byte at or after abs that is not
// white space (as far as it has been read).
func (t *tail) nextNonSpace(abs int64) int64 {
	for k := int(abs - t.off); k < len(t.buf); k++ {
		switch t.buf[k] {
		case ' ', '\t', '\r', '\n':
		default:
			return t.off + int64(k)
		}
	}
	return t.off + int64(len(t.buf))
}

// copyRange copies the bytes from abs to end.
func (t *tail) copyRange(abs, end int64) []byte {
	from, to := int(abs-t.off), int(end-t.off)
	return append([]byte(nil), t.buf[from:to]...)
}

// resync drops everything up to and including the end of the line that
// starts at abs, and arranges for the bytes already read after it to be
// read again. It returns the absolute offset reading goes on from.
func (t *tail) resync(abs int64) (int64, error) {
	t.drop(abs)
	t.pending = nil
	for {
		if i := bytes.IndexByte(t.buf, '\n'); i >= 0 {
			t.drop(t.off + int64(i) + 1)
			t.pending = append([]byte(nil), t.buf...)
			return t.off, nil
		}
		// The line goes on beyond what was read: read on, forgetting it.
		t.drop(t.off + int64(len(t.buf)))
		if t.err != nil {
			return t.off, t.err
		}
		var p [4096]byte
		n, err := t.r.Read(p[:])
		t.buf = append(t.buf, p[:n]...)
		if err != nil && n == 0 {
			return t.off, err
		}
	}
}
