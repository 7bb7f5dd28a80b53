package io.ollamabalancer.relay;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
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
import io.ollamabalancer.schedule.PendingRequest;
import io.ollamabalancer.upstream.UpstreamConnection;
import io.ollamabalancer.upstream.UpstreamListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeoutException;

/**
 * One client request's trip through a backend: waiting for dispatch, connecting, sending the original body, and
 * relaying the answer back part by part. It is the link between the client channel and one upstream channel, and
 * lives on the client's event loop (the upstream channel comes from that loop's pool), so it needs no locks.
 *
 * <p>Design notes.
 * <ul>
 *   <li>The client sees a status line only when the backend sends one: nothing is sent early, so errors before
 *       the first byte keep their real status and a failure before the first byte can be retried elsewhere.</li>
 *   <li>Backpressure and flushing ({@link ResponsePacer}): the upstream channel does not auto-read. Each part is
 *       written to the client as it comes; at the end of each upstream read burst the client is flushed once and
 *       the next part is read only if the client is writable; otherwise {@link #onClientWritable} resumes.</li>
 *   <li>Cancellation: when the client leaves, a queued request is removed from its queue, and a running one has its
 *       upstream channel closed, not pooled, which is how Ollama learns to stop generating.</li>
 *   <li>A backend that dies mid-stream ends the client's stream with one error line in the stream's own format.</li>
 *   <li>Deadlines ({@link ResponseDeadline}, {@link RelayTimeouts}): a response head that does not come within the
 *       first-byte deadline gets the client a 504; a started response that goes silent for the stream idle timeout
 *       ends with an error line. Both close the upstream connection (so Ollama stops), free the slot and count
 *       against the backend. Pass-through routes (pull, push, create) have neither: they may be silent for long.</li>
 *   <li>Failures are classified into a {@link FailureKind}, whose rules say what the backend's health is charged
 *       and whether the request is sent again: on a fresh connection to the same backend (a reused keep-alive
 *       connection the backend had closed), on another backend, or not at all.</li>
 * </ul>
 *
 * <p>Buffers: the exchange owns the client's {@link FullHttpRequest} and the body it forwards until
 * {@link #finish}; each send passes a retained duplicate to the upstream channel. Upstream parts it receives are
 * either written to the client (ownership moves on) or released.
 */
public final class ProxyExchange implements UpstreamListener, DispatchTarget, ClientExchange {
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
    private final long id;
    private final long arrivalNanos;
    /** The API key's name, for the access log and per-key usage ({@code ""} without keys). */
    private final String keyName;
    private final Runnable onDone;
    private final TimingSniffer sniffer = new TimingSniffer();
    private final ResponsePacer pacer;
    private final io.netty.handler.codec.http.HttpHeaders upstreamHeaders;
    private final java.util.Set<Backend> pendingExcluded = new java.util.HashSet<>();
    private final ResponseDeadline deadline;

    private State state = State.WAITING;
    private Backend backend;
    private boolean slotHeld;
    private UpstreamConnection conn;
    private HttpResponse upstreamHead;
    private boolean upstreamKeepAlive;
    private int status;
    private long sentNanos = -1;
    private long firstByteNanos = -1;
    private long lastChunkNanos = -1;
    /** Where this response's token gaps go; resolved once the backend streams a second chunk. */
    private TokenGaps gaps;
    private Outcome outcome = Outcome.OK;
    /** The first-byte deadline of the current attempt, for the 504's message. */
    private long firstByteBudgetNanos;
    /** Whether the one retry on a fresh connection (after a stale reused one) was spent. */
    private boolean retriedFresh;

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
        this.pacer = new ResponsePacer(ctx);
        this.upstreamHeaders = HeaderPolicy.prepareUpstreamHeaders(request, ctx.channel().remoteAddress());
        long idle = endpoint.kind() == RouteKind.PASSTHROUGH ? 0 : rc.timeouts().streamIdleNanos();
        this.deadline = new ResponseDeadline(loop, idle, this::onDeadline);
        if (endpoint.kind() == RouteKind.INFERENCE) {
            pending = new PendingRequest(id, parsed, modelKey, spec.priority(), arrivalNanos, this);
            pending.shareFlow(spec.shareFlow());
            rc.estimator().accept(pending, endpoint.shape());
        } else {
            pending = null;
        }
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
        slotHeld = true;
        if (state == State.DONE) {
            // Never sent: a half-open backend's trial must not stay reserved for a request that left.
            chosen.healthTracker().cancelAdmit();
            backend = chosen;
            releaseSlot(TimingSample.EMPTY);
            return;
        }
        connect(chosen, false);
    }

    /** Takes a connection to {@code chosen}: a newly opened one when {@code fresh}, else possibly an idle one. */
    private void connect(Backend chosen, boolean fresh) {
        backend = chosen;
        state = State.CONNECTING;
        chosen.outstanding().incrementAndGet();
        Future<UpstreamConnection> acquired = fresh ? rc.pools().acquireFresh(chosen, loop)
                : rc.pools().acquire(chosen, loop);
        acquired.addListener((Future<UpstreamConnection> f) -> {
            if (!f.isSuccess()) {
                failBeforeResponse(FailureKind.ofConnect(f.cause()), f.cause());
            } else if (state == State.DONE) {
                // The client left while we were connecting: the connection is fresh and unused.
                chosen.outstanding().decrementAndGet();
                f.getNow().release();
            } else {
                send(f.getNow());
            }
        });
    }

    private void send(UpstreamConnection c) {
        conn = c;
        c.attach(this);
        String uri = backend.config().pathPrefix() + upstreamUri;
        FullHttpRequest up = HeaderPolicy.upstreamRequest(request.method(), uri, body.retainedDuplicate(),
                upstreamHeaders, backend);
        sentNanos = System.nanoTime();
        state = State.SENT;
        firstByteBudgetNanos = firstByteBudget();
        deadline.awaitHead(firstByteBudgetNanos);
        c.channel().writeAndFlush(up).addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                if (conn == c) {
                    failBeforeResponse(FailureKind.ofEarlyClose(c.reused()), f.cause());
                }
            } else if (conn == c) {
                c.channel().read();
            }
        });
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

    // ---- upstream → client ----

    @Override
    public void onUpstreamMessage(HttpObject msg) {
        if (state == State.DONE) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg.decoderResult().isFailure()) {
            ReferenceCountUtil.release(msg);
            onUpstreamClosed(msg.decoderResult().cause());
            return;
        }
        if (msg instanceof HttpResponse head) {
            if (head.status().codeClass() == io.netty.handler.codec.http.HttpStatusClass.INFORMATIONAL) {
                ReferenceCountUtil.release(msg);
                conn.channel().read();
                return;
            }
            if (head.status().code() == 503 && pending != null) {
                // Ollama's load queue overflowed: nothing ran, so another backend may take it (§11.13 of the notes).
                ReferenceCountUtil.release(msg);
                failBeforeResponse(FailureKind.BUSY, new java.io.IOException("backend answered 503 (server busy)"));
                return;
            }
            startResponse(head);
        }
        if (msg instanceof HttpContent content) {
            relayContent(msg, content);
        }
    }

    private void startResponse(HttpResponse head) {
        upstreamHead = head;
        // Read before the head is edited for the client (its Connection header is removed there).
        upstreamKeepAlive = HttpUtil.isKeepAlive(head);
        state = State.STREAMING;
        status = head.status().code();
        firstByteNanos = System.nanoTime();
        deadline.headReceived();
        HttpResponse out = HeaderPolicy.clientResponse(head);
        HeaderPolicy.addBalancerHeaders(out.headers(), id, backend, pending);
        pacer.head(out);
        UpstreamParts.recordStatus(backend, status);
    }

    private void relayContent(HttpObject msg, HttpContent content) {
        sniffer.feed(content.content());
        long now = System.nanoTime();
        deadline.activity();
        if (lastChunkNanos >= 0 && content.content().isReadable()) {
            if (gaps == null) {
                // Resolved at the second chunk, not per chunk: a response of one chunk never names a series.
                gaps = rc.observer().tokenGaps(modelLabel(), backend.name());
            }
            gaps.record(now - lastChunkNanos);
        }
        if (content.content().isReadable()) {
            lastChunkNanos = now;
        }
        if (content instanceof LastHttpContent) {
            sniffer.finish();
            deadline.cancel();
            UpstreamParts.recordComplete(backend, status,
                    sniffer.sawError() && endpoint.kind() == RouteKind.INFERENCE);
            pacer.last(UpstreamParts.forClient(msg, content));
            finishUpstream(upstreamKeepAlive);
            return;
        }
        pacer.part(content);
    }

    @Override
    public void onUpstreamReadComplete() {
        if (state == State.STREAMING && conn != null && pacer.burstEnded(conn.channel())) {
            // Not reading while the client cannot take more: that silence is the client's, not the backend's.
            deadline.pause();
        }
    }

    @Override
    public void onClientWritable() {
        if (state == State.STREAMING && conn != null && pacer.clientWritable(conn.channel())) {
            deadline.resume();
        }
    }

    @Override
    public void onUpstreamClosed(Throwable cause) {
        if (state == State.DONE) {
            return;
        }
        if (state == State.STREAMING) {
            failMidStream(FailureKind.DIED_MID_STREAM, "failed mid-stream: " + describe(cause));
        } else {
            failBeforeResponse(FailureKind.ofEarlyClose(conn != null && conn.reused()), cause);
        }
    }

    /** A deadline of {@link ResponseDeadline} passed (on this loop). */
    private void onDeadline(FailureKind kind) {
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
     * then follow its retry rule (the same backend on a fresh connection, another backend, or an error answer: 504
     * for a first-byte timeout, 502 otherwise).
     */
    private void failBeforeResponse(FailureKind kind, Throwable cause) {
        String why = describe(cause);
        Backend failed = backend;
        deadline.cancel();
        if (conn != null) {
            conn.discard();
            conn = null;
        }
        failed.outstanding().decrementAndGet();
        if (state != State.DONE) {
            if (kind.health() != FailureKind.Health.NONE) {
                failed.lastError(why);
            }
            failed.healthTracker().onFailure(kind, why);
        }
        log.debug("request {} to backend {} failed before a response ({}): {}", id, failed.name(), kind, why);
        if (state == State.DONE) {
            releaseSlot(TimingSample.EMPTY);
            return;
        }
        RetryPolicy.Next step = RetryPolicy.after(kind, endpoint.kind(), retriedFresh);
        if (step == RetryPolicy.Next.FRESH_CONNECTION) {
            // The backend closed an idle keep-alive connection: it never read the request. Once more, same backend.
            retriedFresh = true;
            connect(failed, true);
            return;
        }
        boolean mayRetry = step == RetryPolicy.Next.ELSEWHERE;
        if (mayRetry && pending != null) {
            state = State.WAITING;
            slotHeld = false;
            rc.scheduler().retryElsewhere(pending, failed);
            return;
        }
        if (mayRetry && endpoint.kind() == RouteKind.MODEL_INFO) {
            pendingExcluded.add(failed);
            Backend next = pickAnother();
            if (next != null) {
                connect(next, false);
                return;
            }
        }
        outcome = Outcome.UPSTREAM_FAILED;
        releaseSlot(TimingSample.EMPTY);
        if (kind == FailureKind.FIRST_BYTE_TIMEOUT) {
            respondError(504, "backend '" + failed.name() + "' timed out: " + why, 0);
        } else {
            respondError(502, "backend '" + failed.name() + "' failed: " + why, 0);
        }
    }

    private Backend pickAnother() {
        List<Backend> c = rc.fleet().candidates(modelKey, pendingExcluded);
        return c.isEmpty() ? null : c.get(0);
    }

    /**
     * The backend failed after its head was relayed ({@code kind}: it died or went silent): the client's stream ends
     * with one error line (or, for a fixed-length body, a close), the upstream connection is closed so Ollama stops,
     * the slot is freed and the backend charged.
     */
    private void failMidStream(FailureKind kind, String what) {
        deadline.cancel();
        outcome = Outcome.UPSTREAM_FAILED;
        String message = "backend '" + backend.name() + "' " + what;
        backend.lastError(message);
        backend.healthTracker().onFailure(kind, message);
        log.debug("request {}: {} ({})", id, message, kind);
        String type = contentType();
        if (HttpUtil.isTransferEncodingChunked(upstreamHead)) {
            ByteBuf line = Unpooled.wrappedBuffer(StreamErrors.line(type, message));
            ctx.writeAndFlush(new DefaultLastHttpContent(line));
            finishUpstream(false);
        } else {
            // A fixed-length body cannot be completed honestly: closing tells the client it is truncated (after
            // what did arrive, which may still wait for its burst's flush).
            pacer.flush();
            finishUpstream(false);
            ctx.close();
        }
    }

    // ---- endings ----

    private void finishUpstream(boolean reusable) {
        if (conn != null) {
            if (reusable && outcome == Outcome.OK) {
                conn.release();
            } else {
                conn.discard();
            }
            conn = null;
        }
        if (status >= 400 || sniffer.sawError()) {
            outcome = outcome == Outcome.OK ? Outcome.ERROR : outcome;
        }
        if (backend != null) {
            backend.outstanding().decrementAndGet();
            boolean mutating = request.method().equals(HttpMethod.POST) || request.method().equals(HttpMethod.DELETE);
            if (endpoint.kind() == RouteKind.PASSTHROUGH && mutating) {
                rc.refreshModels().accept(backend);
            }
        }
        releaseSlot(sniffer.sample());
        finish();
    }

    private void releaseSlot(TimingSample sample) {
        if (slotHeld) {
            slotHeld = false;
            rc.scheduler().complete(pending, backend, sample);
        }
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
        deadline.cancel();
        if (pending != null && state == State.WAITING) {
            rc.scheduler().cancel(pending);
        }
        if (conn != null) {
            conn.discard();
            conn = null;
            if (backend != null) {
                backend.outstanding().decrementAndGet();
                backend.healthTracker().onFailure(FailureKind.CLIENT_GONE, "client left");
            }
        }
        releaseSlot(TimingSample.EMPTY);
        finish();
    }

    /**
     * Ends the exchange because the balancer shuts down and its grace ran out: a request not yet answered (queued,
     * connecting, or sent) gets 503 with {@code Retry-After}; a stream under way ends with one error line in its own
     * framing, a fixed-length body with a close. Then the same path as a client that left: withdrawn from its queue,
     * the upstream connection closed (so Ollama stops), the slot freed, the backend's health untouched.
     */
    @Override
    public void abort(String reason) {
        if (state == State.DONE) {
            return;
        }
        if (state != State.STREAMING) {
            status = 503;
            Responses.error(ctx, endpoint, status, reason, ABORT_RETRY_AFTER_SECONDS);
        } else if (HttpUtil.isTransferEncodingChunked(upstreamHead)) {
            ctx.writeAndFlush(new DefaultLastHttpContent(Unpooled.wrappedBuffer(StreamErrors.line(contentType(),
                    reason))));
        } else {
            pacer.flush();
            ctx.close();
        }
        onClientClosed();
    }

    private void finish() {
        if (state == State.DONE) {
            return;
        }
        state = State.DONE;
        deadline.cancel();
        long end = System.nanoTime();
        long queueWait = pending == null ? 0 : pending.queuedNanos();
        long overhead = sentNanos < 0 ? -1 : Math.max(0, sentNanos - arrivalNanos - queueWait);
        rc.observer().requestCompleted(new CompletedRequest(id, endpoint.label(), modelLabel(),
                backend == null ? "" : backend.name(), status, queueWait, overhead,
                firstByteNanos < 0 ? -1 : firstByteNanos - arrivalNanos, end - arrivalNanos, sniffer.sample(),
                pending == null ? 0 : pending.estimate().promptTokens(),
                pending == null ? 0 : pending.estimate().expectedOutputTokens(), outcome, keyName));
        request.release();
        body.release();
        onDone.run();
    }

    private String modelLabel() {
        return parsed == null || parsed.model() == null ? "" : parsed.model();
    }

    private String contentType() {
        String ct = upstreamHead == null ? null : upstreamHead.headers().get(HttpHeaderNames.CONTENT_TYPE);
        return ct == null ? "" : ct;
    }

    private static String describe(Throwable cause) {
        if (cause == null) {
            return "connection closed";
        }
        String m = cause.getMessage();
        return m == null ? cause.getClass().getSimpleName() : m;
    }
}
