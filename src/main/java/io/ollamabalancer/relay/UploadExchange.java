package io.ollamabalancer.relay;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.FailureKind;
import io.ollamabalancer.estimate.TimingSample;
import io.ollamabalancer.metrics.CompletedRequest;
import io.ollamabalancer.metrics.Outcome;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;

/**
 * One client request whose body streams to a backend while the client sends it: a blob upload, GBs of raw bytes
 * that are never held. Like {@link ProxyExchange} it links the client channel and one upstream channel on the
 * client's event loop (no locks), and sends the client nothing before the backend answers.
 *
 * <p>Design notes.
 * <ul>
 *   <li>Backpressure, client to backend: the client channel does not auto-read while the body streams (its handler
 *       turned that off). The exchange asks for the next read only while the upstream channel is writable, and again
 *       when it drains ({@link #onUpstreamWritable}). What the balancer holds of a body is at most one socket read
 *       that arrived with the head while the connection was being made, plus the upstream channel's write buffer up
 *       to its high watermark.</li>
 *   <li>Backend to client: upstream is read from the start, so an answer that comes before the body has ended is
 *       seen (Ollama answers 200 at once for a blob it has, and errors early). The rest of the body is then dropped,
 *       and the answer carries {@code Connection: close}: the unread remainder cannot be skipped cheaply. The answer
 *       is relayed by the same {@link ResponseRelay} as every answer (reading upstream only while the client is
 *       writable).</li>
 *   <li>{@code Expect: 100-continue} is answered here once the backend's connection is ready (the header is not
 *       forwarded), so the client starts sending only when the bytes have somewhere to go.</li>
 *   <li>No retry ({@link RetryPolicy#streamedBody}): forwarded bytes cannot be replayed. A backend that fails before
 *       answering gets the client a 502 {@code {"error":…}}; after it answered, the relay ends the answer early. A
 *       client that leaves closes the upstream channel (never pooled half-sent), so the backend sees the upload
 *       end. The connection and the backend's outstanding count are the {@link UpstreamCall}'s.</li>
 * </ul>
 *
 * <p>Buffers: body parts handed in are written to the upstream channel (ownership moves on) or released; parts that
 * arrive while connecting wait in {@code early} and are released if the exchange ends first. Upstream parts are
 * written to the client or released.
 */
public final class UploadExchange implements UpstreamCall.Events, ResponseRelay.Owner, StreamingExchange {
    private static final Logger log = LoggerFactory.getLogger(UploadExchange.class);

    /** Where the exchange is; it only moves forward. */
    enum State { CONNECTING, SENDING, ANSWERING, DONE }

    private final RelayContext rc;
    private final ChannelHandlerContext ctx;
    private final UploadRequest spec;
    private final Backend backend;
    private final HttpHeaders upstreamHeaders;
    /** The body's declared length, -1 when chunked. */
    private final long bodyLength;
    private final boolean expectContinue;
    private final ArrayDeque<HttpContent> early = new ArrayDeque<>(4);
    private final Runnable onDone;
    private final UpstreamCall call;
    private final ResponseRelay relay;
    private final RetryPolicy retry = RetryPolicy.streamedBody();

    private State state = State.CONNECTING;
    private boolean bodyComplete;
    private boolean bodySent;
    private boolean dropBody;
    private boolean clientReadPaused;
    private int status;
    private long sentNanos = -1;
    private Outcome outcome = Outcome.OK;

    /** {@code onDone} runs once when the exchange ends. */
    public UploadExchange(RelayContext rc, ChannelHandlerContext ctx, UploadRequest spec, Runnable onDone) {
        this.rc = rc;
        this.ctx = ctx;
        this.spec = spec;
        this.backend = spec.backend();
        HttpRequest head = spec.head();
        // Read before the headers are prepared for upstream: that removes Content-Length, Transfer-Encoding, Expect.
        this.bodyLength = HttpUtil.isTransferEncodingChunked(head) ? -1 : HttpUtil.getContentLength(head, 0L);
        this.expectContinue = HttpUtil.is100ContinueExpected(head);
        this.upstreamHeaders = HeaderPolicy.prepareUpstreamHeaders(head, ctx.channel().remoteAddress());
        this.onDone = onDone;
        this.call = new UpstreamCall(rc.pools(), rc.scheduler(), ctx.channel().eventLoop(), this);
        // No deadlines: an upload's answer comes only when its GBs have arrived, at the client's pace.
        this.relay = new ResponseRelay(ctx, call, this, spec.id(), null, 0);
    }

    /** Connects to the backend; body parts handed in meanwhile wait. */
    public void start() {
        // Always a newly opened connection: an upload cannot be sent again (its body is not kept), so it must not
        // meet a pooled keep-alive connection the backend closed while idle. One connect per upload is nothing
        // beside its bytes, and the connection joins the pool afterwards.
        call.connect(backend, true);
    }

    @Override
    public void onConnected() {
        HttpRequest up = HeaderPolicy.upstreamHead(spec.head().method(), backend.config().pathPrefix()
                + spec.upstreamUri(), upstreamHeaders, backend, bodyLength);
        state = State.SENDING;
        sentNanos = System.nanoTime();
        relay.sent(0);
        // A write that fails closes the channel and comes back through onUpstreamClosed, possibly at once: after
        // each write, the call is no longer connected if the exchange has failed meanwhile.
        call.write(up);
        HttpContent part;
        while (call.connected() && (part = early.poll()) != null) {
            forward(part);
        }
        call.flush();
        if (!call.connected()) {
            return;
        }
        if (expectContinue && !bodyComplete) {
            ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE,
                    Unpooled.EMPTY_BUFFER));
        }
        call.read();
        pullBody();
    }

    @Override
    public void onConnectFailed(FailureKind kind, Throwable cause) {
        fail(kind, cause);
    }

    // ---- client → upstream ----

    @Override
    public void onRequestContent(HttpContent part) {
        if (part.decoderResult().isFailure()) {
            Throwable cause = part.decoderResult().cause();
            part.release();
            clientFailed(cause);
            return;
        }
        boolean last = part instanceof LastHttpContent;
        bodyComplete |= last;
        if (state == State.DONE || dropBody) {
            part.release();
        } else if (!call.connected()) {
            early.add(part);
        } else {
            forward(part);
            call.flush();
            pullBody();
        }
    }

    private void forward(HttpContent part) {
        bodySent |= part instanceof LastHttpContent;
        call.write(part);
    }

    /** Reads the next body part from the client if the backend can take it, else waits for the upstream to drain. */
    private void pullBody() {
        if (bodyComplete || dropBody || !call.connected()) {
            return;
        }
        if (call.writable()) {
            ctx.read();
        } else {
            clientReadPaused = true;
        }
    }

    @Override
    public void onClientIdle() {
        if (state == State.DONE || state == State.ANSWERING || bodyComplete || dropBody || clientReadPaused) {
            // Nothing owed by the client, or we are the ones not reading (the backend is slow to take the body).
            return;
        }
        log.debug("upload {}: no body bytes from the client within the idle timeout", spec.id());
        outcome = Outcome.CLIENT_TIMEOUT;
        call.end(false);
        Responses.errorAndClose(ctx, HttpResponseStatus.REQUEST_TIMEOUT.code(),
                "timed out waiting for the request body");
        finish();
    }

    @Override
    public void onUpstreamWritable() {
        if (clientReadPaused && call.connected()) {
            clientReadPaused = false;
            pullBody();
        }
    }

    // ---- upstream → client (through the relay) ----

    @Override
    public void onUpstreamMessage(HttpObject msg) {
        relay.message(msg);
    }

    @Override
    public boolean acceptHead(HttpResponse head) {
        state = State.ANSWERING;
        status = head.status().code();
        if (!bodyComplete) {
            dropBody = true;
            releaseEarly();
        }
        return true;
    }

    @Override
    public void headForClient(HttpResponse out) {
        if (dropBody) {
            out.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.channel().attr(Responses.LINGER_ON_CLOSE).set(Boolean.TRUE);
        }
        spec.onAnswer().accept(status);
    }

    @Override
    public void onResponseEnd(boolean keepAlive) {
        call.end(keepAlive && bodySent && !dropBody);
        if (status >= 400) {
            outcome = Outcome.ERROR;
        }
        finish();
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
    public void onDeadline(FailureKind kind) {
        // The relay runs no deadline for uploads (both are zero).
    }

    // ---- endings ----

    @Override
    public void onUpstreamClosed(Throwable cause) {
        if (state == State.DONE) {
            return;
        }
        fail(state == State.ANSWERING ? FailureKind.DIED_MID_STREAM : FailureKind.ofEarlyClose(call.reused()), cause);
    }

    /**
     * The backend failed or went away: if it had not answered, the {@link EarlyFailureAnswer} for the failure, else
     * the relay ends its answer early.
     */
    private void fail(FailureKind kind, Throwable cause) {
        String why = UpstreamCall.describe(cause);
        call.charge(kind, why);
        // The body is not kept: the policy never sends it again, so every failure is answered here.
        RetryPolicy.Next next = retry.after(kind);
        log.debug("upload {} to backend {} failed ({}, {}): {}", spec.id(), backend.name(), kind, next, why);
        call.end(false);
        if (state == State.ANSWERING) {
            outcome = Outcome.UPSTREAM_FAILED;
            relay.failStarted("backend '" + backend.name() + "' failed mid-stream: " + why);
            finish();
        } else {
            EarlyFailureAnswer answer = EarlyFailureAnswer.of(kind, backend, why);
            outcome = answer.backendFailed() ? Outcome.UPSTREAM_FAILED : Outcome.ERROR;
            respondError(answer.status(), answer.message(), answer.retryAfterSeconds());
        }
    }

    /** The client's body broke the HTTP framing (a bad chunk): nothing more can be read from the connection. */
    private void clientFailed(Throwable cause) {
        if (state == State.DONE) {
            return;
        }
        outcome = Outcome.ERROR;
        call.end(false);
        if (state == State.ANSWERING) {
            relay.cut();
            finish();
        } else {
            bodyComplete = false; // whatever follows cannot be trusted: close after the answer
            respondError(400, "malformed request body: " + UpstreamCall.describe(cause), 0);
        }
    }

    private void respondError(int code, String message, long retryAfterSeconds) {
        status = code;
        if (bodyComplete) {
            Responses.error(ctx, spec.endpoint(), code, message, retryAfterSeconds);
        } else {
            // The client may still be sending: its remaining bytes cannot be skipped cheaply.
            Responses.errorAndClose(ctx, code, message, retryAfterSeconds);
        }
        finish();
    }

    @Override
    public void onClientClosed() {
        if (state == State.DONE) {
            return;
        }
        outcome = Outcome.CANCELLED;
        call.end(false);
        finish();
    }

    /**
     * Ends the upload because the balancer shuts down and its grace ran out: 503 with {@code Retry-After} and a close
     * if the backend has not answered (the rest of the body cannot be skipped), a close if its answer is under way;
     * then the same path as a client that left (the upstream connection closed, nothing charged to the backend).
     */
    @Override
    public void abort(String reason) {
        if (state == State.DONE) {
            return;
        }
        if (state == State.ANSWERING) {
            relay.cut();
        } else {
            status = 503;
            Responses.errorAndClose(ctx, status, reason, ABORT_RETRY_AFTER_SECONDS);
        }
        onClientClosed();
    }

    private void releaseEarly() {
        HttpContent part;
        while ((part = early.poll()) != null) {
            part.release();
        }
    }

    private void finish() {
        if (state == State.DONE) {
            return;
        }
        state = State.DONE;
        relay.close();
        releaseEarly();
        call.end(false);
        long now = System.nanoTime();
        long arrival = spec.arrivalNanos();
        long firstByte = relay.firstByteNanos();
        rc.observer().requestCompleted(new CompletedRequest(spec.id(), spec.endpoint().label(), "", backend.name(),
                status, 0, sentNanos < 0 ? -1 : sentNanos - arrival, firstByte < 0 ? -1 : firstByte - arrival,
                now - arrival, TimingSample.EMPTY, 0, 0, outcome));
        onDone.run();
    }
}
