package io.ollamabalancer.upstream;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.BackendProbe;
import io.ollamabalancer.backend.FailureKind;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Small requests to backends over the shared pools (model lists, loaded models, versions, aggregate endpoints,
 * fanned-out model loads), with a timeout and a size bound. Thread-safe: each call runs on an event loop of the group it was
 * given. Response parts are copied into a heap array and released as they arrive.
 */
public final class UpstreamFetcher implements BackendProbe {
    private static final int MAX_BODY = 32 * 1024 * 1024;

    private final UpstreamPools pools;
    private final EventLoopGroup group;
    private final long timeoutMillis;

    public UpstreamFetcher(UpstreamPools pools, EventLoopGroup group, long timeoutMillis) {
        this.pools = pools;
        this.group = group;
        this.timeoutMillis = timeoutMillis;
    }

    @Override
    public CompletableFuture<Reply> get(Backend backend, String path) {
        return get(backend, path, group.next());
    }

    /** As {@link #get(Backend, String)}, on a chosen loop (so a client's aggregate stays on its own loop). */
    public CompletableFuture<Reply> get(Backend backend, String path, EventLoop loop) {
        return call(backend, HttpMethod.GET, path, null, loop, timeoutMillis);
    }

    /** As {@link #post(Backend, String, byte[], EventLoop, long)}, on the next loop of the group. */
    public CompletableFuture<Reply> post(Backend backend, String path, byte[] json, long timeout) {
        return post(backend, path, json, group.next(), timeout);
    }

    /** POSTs a small JSON body (a model load or unload fanned out to the fleet) with its own timeout. */
    public CompletableFuture<Reply> post(Backend backend, String path, byte[] json, EventLoop loop,
                                        long timeout) {
        return call(backend, HttpMethod.POST, path, json, loop, timeout);
    }

    /**
     * Sends any method with a small JSON body (or none, when {@code json} is null) and collects the answer: the
     * fleet's model operations ({@code DELETE /api/delete}, {@code /api/copy}) with their own timeout.
     */
    public CompletableFuture<Reply> send(Backend backend, HttpMethod method, String path, byte[] json,
                                         EventLoop loop, long timeout) {
        return call(backend, method, path, json, loop, timeout);
    }

    private CompletableFuture<Reply> call(Backend backend, HttpMethod method, String path, byte[] json,
                                          EventLoop loop, long timeout) {
        CompletableFuture<Reply> result = new CompletableFuture<>();
        Runnable start = () -> attempt(backend, method, path, json, loop, timeout, result, false);
        if (loop.inEventLoop()) {
            start.run();
        } else {
            loop.execute(start);
        }
        return result;
    }

    /**
     * One try on {@code loop}. A reused keep-alive connection that the backend had closed before answering gets the
     * request once more on a fresh connection ({@link FailureKind#RESET_ON_REUSED}): a probe must not fail, and
     * count against a backend, because the backend closed an idle connection.
     */
    private void attempt(Backend backend, HttpMethod method, String path, byte[] json, EventLoop loop, long timeout,
                         CompletableFuture<Reply> result, boolean fresh) {
        Future<UpstreamConnection> acquired = fresh ? pools.acquireFresh(backend, loop) : pools.acquire(backend, loop);
        acquired.addListener((Future<UpstreamConnection> f) -> {
            if (!f.isSuccess()) {
                result.completeExceptionally(f.cause());
                return;
            }
            Runnable retry = fresh ? null : () -> attempt(backend, method, path, json, loop, timeout, result, true);
            new Call(f.getNow(), result, timeout, retry).send(method, backend.config().pathPrefix() + path, json,
                    backend, loop);
        });
    }

    /** One request on one lent connection; event-loop confined. */
    private final class Call implements UpstreamListener {
        private final UpstreamConnection conn;
        private final CompletableFuture<Reply> result;
        private final long timeout;
        /** Sends the request again on a fresh connection; {@code null} when this is already that retry. */
        private final Runnable retry;
        private ByteBuf body = Unpooled.EMPTY_BUFFER;
        private HttpResponse head;
        private ScheduledFuture<?> timer;
        private boolean over;

        Call(UpstreamConnection conn, CompletableFuture<Reply> result, long timeout, Runnable retry) {
            this.conn = conn;
            this.result = result;
            this.timeout = timeout;
            this.retry = retry;
        }

        void send(HttpMethod method, String uri, byte[] json, Backend backend, EventLoop loop) {
            conn.attach(this);
            timer = loop.schedule(() -> fail(new TimeoutException("no answer from " + backend.name() + " in "
                    + timeout + " ms")), timeout, TimeUnit.MILLISECONDS);
            SmallRequests.send(conn, method, uri, json, "application/json", this::fail);
        }

        @Override
        public void onUpstreamMessage(HttpObject msg) {
            try {
                if (result.isDone()) {
                    return;
                }
                if (msg instanceof HttpResponse r) {
                    head = r;
                }
                if (msg instanceof HttpContent c) {
                    if (body.readableBytes() + c.content().readableBytes() > MAX_BODY) {
                        fail(new IOException("response too large"));
                        return;
                    }
                    if (c.content().isReadable()) {
                        if (body == Unpooled.EMPTY_BUFFER) {
                            body = Unpooled.buffer(Math.max(256, c.content().readableBytes()));
                        }
                        body.writeBytes(c.content());
                    }
                    if (c instanceof LastHttpContent) {
                        succeed();
                        return;
                    }
                }
                conn.channel().read();
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void onUpstreamClosed(Throwable cause) {
            fail(cause == null ? new IOException("connection closed") : cause);
        }

        private void succeed() {
            timer.cancel(false);
            byte[] bytes = new byte[body.readableBytes()];
            body.readBytes(bytes);
            body.release();
            if (HttpUtil.isKeepAlive(head)) {
                conn.release();
            } else {
                conn.discard();
            }
            result.complete(new Reply(head.status().code(), bytes));
        }

        private void fail(Throwable cause) {
            if (over || result.isDone()) {
                return;
            }
            over = true;
            if (timer != null) {
                timer.cancel(false);
            }
            body.release();
            body = Unpooled.EMPTY_BUFFER;
            conn.discard();
            boolean stale = head == null && !(cause instanceof TimeoutException)
                    && FailureKind.ofEarlyClose(conn.reused()).retry() == FailureKind.Retry.FRESH_CONNECTION;
            if (stale && retry != null) {
                retry.run();
                return;
            }
            result.completeExceptionally(cause);
        }
    }
}
