package io.ollamabalancer.relay;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.ollamabalancer.estimate.TimingSample;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Reads the timing fields out of one final chunk's JSON object: Ollama's counts and durations at the top level, or
 * OpenAI's token counts in its top-level {@code usage} object. Everything else is skipped by structure alone.
 *
 * <p>Why not just jackson: this runs once per response on the event loop, and a token-based parse of the whole
 * final object (with Ollama's {@code context} array, often thousands of numbers) cost more than anything else the
 * relay does per response. The walk here builds no strings and no tokens. Whatever it does not handle itself — an
 * escaped key, a wanted number that is not a plain {@code long} — is handed to jackson, whose answer it then is.
 * Malformed input gives {@code null}, as it does with jackson, though a defect inside a skipped value may go
 * unnoticed. Stateless and thread-safe; one small cursor object per call.
 */
final class TimingFields {
    private static final JsonFactory JSON = new JsonFactory();
    private static final byte[][] NAMES = {
        ascii("prompt_eval_count"), ascii("prompt_tokens"), ascii("prompt_eval_duration"), ascii("eval_count"),
        ascii("completion_tokens"), ascii("eval_duration"), ascii("load_duration"), ascii("total_duration"),
    };
    /** Where each of {@link #NAMES} goes in {@link TimingSample}'s field order (as {@link #readObject} has it). */
    private static final int[] SLOT = {0, 0, 1, 2, 2, 3, 4, 5};
    private static final byte[] USAGE = ascii("usage");
    private static final String[] LITERALS = {"true", "false", "null"};
    private static final int USAGE_FIELD = -2;
    private static final int OK = 0;
    private static final int MALFORMED = 1;
    private static final int UNSUPPORTED = 2;

    private final byte[] b;
    private final int end;
    private final long[] v = new long[6];
    private int i;

    private TimingFields(byte[] bytes, int start, int end) {
        this.b = bytes;
        this.i = start;
        this.end = end;
    }

    /** The timing fields of the JSON object in {@code bytes[start, end)}, or {@code null} when it is not one. */
    static TimingSample parse(byte[] bytes, int start, int end) {
        TimingFields w = new TimingFields(bytes, start, end);
        w.whitespace();
        int result = w.at('{') ? w.object(0) : MALFORMED;
        if (result == UNSUPPORTED) {
            return withJackson(bytes, start, end);
        }
        return result == OK ? new TimingSample(w.v[0], w.v[1], w.v[2], w.v[3], w.v[4], w.v[5]) : null;
    }

    /** The same with jackson's token parser: the fallback, and the reference the tests compare with. */
    static TimingSample withJackson(byte[] bytes, int start, int end) {
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

    /** At the object's {@code '{'}: reads its members up to and past its {@code '}'}. */
    private int object(int depth) {
        i++;
        whitespace();
        if (at('}')) {
            i++;
            return OK;
        }
        for (;;) {
            whitespace();
            if (!at('"')) {
                return MALFORMED;
            }
            int keyStart = i + 1;
            int r = string(true);
            if (r != OK) {
                return r;
            }
            int field = field(b, keyStart, i - 1 - keyStart);
            whitespace();
            if (!at(':')) {
                return MALFORMED;
            }
            i++;
            whitespace();
            if (i >= end) {
                return MALFORMED;
            }
            byte c = b[i];
            if (c == '{' && depth == 0 && field == USAGE_FIELD) {
                r = object(1);
            } else if (c == '{' || c == '[') {
                r = composite();
            } else if (c == '"') {
                r = string(false);
            } else if (c == '-' || (c >= '0' && c <= '9')) {
                r = number(field >= 0 ? SLOT[field] : -1);
            } else {
                r = literal();
            }
            if (r != OK) {
                return r;
            }
            whitespace();
            if (at(',')) {
                i++;
            } else if (at('}')) {
                i++;
                return OK;
            } else {
                return MALFORMED;
            }
        }
    }

    /** At a {@code '"'}: moves past the string. A key with an escape is left to jackson (it may spell a name). */
    private int string(boolean key) {
        i++;
        while (i < end) {
            byte c = b[i++];
            if (c == '"') {
                return OK;
            }
            if (c == '\\') {
                if (key) {
                    return UNSUPPORTED;
                }
                i++;
            }
        }
        return MALFORMED;
    }

    /** At a {@code '{'} or {@code '['}: moves past the balanced value, strings included. */
    private int composite() {
        int depth = 0;
        while (i < end) {
            byte c = b[i];
            if (c == '"') {
                int r = string(false);
                if (r != OK) {
                    return r;
                }
                continue;
            }
            if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                if (--depth == 0) {
                    i++;
                    return OK;
                }
            }
            i++;
        }
        return MALFORMED;
    }

    /** At a number: stores it in {@code v[slot]} ({@code slot < 0}: skips it). Only plain longs are read here. */
    private int number(int slot) {
        int start = i;
        boolean negative = b[i] == '-';
        if (negative) {
            i++;
        }
        long value = 0;
        int digits = 0;
        while (i < end && b[i] >= '0' && b[i] <= '9') {
            if (value > (Long.MAX_VALUE - 9) / 10) {
                return slot < 0 ? skipNumber() : UNSUPPORTED;
            }
            value = value * 10 + (b[i++] - '0');
            digits++;
        }
        if (i < end && (b[i] == '.' || b[i] == 'e' || b[i] == 'E')) {
            return slot < 0 ? skipNumber() : UNSUPPORTED;
        }
        if (digits == 0 || (digits > 1 && b[start + (negative ? 1 : 0)] == '0')) {
            return MALFORMED;
        }
        if (slot >= 0) {
            v[slot] = negative ? -value : value;
        }
        return OK;
    }

    private int skipNumber() {
        while (i < end) {
            byte c = b[i];
            if ((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
                i++;
            } else {
                break;
            }
        }
        return OK;
    }

    /** At {@code true}, {@code false} or {@code null}. */
    private int literal() {
        for (String word : LITERALS) {
            if (matches(word)) {
                i += word.length();
                return OK;
            }
        }
        return MALFORMED;
    }

    private boolean matches(String word) {
        if (end - i < word.length()) {
            return false;
        }
        for (int k = 0; k < word.length(); k++) {
            if (b[i + k] != word.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    private void whitespace() {
        while (i < end) {
            byte c = b[i];
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return;
            }
            i++;
        }
    }

    private boolean at(char c) {
        return i < end && b[i] == c;
    }

    /** Which of {@link #NAMES} {@code bytes[start, start + n)} spells, {@link #USAGE_FIELD}, or -1. */
    private static int field(byte[] bytes, int start, int n) {
        if (equal(bytes, start, n, USAGE)) {
            return USAGE_FIELD;
        }
        for (int k = 0; k < NAMES.length; k++) {
            if (equal(bytes, start, n, NAMES[k])) {
                return k;
            }
        }
        return -1;
    }

    private static boolean equal(byte[] bytes, int start, int n, byte[] name) {
        if (n != name.length) {
            return false;
        }
        for (int k = 0; k < n; k++) {
            if (bytes[start + k] != name[k]) {
                return false;
            }
        }
        return true;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
