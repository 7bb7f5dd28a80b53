package io.ollamabalancer.metrics;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.ollamabalancer.estimate.TimingSample;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.Locale;

/**
 * Writes one line per finished request to the SLF4J logger {@value #LOGGER}: id, endpoint, model, backend,
 * status, queue/ttft/total milliseconds, prompt and generated tokens, outcome; as {@code key=value} pairs
 * ({@link Format#PLAIN}) or one JSON object ({@link Format#JSON}). A stage that never happened is {@code -} in plain
 * and {@code null} in JSON.
 *
 * <p>Thread-safe and stateless. It runs on event loops, so the {@code access} logger goes through an
 * asynchronous appender ({@code io.ollamabalancer.logging.NonBlockingAppender} in {@code logback.xml}) that drops
 * rather than waits and formats the line on its writer thread; nothing is formatted when the logger is off.
 */
public final class AccessLog implements RequestObserver {
    public static final String LOGGER = "access";
    private static final JsonFactory JSON = new JsonFactory();

    /** The line format. */
    public enum Format {
        PLAIN, JSON;

        /** {@code plain} or {@code json}, any case. */
        public static Format parse(String s) {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        }
    }

    private final Format format;
    private final Logger log;

    public AccessLog(Format format) {
        this.format = format;
        this.log = LoggerFactory.getLogger(LOGGER);
    }

    @Override
    public void requestCompleted(CompletedRequest r) {
        if (log.isInfoEnabled()) {
            log.info("{}", new Line(format, r));
        }
    }

    /**
     * One request's line, formatted when the logging system asks ({@code toString()}): with the shipped
     * {@code logback.xml} on the access log's writer thread, not on the event loop that finished the request.
     * Immutable, as the record it formats.
     */
    private record Line(Format format, CompletedRequest r) {
        @Override
        public String toString() {
            return format == Format.JSON ? json(r) : plain(r);
        }
    }

    @Override
    public TokenGaps tokenGaps(String model, String backend) {
        return TokenGaps.NONE;
    }

    static String plain(CompletedRequest r) {
        TimingSample t = r.timing() == null ? TimingSample.EMPTY : r.timing();
        StringBuilder sb = new StringBuilder(192);
        sb.append("id=").append(r.id());
        pair(sb, "endpoint", r.endpoint());
        pair(sb, "model", r.model());
        pair(sb, "backend", r.backend());
        sb.append(" status=").append(r.status());
        millis(sb.append(" queue_ms="), r.queueWaitNs());
        millis(sb.append(" ttft_ms="), r.ttftNs());
        millis(sb.append(" total_ms="), r.totalNs());
        sb.append(" prompt_tokens=").append(t.promptEvalCount());
        sb.append(" generated_tokens=").append(t.evalCount());
        pair(sb, "outcome", r.outcome() == null ? "" : r.outcome().label());
        if (!r.key().isEmpty()) {
            pair(sb, "key", r.key()); // last, and only with a keys file: the fields before it keep their places
        }
        return sb.toString();
    }

    /** Quotes a value that is empty or holds a space, quote, backslash, {@code =} or control character. */
    private static void pair(StringBuilder sb, String key, String value) {
        sb.append(' ').append(key).append('=');
        String v = value == null ? "" : value;
        boolean quote = v.isEmpty();
        for (int i = 0; i < v.length() && !quote; i++) {
            char c = v.charAt(i);
            quote = c == ' ' || c == '"' || c == '\\' || c == '=' || Character.isISOControl(c);
        }
        if (!quote) {
            sb.append(v);
            return;
        }
        sb.append('"');
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (Character.isISOControl(c)) {
                sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        sb.append('"');
    }

    /** Nanoseconds as milliseconds with three decimals, without {@code String.format}'s cost. */
    private static void millis(StringBuilder sb, long nanos) {
        if (nanos < 0) {
            sb.append('-');
            return;
        }
        long micros = nanos / 1_000L;
        sb.append(micros / 1_000L).append('.');
        long frac = micros % 1_000L;
        if (frac < 100) {
            sb.append('0');
        }
        if (frac < 10) {
            sb.append('0');
        }
        sb.append(frac);
    }

    static String json(CompletedRequest r) {
        TimingSample t = r.timing() == null ? TimingSample.EMPTY : r.timing();
        StringWriter out = new StringWriter(256);
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeNumberField("id", r.id());
            g.writeStringField("endpoint", nullToEmpty(r.endpoint()));
            g.writeStringField("model", nullToEmpty(r.model()));
            g.writeStringField("backend", nullToEmpty(r.backend()));
            g.writeNumberField("status", r.status());
            jsonMillis(g, "queue_ms", r.queueWaitNs());
            jsonMillis(g, "ttft_ms", r.ttftNs());
            jsonMillis(g, "total_ms", r.totalNs());
            g.writeNumberField("prompt_tokens", t.promptEvalCount());
            g.writeNumberField("generated_tokens", t.evalCount());
            g.writeStringField("outcome", r.outcome() == null ? "" : r.outcome().label());
            if (!r.key().isEmpty()) {
                g.writeStringField("key", r.key());
            }
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    private static void jsonMillis(JsonGenerator g, String field, long nanos) throws IOException {
        if (nanos < 0) {
            g.writeNullField(field);
        } else {
            g.writeNumberField(field, (nanos / 1_000L) / 1000.0);
        }
    }

    private static String nullToEmpty(String s) {
        return s == null ? "" : s;
    }
}
