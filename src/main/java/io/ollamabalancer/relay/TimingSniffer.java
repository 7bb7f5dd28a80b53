package io.ollamabalancer.relay;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.netty.buffer.ByteBuf;
import io.ollamabalancer.estimate.TimingSample;

import java.io.IOException;
import java.util.Arrays;

/**
 * Reads the timing fields of Ollama's final chunk ({@code "done":true}) and OpenAI usage chunks as the response
 * streams through, without delaying or changing a byte. It sees each chunk's readable bytes (never consuming or
 * retaining the buffer) and keeps only the current, unfinished line, bounded; one instance per exchange,
 * event-loop confined.
 */
final class TimingSniffer {
    private static final JsonFactory JSON = new JsonFactory();
    private static final int MAX_LINE = 8 * 1024 * 1024;
    private static final byte[] DONE_TRUE = "\"done\":true".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final byte[] USAGE = "\"usage\"".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final byte[] ERROR = "{\"error\"".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private byte[] line = new byte[256];
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
            append(buf, from, stop - from);
            if (nl < 0) {
                return;
            }
            completeLine();
            from = nl + 1;
        }
    }

    /** The response ended: a non-streaming body has no trailing newline, so its last line is complete now. */
    void finish() {
        if (length > 0) {
            completeLine();
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

    private void append(ByteBuf buf, int index, int n) {
        if (n == 0 || overflow) {
            return;
        }
        if (length + n > MAX_LINE) {
            overflow = true;
            return;
        }
        if (length + n > line.length) {
            line = Arrays.copyOf(line, Math.max(line.length * 2, length + n));
        }
        buf.getBytes(index, line, length, n);
        length += n;
    }

    private void completeLine() {
        int start = 0;
        int end = length;
        if (!overflow && end > 0) {
            if (startsWith(line, 0, end, "data: ")) {
                start = 6;
            }
            while (end > start && (line[end - 1] == '\r' || line[end - 1] == ' ')) {
                end--;
            }
            if (end > start) {
                lines++;
                inspect(start, end);
            }
        }
        length = 0;
        overflow = false;
        if (line.length > 64 * 1024) {
            line = new byte[256];
        }
    }

    private void inspect(int start, int end) {
        if (startsWith(line, start, end, ERROR)) {
            sawError = true;
            return;
        }
        boolean done = indexOf(line, start, end, DONE_TRUE) >= 0;
        boolean usage = !done && indexOf(line, start, end, USAGE) >= 0;
        if (done || usage) {
            TimingSample parsed = parse(start, end);
            if (parsed != null) {
                sample = parsed;
                sawDone = true;
            }
        }
    }

    private TimingSample parse(int start, int end) {
        long[] v = new long[6];
        try (JsonParser p = JSON.createParser(line, start, end - start)) {
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

    private static boolean startsWith(byte[] a, int start, int end, String prefix) {
        if (end - start < prefix.length()) {
            return false;
        }
        for (int i = 0; i < prefix.length(); i++) {
            if (a[start + i] != prefix.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private static boolean startsWith(byte[] a, int start, int end, byte[] prefix) {
        return end - start >= prefix.length && Arrays.equals(a, start, start + prefix.length, prefix, 0, prefix.length);
    }

    private static int indexOf(byte[] a, int start, int end, byte[] needle) {
        outer:
        for (int i = start; i <= end - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (a[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
