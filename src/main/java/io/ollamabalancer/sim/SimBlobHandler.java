package io.ollamabalancer.sim;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.channel.socket.SocketChannel;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;

/**
 * Serves {@code /api/blobs/:digest} as Ollama's {@code HeadBlobHandler} and {@code CreateBlobHandler} do, without
 * aggregating the body, so uploads of any size cost the simulator no memory:
 * <ul>
 *   <li>{@code HEAD}: 200 when the blob is stored, else 404 {@code blob "sha256:…" not found};</li>
 *   <li>{@code POST}: a blob already stored gets 200 at once, its body unread (the connection then closes after a
 *       linger, as Go's server does when a large body is left unread); otherwise the body is hashed (sha256) part
 *       by part as it arrives, and its end answers 201 and stores the blob, or 400
 *       {@code digest mismatch, expected "sha256:…", got "sha256:…"};</li>
 *   <li>a malformed digest gets 400 {@code invalid digest format}; other methods gin's 405.</li>
 * </ul>
 * {@code Expect: 100-continue} is answered when the body is about to be read, as Go does. It sits before the
 * keep-alive handler and applies the same connection policy to the requests it takes; everything else passes on.
 * Simplification: a blob request is served at once, not queued behind a pipelined request the connection handler
 * is still answering (the balancer never pipelines). One instance per channel; confined to the simulator's event
 * loop.
 *
 * <p>Buffers: every body part of a blob request is released here, after hashing or unread.
 */
final class SimBlobHandler extends ChannelInboundHandlerAdapter {
    static final String PREFIX = "/api/blobs/";
    private static final byte[] NO_BODY = new byte[0];

    /** Go's {@code rstAvoidanceDelay}. */
    private static final long LINGER_MILLIS = 500;

    private enum State { IDLE, HASHING, DISCARDING }

    private final SimContext sim;
    private State state = State.IDLE;
    private boolean keepAlive;
    private SimExchange exchange;
    private String digest;
    private MessageDigest sha;
    private long size;
    private long startNanos;
    private final byte[] head = new byte[BlobStore.headBytes()];

    SimBlobHandler(SimContext sim) {
        this.sim = sim;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (state != State.IDLE && msg instanceof HttpContent part) {
            body(ctx, part);
        } else if (state == State.IDLE && msg instanceof HttpRequest req && !(msg instanceof LastHttpContent)
                && new QueryStringDecoder(req.uri()).path().startsWith(PREFIX)) {
            start(ctx, req);
        } else {
            ctx.fireChannelRead(msg);
        }
    }

    private void start(ChannelHandlerContext ctx, HttpRequest req) {
        String path = new QueryStringDecoder(req.uri()).path();
        exchange = new SimExchange(ctx, new SimRequest(req.method(), path, req.headers().get(HttpHeaderNames.HOST),
                NO_BODY), sim, () -> { });
        exchange.counted();
        sim.counters().onRequest();
        keepAlive = HttpUtil.isKeepAlive(req);
        String param = path.substring(PREFIX.length());
        Runnable answer = answerWithoutBody(req.method(), param);
        if (answer == null) {
            receive(ctx, req, param);
            return;
        }
        state = State.DISCARDING;
        answer(ctx, answer, HttpUtil.isTransferEncodingChunked(req) || HttpUtil.getContentLength(req, 0L) > 0);
    }

    /**
     * Sends an answer and applies the connection policy the keep-alive handler applies to other requests (this
     * handler sits before it): close when the client asked to. An answer given while the body is still unread
     * closes too, the way Go's server does it ({@code closeWriteAndWait}): half-close, keep reading and dropping for
     * a while, then close, so that the client reads the answer before the socket is reset.
     */
    private void answer(ChannelHandlerContext ctx, Runnable reply, boolean bodyUnread) {
        if (bodyUnread || !keepAlive) {
            exchange.header(HttpHeaderNames.CONNECTION, "close");
        }
        reply.run();
        if (!bodyUnread && keepAlive) {
            return;
        }
        ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
            if (!bodyUnread) {
                ctx.close();
            } else if (ctx.channel() instanceof SocketChannel socket && socket.isActive()) {
                socket.shutdownOutput();
                ctx.executor().schedule(() -> ctx.close(), LINGER_MILLIS, TimeUnit.MILLISECONDS);
            }
        });
    }

    /** The answer that needs no body, or null when the body is to be read and hashed. */
    private Runnable answerWithoutBody(HttpMethod method, String param) {
        SimExchange x = exchange;
        if (sim.config().checkHost() && !HostCheck.allowed(x.request().host())) {
            return () -> x.replyEmpty(403);
        }
        if (param.isEmpty() || param.indexOf('/') >= 0) {
            return () -> x.replyText(404, "text/plain", "404 page not found");
        }
        if (!HttpMethod.HEAD.equals(method) && !HttpMethod.POST.equals(method)) {
            return () -> x.replyText(405, "text/plain", "405 method not allowed");
        }
        if (!BlobStore.valid(param)) {
            return () -> x.replyError(400, "invalid digest format");
        }
        if (sim.blobs().find(param) != null) {
            return () -> x.replyEmpty(200);
        }
        if (HttpMethod.HEAD.equals(method)) {
            return () -> x.replyError(404, "blob " + goQuote(param) + " not found");
        }
        return null;
    }

    private void receive(ChannelHandlerContext ctx, HttpRequest req, String param) {
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JRE has SHA-256", e);
        }
        digest = param;
        size = 0;
        startNanos = System.nanoTime();
        state = State.HASHING;
        if (HttpUtil.is100ContinueExpected(req)) {
            ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
        }
    }

    private void body(ChannelHandlerContext ctx, HttpContent part) {
        boolean last = part instanceof LastHttpContent;
        try {
            if (part.decoderResult().isFailure()) {
                // A broken chunked body: Go's read fails and the connection is dropped.
                abandon();
                ctx.close();
                return;
            }
            if (state == State.HASHING) {
                hash(part.content());
                pace(ctx);
            }
        } finally {
            part.release();
        }
        if (last) {
            if (state == State.HASHING) {
                finish(ctx);
            }
            state = State.IDLE;
            exchange = null;
        }
    }

    private void hash(ByteBuf content) {
        int n = content.readableBytes();
        for (int i = 0; size + i < head.length && i < n; i++) {
            head[(int) size + i] = content.getByte(content.readerIndex() + i);
        }
        for (ByteBuffer b : content.nioBuffers()) {
            sha.update(b);
        }
        size += n;
        sim.counters().onBlobBytes(n);
    }

    /** {@link SimFaults#uploadBytesPerSecond}: stops reading until the bytes so far are due. */
    private void pace(ChannelHandlerContext ctx) {
        long rate = sim.faults().uploadBytesPerSecond();
        if (rate <= 0) {
            return;
        }
        long wait = startNanos + (long) (size * 1e9 / rate) - System.nanoTime();
        if (wait > 0 && ctx.channel().config().isAutoRead()) {
            ctx.channel().config().setAutoRead(false);
            ctx.executor().schedule(() -> {
                ctx.channel().config().setAutoRead(true);
            }, wait, TimeUnit.NANOSECONDS);
        }
    }

    private void finish(ChannelHandlerContext ctx) {
        String got = "sha256:" + HexFormat.of().formatHex(sha.digest());
        sha = null;
        SimExchange x = exchange;
        if (!got.equals(digest)) {
            // Ollama compares with the digest exactly as sent: "sha256-<hex>" or upper-case hex never match.
            answer(ctx, () -> x.replyError(400, "digest mismatch, expected " + goQuote(digest) + ", got "
                    + goQuote(got)), false);
            return;
        }
        byte[] first = size >= head.length ? head : Arrays.copyOf(head, (int) size);
        sim.blobs().put(digest, size, first);
        sim.counters().onBlobStored(size);
        answer(ctx, () -> x.replyEmpty(201), false);
    }

    private void abandon() {
        if (state == State.HASHING) {
            exchange.cancelled();
        }
        state = State.IDLE;
        sha = null;
        exchange = null;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        // The client left mid-upload: nothing is stored, and the request counts as cancelled.
        abandon();
        ctx.fireChannelInactive();
    }

    /** Go's {@code %q} for a string that passed the digest check (no characters to escape). */
    private static String goQuote(String s) {
        return '"' + s + '"';
    }
}
