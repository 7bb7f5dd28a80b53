package io.ollamabalancer.server;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.ollamabalancer.relay.RequestTracker;
import io.ollamabalancer.relay.TrackedRequest;
import io.ollamabalancer.schedule.PendingRequest;
import io.ollamabalancer.schedule.Prediction;
import io.ollamabalancer.schedule.QueuePosition;
import io.ollamabalancer.schedule.Scheduler;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The JSON of {@code GET /balancer/requests/{id}}: where a waiting request stands (asked of the scheduler only
 * now), or the backend and state of one that left its queue. Times are milliseconds; estimates count from now.
 * Thread-safe (reads shared state only); meant for the metrics renderer thread, since finding a position walks the
 * request's queue.
 */
final class RequestStatus {
    private static final JsonFactory JSON = new JsonFactory();
    private static final long MS = 1_000_000L;

    private final RequestTracker tracker;
    private final Scheduler scheduler;

    RequestStatus(RequestTracker tracker, Scheduler scheduler) {
        this.tracker = tracker;
        this.scheduler = scheduler;
    }

    /** The document for {@code id}, or {@code null} when no tracked request has that id (answer 404). */
    byte[] render(String id) {
        TrackedRequest t = tracker.find(id);
        if (t == null) {
            return null;
        }
        PendingRequest p = t.pending();
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("id", Long.toString(t.id()));
            if (t.clientId() != null) {
                g.writeStringField("clientRequestId", t.clientId());
            }
            g.writeStringField("model", p.modelKey());
            g.writeNumberField("priority", p.priority());
            QueuePosition q = t.phase() == TrackedRequest.Phase.DONE ? null : scheduler.position(p);
            if (q != null) {
                queued(g, q);
            } else {
                dispatched(g, t, p);
            }
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static void queued(JsonGenerator g, QueuePosition q) throws IOException {
        g.writeStringField("state", TrackedRequest.Phase.QUEUED.label());
        g.writeStringField("queue", q.modelKey());
        g.writeNumberField("position", q.position());
        g.writeNumberField("ahead", q.ahead());
        g.writeNumberField("queueDepth", q.depth());
        g.writeNumberField("waitedMs", q.waitedNanos() / MS);
        estimate(g, "estimatedStartMs", q.startInNanos());
        estimate(g, "estimatedFinishMs", q.finishInNanos());
    }

    private void dispatched(JsonGenerator g, TrackedRequest t, PendingRequest p) throws IOException {
        TrackedRequest.Phase phase = t.phase();
        Prediction prediction = p.prediction();
        String backend = t.backend() != null ? t.backend() : prediction == null ? null : prediction.backend();
        if (phase == TrackedRequest.Phase.QUEUED) {
            // Left the queue a moment ago; the exchange has not heard of it yet (it hops to its event loop).
            phase = p.isCancelled() ? TrackedRequest.Phase.DONE : TrackedRequest.Phase.RUNNING;
        }
        g.writeStringField("state", phase.label());
        if (backend != null) {
            g.writeStringField("backend", backend);
        } else {
            g.writeNullField("backend");
        }
        g.writeNumberField("queuedMs", p.queuedNanos() / MS);
        if (phase == TrackedRequest.Phase.DONE) {
            g.writeNumberField("status", t.status());
            g.writeStringField("outcome", t.outcome());
        } else if (prediction != null) {
            long left = prediction.finishNanos() - scheduler.predictor().now();
            g.writeNumberField("estimatedFinishMs", Math.max(0, left) / MS);
        }
    }

    private static void estimate(JsonGenerator g, String field, long nanos) throws IOException {
        if (nanos == Long.MAX_VALUE) {
            g.writeNullField(field); // no backend can take it now
        } else {
            g.writeNumberField(field, nanos / MS);
        }
    }
}
