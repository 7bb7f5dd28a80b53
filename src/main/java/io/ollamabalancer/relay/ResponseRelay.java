package io.ollamabalancer.relay;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.ollamabalancer.upstream.ChunkFraming;
import io.ollamabalancer.schedule.PendingRequest;

/**
 * A backend's response on its way to the client, the same for every exchange: the head rewritten for the client
 * (hop-by-hop headers off, the balancer's on), parts forwarded as they come with one flush per upstream read burst
 * and reading only while the client can take more ({@link ResponsePacer}), the response's deadlines
 * ({@link ResponseDeadline}: first byte, then stream idle), the backend's health told how the response ended
 * ({@link UpstreamParts}), and, when the backend fails after the head went out, one error line in the stream's own
 * framing (or a close for a fixed-length body). Interim (1xx) responses are read past.
 *
 * <p>What differs between exchanges is asked of its {@link Owner}: whether to take a head at all (a 503 "busy" is
 * retried instead), extra headers, what a part says (timings), and what happens when the response ends or a
 * deadline passes.
 *
 * <p>The per-part path allocates nothing and flushes nothing: a part is written with the void promise and the flush
 * comes at the burst's end.
 *
 * <p>A chunked body to an HTTP/1.1 client whose answer is chunked too crosses raw when the exchange asks for it
 * ({@link #takesChunkedBytes}): the backend's data chunks come as the bytes that arrived, framing included, and are
 * written below the client's HTTP encoder, with no decoding and no re-framing; the head and the last chunk still
 * go through both codecs. The owner reads the chunks' data on the way ({@link Owner#onData}). A failure mid-body
 * then ends the answer with the error line only if the client's bytes end between two chunks; inside a chunk
 * (the backend died in the middle of one) the connection is closed, which tells the client it was cut.
 *
 * <p>Buffers: every upstream part handed to {@link #message} is written to the client (ownership moves on) or
 * released. Threading: one per exchange, confined to the client's event loop (also the upstream channel's).
 */
final class ResponseRelay {
    /** The exchange behind the relay. Called on the event loop. */
    interface Owner extends ResponseDeadline.Expiry {
        /**
         * A final response head arrived. Returning false takes it over: the owner released it and ends or retries the
         * attempt; nothing of it is relayed.
         */
        boolean acceptHead(HttpResponse head);

        /** The head about to be written to the client, already rewritten: the owner may add to it. */
        default void headForClient(HttpResponse out) {
        }

        /** A part arrived, before it is written (the last one included): the owner may read it, not keep it. */
        default void onPart(HttpContent part) {
        }

        /** Data bytes of raw chunks ({@link ResponseRelay#chunkedBytes}), read in place before they are written. */
        default void onData(ByteBuf buf, int from, int to) {
        }

        /** {@code n} more chunks arrived raw in one read (their data went to {@link #onData}). */
        default void onChunks(long n) {
        }

        /** Whether an error object in the ended response counts against the backend (a generation's). */
        default boolean errorInStream() {
            return false;
        }

        /** The response ended and its last part was written; {@code keepAlive}: the backend keeps the connection. */
        void onResponseEnd(boolean keepAlive);

        /** The upstream connection broke the protocol (or closed). */
        void onUpstreamClosed(Throwable cause);
    }

    private final ChannelHandlerContext client;
    private final UpstreamCall call;
    private final Owner owner;
    private final long id;
    private final PendingRequest pending;
    private final ResponsePacer pacer;
    private final ResponseDeadline deadline;

    /** The backend's head once it came (edited in place for the client), {@code null} before. */
    private HttpResponse head;
    private boolean keepAlive;
    private int status;
    private long firstByteNanos = -1;
    /**
     * A head was not relayed (an interim 1xx, or one the owner took over): its parts up to its last are no part of
     * the answer and are dropped.
     */
    private boolean skipping;
    private boolean ended;
    /** The client codec's context, below which raw chunks are written; {@code null} unless they are taken raw. */
    private ChannelHandlerContext encoder;
    /** The raw chunks' framing, as the client received it; {@code null} unless they are taken raw. */
    private ChunkFraming framing;

    /**
     * @param id        the request id sent back in {@code X-Request-Id}
     * @param pending   the scheduled request (for the queue-time and estimate headers), {@code null} if none
     * @param idleNanos the longest silence once the head came, 0 for none
     */
    ResponseRelay(ChannelHandlerContext client, UpstreamCall call, Owner owner, long id, PendingRequest pending,
                  long idleNanos) {
        this.client = client;
        this.call = call;
        this.owner = owner;
        this.id = id;
        this.pending = pending;
        this.pacer = new ResponsePacer(client, call::read);
        this.deadline = new ResponseDeadline(client.channel(), idleNanos, owner);
    }

    /** The request went out: its head must come within {@code firstByteBudgetNanos} (0: no deadline). */
    void sent(long firstByteBudgetNanos) {
        skipping = false;
        deadline.awaitHead(firstByteBudgetNanos);
    }

    /** Whether the response head was relayed to the client. */
    boolean started() {
        return head != null;
    }

    /** The backend's status, 0 before its head. */
    int status() {
        return status;
    }

    /** When the head came ({@code System.nanoTime()}), -1 before. */
    long firstByteNanos() {
        return firstByteNanos;
    }

    /**
     * Whether a chunked body for {@code clientRequest} can cross raw, and if so prepares for it: the client speaks
     * HTTP/1.1 (an HTTP/1.0 client gets the body unframed), the request is not a {@code HEAD} (no body), and the
     * client pipeline has the HTTP codec to write below. The caller then asks the upstream connection for raw bytes.
     */
    boolean takesChunkedBytes(HttpRequest clientRequest) {
        if (!HttpVersion.HTTP_1_1.equals(clientRequest.protocolVersion())
                || HttpMethod.HEAD.equals(clientRequest.method())) {
            return false;
        }
        encoder = client.pipeline().context(HttpServerCodec.class);
        if (encoder == null) {
            return false;
        }
        framing = new ChunkFraming(owner::onData);
        return true;
    }

    // ---- upstream → client ----

    /** Data chunks of the response's chunked body as the backend framed them; ownership passes. */
    void chunkedBytes(ByteBuf bytes) {
        if (ended || head == null || framing == null) {
            bytes.release();
            return;
        }
        long before = framing.chunks();
        framing.scan(bytes, bytes.readerIndex(), bytes.writerIndex());
        heardFromBackend();
        owner.onChunks(framing.chunks() - before);
        pacer.chunkedBytes(encoder, bytes);
    }

    /** The next thing the upstream codec decoded; ownership passes. */
    void message(HttpObject msg) {
        if (ended) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg.decoderResult().isFailure()) {
            ReferenceCountUtil.release(msg);
            owner.onUpstreamClosed(msg.decoderResult().cause());
            return;
        }
        if (msg instanceof HttpResponse h) {
            if (h.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
                skipping = !(msg instanceof LastHttpContent);
                ReferenceCountUtil.release(msg);
                call.read();
                return;
            }
            // Set before the owner is asked: taking the head over may start the next attempt at once (a retry on an
            // idle connection), whose sent() clears it.
            skipping = !(msg instanceof LastHttpContent);
            if (!owner.acceptHead(h)) {
                return;
            }
            skipping = false;
            start(h);
        } else if (skipping) {
            skipping = !(msg instanceof LastHttpContent);
            ReferenceCountUtil.release(msg);
            call.read();
            return;
        }
        if (msg instanceof HttpContent content) {
            part(msg, content);
        }
    }

    private void start(HttpResponse h) {
        head = h;
        // Read before the head is edited for the client (its Connection header is removed there).
        keepAlive = HttpUtil.isKeepAlive(h);
        status = h.status().code();
        firstByteNanos = System.nanoTime();
        deadline.headReceived();
        HttpResponse out = HeaderPolicy.clientResponse(h);
        HeaderPolicy.addBalancerHeaders(out.headers(), id, call.backend(), pending);
        owner.headForClient(out);
        pacer.head(out);
        UpstreamParts.recordStatus(call.backend(), status);
    }

    private void part(HttpObject msg, HttpContent content) {
        owner.onPart(content);
        heardFromBackend();
        if (content instanceof LastHttpContent) {
            ended = true;
            deadline.cancel();
            UpstreamParts.recordComplete(call.backend(), status, owner.errorInStream());
            pacer.last(UpstreamParts.forClient(msg, content));
            owner.onResponseEnd(keepAlive);
            return;
        }
        pacer.part(content);
    }

    /** Response bytes arrived: the stream is not silent, and the backend answers (its probe may time out). */
    private void heardFromBackend() {
        deadline.activity();
        call.backend().healthTracker().heard();
    }

    /** The upstream channel finished a read: flush what it produced, read on or pause (see {@link ResponsePacer}). */
    void readComplete() {
        if (head != null && !ended && pacer.burstEnded()) {
            // Not reading while the client cannot take more: that silence is the client's, not the backend's.
            deadline.pause();
        }
    }

    /** The client drained: a read held back is asked for now. */
    void clientWritable() {
        if (head != null && !ended && pacer.clientWritable()) {
            deadline.resume();
        }
    }

    // ---- endings ----

    /**
     * Ends a started response early ({@code message}: why): a chunked one with one error line in its own framing
     * ({@code {"error":…}}, or an OpenAI error event for SSE), which completes it; a fixed-length one, which cannot be
     * completed honestly, with a close after what did arrive, which tells the client it is truncated.
     */
    void failStarted(String message) {
        ended = true;
        deadline.cancel();
        if (framing != null && !framing.betweenChunks()) {
            // The client is inside a chunk the backend did not finish: no line can follow it; the close says so.
            cut();
        } else if (HttpUtil.isTransferEncodingChunked(head)) {
            String ct = head.headers().get(HttpHeaderNames.CONTENT_TYPE);
            client.writeAndFlush(new DefaultLastHttpContent(Unpooled.wrappedBuffer(
                    StreamErrors.line(ct == null ? "" : ct, message))));
        } else {
            cut();
        }
    }

    /** Ends the client's response by closing its connection, after what did arrive (which may wait for a flush). */
    void cut() {
        ended = true;
        deadline.cancel();
        pacer.flush();
        client.close();
    }

    /** The attempt failed before its head: its first-byte deadline no longer runs (a retry sets a new one). */
    void attemptFailed() {
        deadline.cancel();
    }

    /** The exchange ended: no deadline any more, and anything late is released. */
    void close() {
        ended = true;
        deadline.cancel();
    }
}
