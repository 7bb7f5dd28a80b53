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
            g.writeStringField("model", t.modelKey());
            g.writeNumberField("priority", t.priority());
            if (p == null || t.phase() == TrackedRequest.Phase.DONE) {
                done(g, t);
            } else {
                inFlight(g, t, p);
            }
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private void inFlight(JsonGenerator g, TrackedRequest t, PendingRequest p) throws IOException {
        QueuePosition q = scheduler.position(p);
        PendingRequest.State st = p.state();
        if (q != null || st == PendingRequest.State.NEW || st == PendingRequest.State.QUEUED) {
            g.writeStringField("state", TrackedRequest.Phase.QUEUED.label());
            g.writeStringField("queue", p.modelKey());
            if (q == null) {
                // Not in its queue this instant: arriving (a model-list refresh first), or just taken from it.
                g.writeNullField("position");
                return;
            }
            g.writeNumberField("position", q.position());
            g.writeNumberField("ahead", q.ahead());
            g.writeNumberField("queueDepth", q.depth());
            g.writeNumberField("waitedMs", q.waitedNanos() / MS);
            estimate(g, "estimatedStartMs", q.startInNanos());
            estimate(g, "estimatedFinishMs", q.finishInNanos());
            return;
        }
        Prediction prediction = p.prediction();
        String backend = t.backend() != null ? t.backend() : prediction == null ? null : prediction.backend();
        // Dispatched but the exchange has not heard of it yet (it hops to its event loop): running already.
        TrackedRequest.Phase phase = t.phase() == TrackedRequest.Phase.QUEUED ? TrackedRequest.Phase.RUNNING
                : t.phase();
        g.writeStringField("state", st == PendingRequest.State.CANCELLED ? TrackedRequest.Phase.DONE.label()
                : phase.label());
        backend(g, backend);
        g.writeNumberField("queuedMs", p.queuedNanos() / MS);
        if (prediction != null) {
            long left = prediction.finishNanos() - scheduler.predictor().now();
            g.writeNumberField("estimatedFinishMs", Math.max(0, left) / MS);
        }
    }

    private static void done(JsonGenerator g, TrackedRequest t) throws IOException {
        g.writeStringField("state", TrackedRequest.Phase.DONE.label());
        backend(g, t.backend());
        g.writeNumberField("queuedMs", t.queuedNanos() / MS);
        g.writeNumberField("status", t.status());
        g.writeStringField("outcome", t.outcome());
    }

    private static void backend(JsonGenerator g, String backend) throws IOException {
        if (backend != null) {
            g.writeStringField("backend", backend);
        } else {
            g.writeNullField("backend");
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
