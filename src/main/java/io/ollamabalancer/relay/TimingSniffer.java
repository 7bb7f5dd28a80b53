package io.ollamabalancer.relay;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.netty.buffer.ByteBuf;
import io.netty.util.ByteProcessor;
import io.ollamabalancer.estimate.TimingSample;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Reads the timing fields of Ollama's final chunk ({@code "done":true}) and OpenAI usage chunks as the response
 * streams through, without delaying or changing a byte. One instance per exchange, event-loop confined.
 *
 * <p>How: each chunk's readable bytes are scanned where they are (line ends with {@link ByteBuf#indexOf}, the rest
 * with {@link ByteBuf#forEachByte}), line by line, NDJSON or SSE ({@code data: } lines). The scan notes each line's
 * first bytes (the SSE prefix, an {@code {"error"} object) and matches the markers {@code "done":true} and
 * {@code "usage"} byte by byte, so a line or a marker split across chunks is still seen. Only a line that carries a
 * marker is copied, to be parsed; a line still unfinished at the end of a chunk is kept too (it may turn out to
 * be that line), bounded. The buffers are never consumed, retained or modified.
 */
final class TimingSniffer {
    private static final JsonFactory JSON = new JsonFactory();
    private static final int MAX_LINE = 8 * 1024 * 1024;
    /** A kept line buffer larger than this is dropped after use rather than kept for the next line. */
    private static final int KEPT_BUFFER = 64 * 1024;
    private static final byte[] SSE_PREFIX = ascii("data: ");
    private static final byte[] ERROR = ascii("{\"error\"");
    /** The bytes of a line's start that classify it: the SSE prefix, then the error object's start. */
    private static final int HEAD = SSE_PREFIX.length + ERROR.length;
    private static final byte[] NO_BYTES = new byte[0];

    private final LineScan scan = new LineScan();
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
        int from = buf.readerIndex();
        int end = buf.writerIndex();
        while (from < end) {
            int nl = buf.indexOf(from, end, (byte) '\n');
            int stop = nl < 0 ? end : nl;
            if (stop > from) {
                buf.forEachByte(from, stop - from, scan);
            }
            if (nl < 0) {
                // The line goes on in the next chunk: keep what it has so far, should it be the final object.
                keep(buf, from, stop - from);
                return;
            }
            completeLine(buf, from, stop - from);
            from = nl + 1;
        }
    }

    /** The response ended: a non-streaming body has no trailing newline, so its last line is complete now. */
    void finish() {
        if (scan.pos > 0) {
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
        LineScan s = scan;
        int prefix = s.sse() ? SSE_PREFIX.length : 0;
        if (s.nonBlank > (prefix > 0 ? SSE_PREFIX.length - 1 : 0)) {
            lines++;
            if (s.startsWith(prefix, ERROR)) {
                sawError = true;
            } else if (s.marked()) {
                if (buf != null) {
                    keep(buf, index, n);
                }
                if (!overflow && length > prefix) {
                    TimingSample parsed = parse(line, prefix, length);
                    if (parsed != null) {
                        sample = parsed;
                        sawDone = true;
                    }
                }
            }
        }
        s.reset();
        length = 0;
        overflow = false;
        if (line.length > KEPT_BUFFER) {
            line = NO_BYTES;
        }
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

    private static TimingSample parse(byte[] bytes, int start, int end) {
        long[] v = new long[6];
        try (JsonParser p = JSON.createParser(bytes, start, end - start)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            readObject(p, v, 0);
        } catch (IOException e) {
            return null;
        }
        return new TimingSample(v[0], v[1], v[2], v[3], v[4], v[5]);
    }

    private static void readObject(JsonParser p, long[] v, int depth) throws IOException {
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            JsonToken t = p.nextToken();
            if (t == JsonToken.START_OBJECT && depth == 0 && "usage".equals(name)) {
                readObject(p, v, 1);
                continue;
            }
            if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
                p.skipChildren();
                continue;
            }
            if (!t.isNumeric()) {
                continue;
            }
            switch (name) {
                case "prompt_eval_count", "prompt_tokens" -> v[0] = p.getValueAsLong();
                case "prompt_eval_duration" -> v[1] = p.getValueAsLong();
                case "eval_count", "completion_tokens" -> v[2] = p.getValueAsLong();
                case "eval_duration" -> v[3] = p.getValueAsLong();
                case "load_duration" -> v[4] = p.getValueAsLong();
                case "total_duration" -> v[5] = p.getValueAsLong();
                default -> {
                }
            }
        }
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * What the scan learned of the current line so far, whatever chunks it came in: its first {@value #HEAD}
     * bytes, how many bytes were not blank ({@code ' '}, {@code '\r'}), and how far the two markers matched.
     * Fed one byte at a time by {@link ByteBuf#forEachByte}; never sees a {@code '\n'}.
     */
    private static final class LineScan implements ByteProcessor {
        private static final Marker DONE_TRUE = new Marker("\"done\":true");
        private static final Marker USAGE = new Marker("\"usage\"");

        final byte[] head = new byte[HEAD];
        int pos;
        int nonBlank;
        private int done;
        private int usage;

        @Override
        public boolean process(byte b) {
            if (pos < HEAD) {
                head[pos] = b;
            }
            pos++;
            if (b != ' ' && b != '\r') {
                nonBlank++;
            }
            done = DONE_TRUE.advance(done, b);
            usage = USAGE.advance(usage, b);
            return true;
        }

        boolean marked() {
            return DONE_TRUE.found(done) || USAGE.found(usage);
        }

        boolean sse() {
            return startsWith(0, SSE_PREFIX);
        }

        /** Whether the line's bytes from {@code offset} start with {@code bytes} (within the head kept). */
        boolean startsWith(int offset, byte[] bytes) {
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

        void reset() {
            pos = 0;
            nonBlank = 0;
            done = 0;
            usage = 0;
        }
    }

    /** A byte string matched incrementally (Knuth–Morris–Pratt), so a match may span any number of chunks. */
    static final class Marker {
        private final byte[] bytes;
        /** For each matched length, the longest proper prefix of the marker that is also a suffix of it. */
        private final int[] border;

        Marker(String text) {
            bytes = ascii(text);
            border = new int[bytes.length + 1];
            for (int i = 2, k = 0; i <= bytes.length; i++) {
                while (k > 0 && bytes[k] != bytes[i - 1]) {
                    k = border[k];
                }
                if (bytes[k] == bytes[i - 1]) {
                    k++;
                }
                border[i] = k;
            }
        }

        /** The matched length after byte {@code b}, {@code matched} bytes matched before; once found, it stays. */
        int advance(int matched, byte b) {
            if (matched == bytes.length) {
                return matched;
            }
            int k = matched;
            while (k > 0 && bytes[k] != b) {
                k = border[k];
            }
            return bytes[k] == b ? k + 1 : 0;
        }

        boolean found(int matched) {
            return matched == bytes.length;
        }
    }
}
