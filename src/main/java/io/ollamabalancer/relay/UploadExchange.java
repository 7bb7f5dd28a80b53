package io.ollamabalancer.relay;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.FailureKind;
import io.ollamabalancer.backend.Failures;
import io.ollamabalancer.estimate.TimingSample;
import io.ollamabalancer.metrics.CompletedRequest;
import io.ollamabalancer.metrics.Outcome;
import io.ollamabalancer.upstream.UpstreamConnection;
import io.ollamabalancer.upstream.UpstreamListener;
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
 *       is relayed reading upstream only while the client is writable.</li>
 *   <li>{@code Expect: 100-continue} is answered here once the backend's connection is ready (the header is not
 *       forwarded), so the client starts sending only when the bytes have somewhere to go.</li>
 *   <li>No retry: forwarded bytes cannot be replayed. A backend that fails before answering gets the client a 502
 *       {@code {"error":…}}; after it answered, the client's connection is closed. A client that leaves closes the
 *       upstream channel (never pooled half-sent), so the backend sees the upload end.</li>
 * </ul>
 *
 * <p>Buffers: body parts handed in are written to the upstream channel (ownership moves on) or released; parts that
 * arrive while connecting wait in {@code early} and are released if the exchange ends first. Upstream parts are
 * written to the client or released.
 */
public final class UploadExchange implements UpstreamListener, StreamingExchange {
    private static final Logger log = LoggerFactory.getLogger(UploadExchange.class);

    /** Where the exchange is; it only moves forward. */
    enum State { CONNECTING, SENDING, ANSWERING, DONE }

    private final RelayContext rc;
    private final ChannelHandlerContext ctx;
    private final EventLoop loop;
    private final UploadRequest spec;
    private final Backend backend;
    private final HttpHeaders upstreamHeaders;
    /** The body's declared length, -1 when chunked. */
    private final long bodyLength;
    private final boolean expectContinue;
    private final ArrayDeque<HttpContent> early = new ArrayDeque<>(4);
    private final Runnable onDone;

    private State state = State.CONNECTING;
    private UpstreamConnection conn;
    private boolean bodyComplete;
    private boolean bodySent;
    private boolean dropBody;
    private boolean clientReadPaused;
    private boolean upstreamReadPaused;
    private boolean interimPending;
    private boolean upstreamKeepAlive;
    private int status;
    private long sentNanos = -1;
    private long firstByteNanos = -1;
    private Outcome outcome = Outcome.OK;

    /** {@code onDone} runs once when the exchange ends. */
    public UploadExchange(RelayContext rc, ChannelHandlerContext ctx, UploadRequest spec, Runnable onDone) {
        this.rc = rc;
        this.ctx = ctx;
        this.loop = ctx.channel().eventLoop();
        this.spec = spec;
        this.backend = spec.backend();
        HttpRequest head = spec.head();
        // Read before the headers are prepared for upstream: that removes Content-Length, Transfer-Encoding, Expect.
        this.bodyLength = HttpUtil.isTransferEncodingChunked(head) ? -1 : HttpUtil.getContentLength(head, 0L);
        this.expectContinue = HttpUtil.is100ContinueExpected(head);
        this.upstreamHeaders = HeaderPolicy.prepareUpstreamHeaders(head, ctx.channel().remoteAddress());
        this.onDone = onDone;
    }

    /** Connects to the backend; body parts handed in meanwhile wait. */
    public void start() {
        backend.outstanding().incrementAndGet();
        // Always a newly opened connection: an upload cannot be sent again (its body is not kept), so it must not
        // meet a pooled keep-alive connection the backend closed while idle. One connect per upload is nothing
        // beside its bytes, and the connection joins the pool afterwards.
        rc.pools().acquireFresh(backend, loop).addListener((Future<UpstreamConnection> f) -> {
            if (state == State.DONE) {
                if (f.isSuccess()) {
                    f.getNow().release(); // the client left while we connected: nothing was written on it
                }
            } else if (!f.isSuccess()) {
                backend.healthTracker().onFailure(FailureKind.ofConnect(f.cause()), describe(f.cause()));
                fail(f.cause());
            } else {
                send(f.getNow());
            }
        });
    }

    private void send(UpstreamConnection c) {
        conn = c;
        c.attach(this);
        HttpRequest up = HeaderPolicy.upstreamHead(spec.head().method(), backend.config().pathPrefix()
                + spec.upstreamUri(), upstreamHeaders, backend, bodyLength);
        state = State.SENDING;
        sentNanos = System.nanoTime();
        // A write that fails closes the channel and comes back through onUpstreamClosed, possibly at once: after
        // each write, conn is null if the exchange has failed meanwhile.
        c.channel().write(up, c.channel().voidPromise());
        HttpContent part;
        while (conn != null && (part = early.poll()) != null) {
            forward(part);
        }
        if (conn != null) {
            c.channel().flush();
        }
        if (conn == null) {
            return;
        }
        if (expectContinue && !bodyComplete) {
            ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE,
                    Unpooled.EMPTY_BUFFER));
        }
        c.channel().read();
        pullBody();
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
        } else if (conn == null) {
            early.add(part);
        } else {
            forward(part);
            if (conn != null) {
                conn.channel().flush();
            }
            pullBody();
        }
    }

    private void forward(HttpContent part) {
        bodySent |= part instanceof LastHttpContent;
        conn.channel().write(part, conn.channel().voidPromise());
    }

    /** Reads the next body part from the client if the backend can take it, else waits for the upstream to drain. */
    private void pullBody() {
        if (bodyComplete || dropBody || conn == null) {
            return;
        }
        if (conn.channel().isWritable()) {
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
        discardUpstream();
        Responses.errorAndClose(ctx, HttpResponseStatus.REQUEST_TIMEOUT.code(),
                "timed out waiting for the request body");
        finish();
    }

    @Override
    public void onUpstreamWritable() {
        if (clientReadPaused && conn != null) {
            clientReadPaused = false;
            pullBody();
        }
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
            if (head.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
                interimPending = true; // its head is followed by an empty last part, not part of the answer
                ReferenceCountUtil.release(msg);
                conn.channel().read();
                return;
            }
            startAnswer(head);
        } else if (interimPending) {
            interimPending = false;
            ReferenceCountUtil.release(msg);
            conn.channel().read();
            return;
        }
        if (msg instanceof HttpContent content) {
            relay(msg, content);
        } else {
            conn.channel().read();
        }
    }

    private void startAnswer(HttpResponse head) {
        state = State.ANSWERING;
        status = head.status().code();
        firstByteNanos = System.nanoTime();
        upstreamKeepAlive = HttpUtil.isKeepAlive(head);
        if (!bodyComplete) {
            dropBody = true;
            releaseEarly();
        }
        HttpResponse out = HeaderPolicy.clientResponse(head);
        HeaderPolicy.addBalancerHeaders(out.headers(), spec.id(), backend, null);
        if (dropBody) {
            out.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.channel().attr(Responses.LINGER_ON_CLOSE).set(Boolean.TRUE);
        }
        ctx.write(out);
        UpstreamParts.recordStatus(backend, status);
        spec.onAnswer().accept(status);
    }

    private void relay(HttpObject msg, HttpContent content) {
        ctx.writeAndFlush(UpstreamParts.forClient(msg, content));
        if (content instanceof LastHttpContent) {
            UpstreamParts.recordComplete(backend, status, false);
            UpstreamConnection c = conn;
            conn = null;
            if (upstreamKeepAlive && bodySent && !dropBody) {
                c.release();
            } else {
                c.discard();
            }
            if (status >= 400) {
                outcome = Outcome.ERROR;
            }
            finish();
        } else if (ctx.channel().isWritable()) {
            conn.channel().read();
        } else {
            upstreamReadPaused = true;
        }
    }

    @Override
    public void onClientWritable() {
        if (upstreamReadPaused && state == State.ANSWERING && conn != null) {
            upstreamReadPaused = false;
            conn.channel().read();
        }
    }

    // ---- endings ----

    @Override
    public void onUpstreamClosed(Throwable cause) {
        if (state == State.DONE) {
            return;
        }
        // Nothing is retried (the body's bytes are gone); the connection was fresh, so an early close counts.
        FailureKind kind = state == State.ANSWERING ? FailureKind.DIED_MID_STREAM
                : FailureKind.ofEarlyClose(conn != null && conn.reused());
        backend.healthTracker().onFailure(kind, describe(cause));
        fail(cause);
    }

    /** The backend failed or went away: 502 if it had not answered, else the client's connection is cut. */
    private void fail(Throwable cause) {
        String why = describe(cause);
        backend.lastError(why);
        outcome = Outcome.UPSTREAM_FAILED;
        log.debug("upload {} to backend {} failed: {}", spec.id(), backend.name(), why);
        discardUpstream();
        if (state == State.ANSWERING) {
            ctx.close(); // the answer cannot be completed honestly: closing tells the client it is cut
            finish();
        } else {
            respondError(502, "backend '" + backend.name() + "' failed: " + why);
        }
    }

    /** The client's body broke the HTTP framing (a bad chunk): nothing more can be read from the connection. */
    private void clientFailed(Throwable cause) {
        if (state == State.DONE) {
            return;
        }
        outcome = Outcome.ERROR;
        discardUpstream();
        if (state == State.ANSWERING) {
            ctx.close();
            finish();
        } else {
            bodyComplete = false; // whatever follows cannot be trusted: close after the answer
            respondError(400, "malformed request body: " + describe(cause));
        }
    }

    private void respondError(int code, String message) {
        status = code;
        if (bodyComplete) {
            Responses.error(ctx, spec.endpoint(), code, message, 0);
        } else {
            // The client may still be sending: its remaining bytes cannot be skipped cheaply.
            Responses.errorAndClose(ctx, code, message);
        }
        finish();
    }

    @Override
    public void onClientClosed() {
        if (state == State.DONE) {
            return;
        }
        outcome = Outcome.CANCELLED;
        discardUpstream();
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
            ctx.close();
        } else {
            status = 503;
            Responses.errorAndClose(ctx, status, reason, ABORT_RETRY_AFTER_SECONDS);
        }
        onClientClosed();
    }

    private void discardUpstream() {
        if (conn != null) {
            conn.discard();
            conn = null;
        }
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
        releaseEarly();
        backend.outstanding().decrementAndGet();
        long now = System.nanoTime();
        long arrival = spec.arrivalNanos();
        rc.observer().requestCompleted(new CompletedRequest(spec.id(), spec.endpoint().label(), "", backend.name(),
                status, 0, sentNanos < 0 ? -1 : sentNanos - arrival, firstByteNanos < 0 ? -1 : firstByteNanos - arrival,
                now - arrival, TimingSample.EMPTY, 0, 0, outcome));
        onDone.run();
    }

    private static String describe(Throwable cause) {
        return cause == null ? "connection closed" : Failures.describe(cause);
    }
}
