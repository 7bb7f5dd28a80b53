package io.ollamabalancer.auth;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.ollamabalancer.config.Durations;
import io.ollamabalancer.metrics.Rendered;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.function.LongSupplier;

/**
 * {@code GET /balancer/usage[?since=…]}: each API key's use as JSON, from the {@link UsageLedger}. {@code since} is an
 * RFC 3339 time ({@code 2026-12-06T02:00:00Z}), epoch seconds, or a duration back from now ({@code 15m}, {@code 1h},
 * {@code 24h}); without it, the use since start.
 * <pre>
 * {"from":"…","until":"…","keys":[{"name":"team-a","requests":12,"rejected":{"over_rpm":1,…},"completed":12,
 *   "promptTokens":3400,"generatedTokens":5100,"queueWaitSeconds":{"total":1.25,"mean":0.104}}]}
 * </pre>
 * {@code from} says where the figures really start (never before the process started, nor more than a day back).
 *
 * <p>Thread-safe (stateless but for the keys and ledger it reads); renders on the caller's thread (the metrics
 * renderer, never an event loop). Each render returns a fresh byte array.
 */
public final class UsageDocument {
    private static final JsonFactory JSON = new JsonFactory();

    private final ApiKeys keys;
    private final LongSupplier wallMillis;

    public UsageDocument(ApiKeys keys, LongSupplier wallMillis) {
        this.keys = keys;
        this.wallMillis = wallMillis;
    }

    /**
     * Renders the use since {@code since} (the query parameter, or null).
     *
     * @throws IllegalArgumentException when {@code since} is none of the accepted forms (answered 400)
     */
    public Rendered render(String since) {
        UsageLedger ledger = keys.usage();
        long now = wallMillis.getAsLong();
        long from = since == null || since.isBlank() ? ledger.startedMillis() : sinceMillis(since.trim(), now);
        UsageLedger.Report report = ledger.since(from, keys.names());
        ByteArrayOutputStream out = new ByteArrayOutputStream(256 + 256 * report.keys().size());
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("from", Instant.ofEpochMilli(report.fromMillis()).toString());
            g.writeStringField("until", Instant.ofEpochMilli(report.untilMillis()).toString());
            g.writeArrayFieldStart("keys");
            for (UsageLedger.KeyUsage k : report.keys()) {
                g.writeStartObject();
                g.writeStringField("name", k.name());
                g.writeNumberField("requests", k.requests());
                g.writeObjectFieldStart("rejected");
                for (Refusal r : Refusal.values()) {
                    Long n = k.refused().get(r);
                    if (n != null) {
                        g.writeNumberField(r.label(), n);
                    }
                }
                g.writeEndObject();
                g.writeNumberField("completed", k.completed());
                g.writeNumberField("promptTokens", k.promptTokens());
                g.writeNumberField("generatedTokens", k.generatedTokens());
                g.writeObjectFieldStart("queueWaitSeconds");
                g.writeNumberField("total", k.queueWaitNanos() / 1e9);
                g.writeNumberField("mean", k.completed() == 0 ? 0 : k.queueWaitNanos() / 1e9 / k.completed());
                g.writeEndObject();
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Rendered(Rendered.JSON, out.toByteArray());
    }

    /** Epoch milliseconds for a {@code since} value; {@code now} for the relative form. */
    static long sinceMillis(String since, long now) {
        if (!since.isEmpty() && since.chars().allMatch(Character::isDigit) && since.length() <= 12) {
            return Long.parseLong(since) * 1000L;
        }
        if (since.length() > 10 && Character.isDigit(since.charAt(0)) && since.charAt(4) == '-') {
            try {
                return OffsetDateTime.parse(since).toInstant().toEpochMilli();
            } catch (DateTimeParseException e) {
                throw invalid(since);
            }
        }
        try {
            Duration back = Durations.parse(since);
            if (back.isNegative()) {
                throw invalid(since);
            }
            return now - back.toMillis();
        } catch (RuntimeException e) {
            throw invalid(since);
        }
    }

    private static IllegalArgumentException invalid(String since) {
        return new IllegalArgumentException("invalid since '" + since
                + "': use an RFC 3339 time (2026-12-06T02:00:00Z), epoch seconds, or a duration back from now (1h)");
    }
}
