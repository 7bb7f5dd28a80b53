package io.ollamabalancer.relay;

import io.netty.buffer.ByteBuf;
import io.ollamabalancer.estimate.TimingSample;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Reads the timing fields of Ollama's final chunk ({@code "done":true}) and OpenAI usage chunks as the response
 * streams through, without delaying or changing a byte. One instance per exchange, event-loop confined.
 *
 * <p>How: each chunk's readable bytes are scanned where they are, line by line (NDJSON, or SSE {@code data: }
 * lines), with {@link ByteBuf#indexOf}: for the line ends, and for the colons, the only places a marker can end —
 * a key {@code "done"} whose value is {@code true}, or a key {@code "usage"}. Around each colon a few bytes are
 * compared in place; the last bytes of a line's earlier chunks and a half-matched {@code true} are carried over,
 * so a line or a marker split across chunks is still seen. Each line's first {@value #HEAD} bytes are kept to
 * recognise the SSE prefix and an {@code {"error"} object. Only a line that carries a marker is copied, to be
 * parsed ({@link TimingFields}); a line still unfinished at the end of a chunk is kept too (it may turn out to be
 * that line), bounded. The buffers are never consumed, retained or modified.
 */
final class TimingSniffer {
    private static final int MAX_LINE = 8 * 1024 * 1024;
    /** A kept line buffer larger than this is dropped after use rather than kept for the next line. */
    private static final int KEPT_BUFFER = 64 * 1024;
    private static final byte[] SSE_PREFIX = ascii("data: ");
    private static final byte[] ERROR = ascii("{\"error\"");
    private static final byte[] DONE_KEY = ascii("\"done\"");
    private static final byte[] TRUE = ascii("true");
    private static final byte[] USAGE_KEY = ascii("\"usage\"");
    /** The bytes of a line's start that classify it: the SSE prefix, then the error object's start. */
    private static final int HEAD = SSE_PREFIX.length + ERROR.length;
    /** The most bytes before a colon that a marker needs. */
    private static final int TAIL = Math.max(DONE_KEY.length, USAGE_KEY.length);
    private static final byte[] NO_BYTES = new byte[0];

    // What is known of the current line, whatever chunks it came in:
    /** Its bytes so far. */
    private int pos;
    private final byte[] head = new byte[HEAD];
    /** Its last bytes before the current chunk, for markers that straddle chunks (the last {@code tailLength}). */
    private final byte[] tail = new byte[TAIL];
    private int tailLength;
    /** Whether it has a byte other than {@code ' '} and {@code '\r'}: anywhere, and past an SSE prefix's place. */
    private boolean nonBlank;
    private boolean nonBlankContent;
    /** A marker was found. */
    private boolean marked;
    /** {@code "done":} was seen and this many bytes of {@code true} follow it so far; -1: none pending. */
    private int trueMatched = -1;

    /** The current line's bytes from earlier chunks (it was split), or the marked line being parsed. */
    private byte[] line = NO_BYTES;
    private int length;
    private boolean overflow;
    private TimingSample sample = TimingSample.EMPTY;
    private boolean sawError;
    private boolean sawDone;
    private int lines;

    /** Looks at {@code buf}'s readable bytes; the buffer's indices and reference count are untouched. */
    void feed(ByteBuf buf) {
        feed(buf, buf.readerIndex(), buf.writerIndex());
    }

    /** Looks at {@code buf[from, end)}, the body's next bytes; the buffer's indices and reference count are untouched. */
    void feed(ByteBuf buf, int from, int end) {
        while (from < end) {
            int nl = buf.indexOf(from, end, (byte) '\n');
            int stop = nl < 0 ? end : nl;
            scan(buf, from, stop);
            if (nl < 0) {
                // The line goes on in the next chunk: keep what it has so far, should it be the final object.
                carryTail(buf, from, stop);
                keep(buf, from, stop - from);
                pos += stop - from;
                return;
            }
            pos += stop - from;
            completeLine(buf, from, stop - from);
            from = nl + 1;
        }
    }

    /** Notes what {@code buf[from, stop)}, the next part of the current line, adds: head, blankness, markers. */
    private void scan(ByteBuf buf, int from, int stop) {
        if (from == stop) {
            return;
        }
        if (pos < HEAD) {
            buf.getBytes(from, head, pos, Math.min(HEAD - pos, stop - from));
        }
        if (!nonBlankContent) {
            int at = Math.max(from, from + SSE_PREFIX.length - pos);
            if (!nonBlank && firstNonBlank(buf, from, Math.min(at, stop)) >= 0) {
                nonBlank = true;
            }
            if (at < stop && firstNonBlank(buf, at, stop) >= 0) {
                nonBlank = true;
                nonBlankContent = true;
            }
        }
        if (marked) {
            return;
        }
        int i = from;
        if (trueMatched >= 0) {
            i = matchTrue(buf, from, stop);
        }
        while (!marked && i < stop) {
            int colon = buf.indexOf(i, stop, (byte) ':');
            if (colon < 0) {
                return;
            }
            if (endsWith(buf, from, colon, USAGE_KEY)) {
                marked = true;
                return;
            }
            i = colon + 1;
            if (endsWith(buf, from, colon, DONE_KEY)) {
                trueMatched = 0;
                i = matchTrue(buf, i, stop);
            }
        }
    }

    /** Continues matching {@code true} after {@code "done":} from {@code buf[i]}; returns where to go on scanning. */
    private int matchTrue(ByteBuf buf, int i, int stop) {
        while (trueMatched < TRUE.length && i < stop) {
            if (buf.getByte(i) != TRUE[trueMatched]) {
                trueMatched = -1;
                return i;
            }
            trueMatched++;
            i++;
        }
        if (trueMatched == TRUE.length) {
            marked = true;
            trueMatched = -1;
        }
        return i;
    }

    /**
     * Whether the current line's bytes just before {@code buf[colon]} are {@code key}; those before {@code from}
     * (earlier chunks) come from {@link #tail}.
     */
    private boolean endsWith(ByteBuf buf, int from, int colon, byte[] key) {
        int start = colon - key.length;
        if (start < from - tailLength) {
            return false;
        }
        for (int k = 0; k < key.length; k++) {
            int at = start + k;
            byte b = at >= from ? buf.getByte(at) : tail[tailLength - (from - at)];
            if (b != key[k]) {
                return false;
            }
        }
        return true;
    }

    /** Keeps the line's last {@value #TAIL} bytes up to {@code buf[stop)}, across chunks. */
    private void carryTail(ByteBuf buf, int from, int stop) {
        int n = stop - from;
        if (n >= TAIL) {
            buf.getBytes(stop - TAIL, tail, 0, TAIL);
            tailLength = TAIL;
            return;
        }
        int keepOld = Math.min(tailLength, TAIL - n);
        System.arraycopy(tail, tailLength - keepOld, tail, 0, keepOld);
        buf.getBytes(from, tail, keepOld, n);
        tailLength = keepOld + n;
    }

    private static int firstNonBlank(ByteBuf buf, int from, int stop) {
        for (int i = from; i < stop; i++) {
            byte b = buf.getByte(i);
            if (b != ' ' && b != '\r') {
                return i;
            }
        }
        return -1;
    }

    /** The response ended: a non-streaming body has no trailing newline, so its last line is complete now. */
    void finish() {
        if (pos > 0) {
            completeLine(null, 0, 0);
        }
    }

    TimingSample sample() {
        return sample;
    }

    /** An {@code {"error": …}} line was seen (a mid-stream failure reported by Ollama itself). */
    boolean sawError() {
        return sawError;
    }

    /** A final {@code done:true} object (or an OpenAI usage chunk) was seen. */
    boolean sawDone() {
        return sawDone;
    }

    /** Complete non-empty lines seen so far (≈ chunks of a stream). */
    int lines() {
        return lines;
    }

    /** Bytes copied and held now (a split line's first parts); for tests of what the scan copies. */
    int heldBytes() {
        return length;
    }

    /**
     * The current line ended; its last part is {@code buf[index, index + n)} ({@code buf} null: nothing more), the
     * rest, if it was split, is in {@link #line}.
     */
    private void completeLine(ByteBuf buf, int index, int n) {
        boolean sse = startsWith(0, SSE_PREFIX);
        int prefix = sse ? SSE_PREFIX.length : 0;
        if (sse ? nonBlankContent : nonBlank) {
            lines++;
            if (startsWith(prefix, ERROR)) {
                sawError = true;
            } else if (marked) {
                if (buf != null) {
                    keep(buf, index, n);
                }
                if (!overflow && length > prefix) {
                    TimingSample parsed = TimingFields.parse(line, prefix, length);
                    if (parsed != null) {
                        sample = parsed;
                        sawDone = true;
                    }
                }
            }
        }
        pos = 0;
        tailLength = 0;
        nonBlank = false;
        nonBlankContent = false;
        marked = false;
        trueMatched = -1;
        length = 0;
        overflow = false;
        if (line.length > KEPT_BUFFER) {
            line = NO_BYTES;
        }
    }

    /** Whether the current line's bytes from {@code offset} start with {@code bytes} (within the head kept). */
    private boolean startsWith(int offset, byte[] bytes) {
        if (pos < offset + bytes.length) {
            return false;
        }
        for (int i = 0; i < bytes.length; i++) {
            if (head[offset + i] != bytes[i]) {
                return false;
            }
        }
        return true;
    }

    /** Appends {@code buf[index, index + n)} to {@link #line}, unless the line grew past {@value #MAX_LINE}. */
    private void keep(ByteBuf buf, int index, int n) {
        if (n == 0 || overflow) {
            return;
        }
        if (length + n > MAX_LINE) {
            overflow = true;
            return;
        }
        if (length + n > line.length) {
            line = Arrays.copyOf(line, Math.max(Math.max(256, line.length * 2), length + n));
        }
        buf.getBytes(index, line, length, n);
        length += n;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
