package io.ollamabalancer.relay;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.ollamabalancer.api.Endpoint;
import io.ollamabalancer.api.RouteKind;
import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.FailureKind;
import io.ollamabalancer.config.Durations;
import io.ollamabalancer.estimate.TimingSample;
import io.ollamabalancer.metrics.CompletedRequest;
import io.ollamabalancer.metrics.Outcome;
import io.ollamabalancer.metrics.TokenGaps;
import io.ollamabalancer.request.InferenceRequest;
import io.ollamabalancer.schedule.DispatchTarget;
import io.ollamabalancer.schedule.Exclusions;
import io.ollamabalancer.schedule.PendingRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeoutException;

/**
 * One client request's trip through a backend: waiting for dispatch, connecting, sending the original body, and
 * relaying the answer back part by part. It is the link between the client channel and one upstream channel, and
 * lives on the client's event loop (the upstream channel comes from that loop's pool), so it needs no locks.
 *
 * <p>The exchange decides; its parts do the work. {@link UpstreamCall} holds the backend side (the pooled
 * connection, the backend's outstanding count, the scheduler slot); {@link ResponseRelay} carries the answer to the
 * client (head rewrite, parts with backpressure and one flush per read burst, deadlines, the error line after a
 * mid-stream failure); {@link RetryPolicy} says where a failed attempt goes next. What stays here:
 * <ul>
 *   <li>Nothing is sent to the client before the backend's status line, so errors before the first byte keep their
 *       real status and a failure before the first byte can be retried.</li>
 *   <li>Failures are classified into a {@link FailureKind}: its health rule is charged to the backend, the retry
 *       policy says whether the request goes on a fresh connection to the same backend (a reused keep-alive
 *       connection the backend had closed), back to the queue, to another backend, or nowhere (502, or 504 after
 *       the first-byte deadline). Ollama's 503 "busy" on inference is retried elsewhere.</li>
 *   <li>Deadlines: pass-through routes (pull, push, create) have none: they may be silent for long.</li>
 *   <li>Cancellation: when the client leaves, a queued request is removed from its queue, and a running one has its
 *       upstream channel closed, not pooled, which is how Ollama learns to stop generating.</li>
 *   <li>The final chunk's timings ({@link TimingSniffer}) and the gaps between tokens are read on the way through.</li>
 * </ul>
 *
 * <p>Buffers: the exchange owns the client's {@link FullHttpRequest} and the body it forwards until
 * {@link #finish}; each send passes a retained duplicate to the upstream channel. Upstream parts it receives are
 * either written to the client (ownership moves on) or released.
 */
public final class ProxyExchange implements UpstreamCall.Events, ResponseRelay.Owner, DispatchTarget, ClientExchange {
    private static final Logger log = LoggerFactory.getLogger(ProxyExchange.class);

    /** Where the exchange is; it only moves forward, except CONNECTING ↔ WAITING on a retry. */
    enum State { WAITING, CONNECTING, SENT, STREAMING, DONE }

    private final RelayContext rc;
    private final ChannelHandlerContext ctx;
    private final EventLoop loop;
    private final FullHttpRequest request;
    private final ByteBuf body;
    private final Endpoint endpoint;
    private final String upstreamUri;
    private final InferenceRequest parsed;
    private final String modelKey;
    private final PendingRequest pending;
    /** Its entry for {@code GET /balancer/requests/{id}}; {@code null} unless inference. */
    private final TrackedRequest tracked;
    private final long id;
    private final long arrivalNanos;
    /** The API key's name, for the access log and per-key usage ({@code ""} without keys). */
    private final String keyName;
    private final Runnable onDone;
    private final TimingSniffer sniffer = new TimingSniffer();
    private final HttpHeaders upstreamHeaders;
    /**
     * Where a model-info request failed (inference keeps its own in its {@link PendingRequest}); made at the first
     * such failure, as nearly every exchange has none.
     */
    private Exclusions failedOn;
    private final UpstreamCall call;
    private final ResponseRelay relay;
    private final RetryPolicy retry;

    private State state = State.WAITING;
    private int status;
    private long sentNanos = -1;
    private long lastChunkNanos = -1;
    /** Where this response's token gaps go; resolved once the backend streams a second chunk. */
    private TokenGaps gaps;
    private Outcome outcome = Outcome.OK;
    /** The first-byte deadline of the current attempt, for the 504's message. */
    private long firstByteBudgetNanos;

    /** Takes ownership of {@code spec}'s request and body; {@code onDone} runs once when the exchange ends. */
    public ProxyExchange(RelayContext rc, ChannelHandlerContext ctx, ExchangeRequest spec, Runnable onDone) {
        this.rc = rc;
        this.ctx = ctx;
        this.loop = ctx.channel().eventLoop();
        this.request = spec.request();
        this.body = spec.body();
        this.endpoint = spec.endpoint();
        this.upstreamUri = spec.upstreamUri();
        this.parsed = spec.parsed();
        this.modelKey = spec.modelKey();
        this.id = spec.id();
        this.arrivalNanos = spec.arrivalNanos();
        this.keyName = spec.keyName();
        this.onDone = onDone;
        String clientId = request.headers().get(HeaderPolicy.REQUEST_ID);
        this.upstreamHeaders = HeaderPolicy.prepareUpstreamHeaders(request, ctx.channel().remoteAddress());
        if (endpoint.kind() == RouteKind.INFERENCE) {
            pending = new PendingRequest(id, parsed, modelKey, spec.priority(), arrivalNanos, this);
            pending.shareFlow(spec.shareFlow());
            rc.estimator().accept(pending, endpoint.shape());
            tracked = rc.requests().track(id, clientId, pending);
        } else {
            pending = null;
            tracked = null;
        }
        this.call = new UpstreamCall(rc.pools(), rc.scheduler(), loop, this);
        this.retry = RetryPolicy.forRoute(endpoint.kind());
        long idle = endpoint.kind() == RouteKind.PASSTHROUGH ? 0 : rc.timeouts().streamIdleNanos();
        this.relay = new ResponseRelay(ctx, call, this, id, pending, idle);
    }

    /** Starts the exchange: through the scheduler for inference, straight to a backend otherwise. */
    public void start(Backend direct) {
        if (pending != null) {
            rc.scheduler().submit(pending);
        } else {
            connect(direct, false);
        }
    }

    // ---- scheduler callbacks (any thread) ----

    @Override
    public void dispatch(Backend chosen) {
        if (loop.inEventLoop()) {
            onDispatched(chosen);
        } else {
            loop.execute(() -> onDispatched(chosen));
        }
    }

    @Override
    public void reject(int code, String message, long retryAfterSeconds) {
        if (loop.inEventLoop()) {
            respondError(code, message, retryAfterSeconds);
        } else {
            loop.execute(() -> respondError(code, message, retryAfterSeconds));
        }
    }

    private void onDispatched(Backend chosen) {
        call.slotGranted(chosen);
        if (state == State.DONE) {
            // Never sent: a half-open backend's trial must not stay reserved for a request that left.
            chosen.healthTracker().cancelAdmit();
            call.completeSlot(pending, TimingSample.EMPTY);
            return;
        }
        connect(chosen, false);
    }

    /** Takes a connection to {@code chosen}: a newly opened one when {@code fresh}, else possibly an idle one. */
    private void connect(Backend chosen, boolean fresh) {
        state = State.CONNECTING;
        if (tracked != null) {
            tracked.running(chosen.name());
        }
        call.connect(chosen, fresh);
    }

    @Override
    public void onConnected() {
        Backend backend = call.backend();
        FullHttpRequest up = HeaderPolicy.upstreamRequest(request.method(), backend.config().pathPrefix()
                + upstreamUri, body.retainedDuplicate(), upstreamHeaders, backend);
        sentNanos = System.nanoTime();
        state = State.SENT;
        firstByteBudgetNanos = firstByteBudget();
        relay.sent(firstByteBudgetNanos);
        // A non-streamed answer comes with a Content-Length: nothing to pass raw, and arming the splitter would only
        // make it scan the head byte by byte and slice the read.
        boolean streamed = parsed == null || parsed.stream();
        if (streamed && relay.takesChunkedBytes(request)) {
            call.passChunkedBodyRaw();
        }
        call.send(up);
    }

    @Override
    public void onConnectFailed(FailureKind kind, Throwable cause) {
        failBeforeResponse(kind, cause);
    }

    /** The first-byte deadline for this attempt (0: none); see {@link RelayTimeouts#firstByteNanos}. */
    private long firstByteBudget() {
        if (endpoint.kind() == RouteKind.PASSTHROUGH) {
            // A non-streamed pull answers only when the download is done: minutes to hours, all legitimate.
            return 0;
        }
        return rc.timeouts().firstByteNanos(pending == null ? null : pending.prediction(),
                parsed != null && parsed.stream());
    }

    // ---- upstream → client (through the relay) ----

    @Override
    public void onUpstreamMessage(HttpObject msg) {
        relay.message(msg);
    }

    @Override
    public boolean acceptHead(HttpResponse head) {
        if (head.status().code() == 503 && pending != null) {
            // Ollama's load queue overflowed: nothing ran, so another backend may take it (§11.13 of the notes).
            ReferenceCountUtil.release(head);
            failBeforeResponse(FailureKind.BUSY, new IOException("backend answered 503 (server busy)"));
            return false;
        }
        state = State.STREAMING;
        status = head.status().code();
        if (tracked != null) {
            tracked.streaming();
        }
        return true;
    }

    @Override
    public void onUpstreamChunkedBytes(ByteBuf bytes) {
        relay.chunkedBytes(bytes);
    }

    @Override
    public void onPart(HttpContent part) {
        ByteBuf bytes = part.content();
        sniffer.feed(bytes);
        if (bytes.isReadable()) {
            onChunks(1);
        }
        if (part instanceof LastHttpContent) {
            sniffer.finish();
        }
    }

    @Override
    public void onData(ByteBuf buf, int from, int to) {
        sniffer.feed(buf, from, to);
    }

    /** Records the gap before the first of {@code n} chunks that came together, and none (0) between them. */
    @Override
    public void onChunks(long n) {
        if (n <= 0) {
            return;
        }
        long now = System.nanoTime();
        long recorded = lastChunkNanos >= 0 ? n : n - 1;
        if (recorded > 0) {
            if (gaps == null) {
                // Resolved at the second chunk, not per chunk: a response of one chunk never names a series.
                gaps = rc.observer().tokenGaps(modelLabel(), call.backend().name());
            }
            if (lastChunkNanos >= 0) {
                gaps.record(now - lastChunkNanos);
            }
            for (long k = 1; k < n; k++) {
                gaps.record(0);
            }
        }
        lastChunkNanos = now;
    }

    @Override
    public boolean errorInStream() {
        return sniffer.sawError() && endpoint.kind() == RouteKind.INFERENCE;
    }

    @Override
    public void onResponseEnd(boolean keepAlive) {
        finishUpstream(keepAlive);
    }

    @Override
    public void onUpstreamReadComplete() {
        relay.readComplete();
    }

    @Override
    public void onClientWritable() {
        relay.clientWritable();
    }

    @Override
    public void onUpstreamClosed(Throwable cause) {
        if (state == State.DONE) {
            return;
        }
        if (state == State.STREAMING) {
            failMidStream(FailureKind.DIED_MID_STREAM, "failed mid-stream: " + UpstreamCall.describe(cause));
        } else {
            failBeforeResponse(FailureKind.ofEarlyClose(call.reused()), cause);
        }
    }

    /** A deadline of the relay passed (on this loop). */
    @Override
    public void onDeadline(FailureKind kind) {
        if (kind == FailureKind.FIRST_BYTE_TIMEOUT && state == State.SENT) {
            failBeforeResponse(kind, new TimeoutException("no response within " + roundedBudget()));
        } else if (kind == FailureKind.STALL && state == State.STREAMING) {
            failMidStream(kind, "sent nothing for " + Durations.format(rc.timeouts().streamIdle()));
        }
    }

    /** The first-byte budget for a message: milliseconds below ten seconds, whole seconds above. */
    private String roundedBudget() {
        long ms = firstByteBudgetNanos / 1_000_000;
        return Durations.format(ms < 10_000 ? Duration.ofMillis(ms) : Duration.ofSeconds(ms / 1000));
    }

    // ---- failures ----

    /**
     * The attempt failed before a response head reached the client: charge the backend by {@code kind}'s health rule,
     * then take the {@link RetryPolicy}'s next step (the same backend on a fresh connection, the queue again, another
     * backend, or an error answer: 504 for a first-byte timeout, 502 otherwise).
     */
    private void failBeforeResponse(FailureKind kind, Throwable cause) {
        String why = UpstreamCall.describe(cause);
        Backend failed = call.backend();
        relay.attemptFailed();
        call.end(false);
        call.charge(kind, why);
        log.debug("request {} to backend {} failed before a response ({}): {}", id, failed.name(), kind, why);
        switch (retry.after(kind)) {
            case FRESH_CONNECTION -> {
                // The backend closed an idle keep-alive connection: it never read the request. Once more, same backend.
                connect(failed, true);
                return;
            }
            case REQUEUE -> {
                state = State.WAITING;
                call.requeue(pending, kind);
                return;
            }
            case ANOTHER_BACKEND -> {
                if (failedOn == null) {
                    failedOn = new Exclusions();
                }
                failedOn.add(failed, kind);
                List<Backend> c = failedOn.candidates(rc.fleet(), modelKey);
                if (!c.isEmpty()) {
                    connect(c.get(0), false);
                    return;
                }
            }
            case GIVE_UP -> {
            }
        }
        EarlyFailureAnswer answer = EarlyFailureAnswer.of(kind, failed, why);
        if (answer.backendFailed()) {
            outcome = Outcome.UPSTREAM_FAILED; // else respondError's own error outcome
        }
        call.completeSlot(pending, TimingSample.EMPTY);
        respondError(answer.status(), answer.message(), answer.retryAfterSeconds());
    }

    /**
     * The backend failed after its head was relayed ({@code kind}: it died or went silent): the relay ends the
     * client's response early, the upstream connection is closed so Ollama stops, the slot is freed and the backend
     * charged.
     */
    private void failMidStream(FailureKind kind, String what) {
        outcome = Outcome.UPSTREAM_FAILED;
        String message = "backend '" + call.backend().name() + "' " + what;
        call.charge(kind, message);
        log.debug("request {}: {} ({})", id, message, kind);
        relay.failStarted(message);
        finishUpstream(false);
    }

    // ---- endings ----

    private void finishUpstream(boolean reusable) {
        call.end(reusable && outcome == Outcome.OK);
        if (status >= 400 || sniffer.sawError()) {
            outcome = outcome == Outcome.OK ? Outcome.ERROR : outcome;
        }
        boolean mutating = request.method().equals(HttpMethod.POST) || request.method().equals(HttpMethod.DELETE);
        if (endpoint.kind() == RouteKind.PASSTHROUGH && mutating) {
            rc.refreshModels().accept(call.backend());
        }
        call.completeSlot(pending, sniffer.sample());
        finish();
    }

    private void respondError(int code, String message, long retryAfterSeconds) {
        if (state == State.DONE) {
            return;
        }
        status = code;
        if (outcome != Outcome.UPSTREAM_FAILED) {
            outcome = Outcome.ERROR;
        }
        Responses.error(ctx, endpoint, code, message, retryAfterSeconds);
        finish();
    }

    @Override
    public void onClientClosed() {
        if (state == State.DONE) {
            return;
        }
        outcome = Outcome.CANCELLED;
        relay.close();
        if (pending != null && state == State.WAITING) {
            rc.scheduler().cancel(pending);
        }
        if (call.connected()) {
            call.charge(FailureKind.CLIENT_GONE, "client left");
        }
        call.end(false);
        call.completeSlot(pending, TimingSample.EMPTY);
        finish();
    }

    /**
     * Ends the exchange because the balancer shuts down and its grace ran out: a request not yet answered (queued,
     * connecting, or sent) gets 503 with {@code Retry-After}; a stream under way ends as the relay ends a failed one
     * (one error line in its own framing, a fixed-length body with a close). Then the same path as a client that
     * left: withdrawn from its queue, the upstream connection closed (so Ollama stops), the slot freed, the backend's
     * health untouched.
     */
    @Override
    public void abort(String reason) {
        if (state == State.DONE) {
            return;
        }
        if (state != State.STREAMING) {
            status = 503;
            Responses.error(ctx, endpoint, status, reason, ABORT_RETRY_AFTER_SECONDS);
        } else {
            relay.failStarted(reason);
        }
        onClientClosed();
    }

    private void finish() {
        if (state == State.DONE) {
            return;
        }
        state = State.DONE;
        relay.close();
        long end = System.nanoTime();
        long queueWait = pending == null ? 0 : pending.queuedNanos();
        long overhead = sentNanos < 0 ? -1 : Math.max(0, sentNanos - arrivalNanos - queueWait);
        long firstByte = relay.firstByteNanos();
        Backend backend = call.backend();
        rc.observer().requestCompleted(new CompletedRequest(id, endpoint.label(), modelLabel(),
                backend == null ? "" : backend.name(), status, queueWait, overhead,
                firstByte < 0 ? -1 : firstByte - arrivalNanos, end - arrivalNanos, sniffer.sample(),
                pending == null ? 0 : pending.estimate().promptTokens(),
                pending == null ? 0 : pending.estimate().expectedOutputTokens(), outcome, keyName));
        if (tracked != null) {
            rc.requests().ended(tracked, status, outcome.label());
        }
        request.release();
        body.release();
        onDone.run();
    }

    private String modelLabel() {
        return parsed == null || parsed.model() == null ? "" : parsed.model();
    }
}
