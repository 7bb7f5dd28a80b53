package io.ollamabalancer.fleetops;

import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.upstream.LineSplitter;
import io.ollamabalancer.upstream.SmallRequests;
import io.ollamabalancer.upstream.UpstreamConnection;
import io.ollamabalancer.upstream.UpstreamListener;
import io.ollamabalancer.upstream.UpstreamPools;

import java.io.IOException;

/**
 * One request to one backend whose answer is read line by line as it arrives (an NDJSON progress stream, or a
 * one-object answer, which ends without a newline), over the shared upstream pools. It reads to the end whoever is
 * listening downstream: a fleet operation must not abandon a pull half done. No timeout: a large model's pull
 * takes as long as its download, and a backend that dies shows up as a closed connection.
 *
 * <p>Threading: everything runs on the given event loop (the pools' contract). Buffers: each response part is read
 * into the {@link LineSplitter}'s own array and released at once; the request body is a heap array wrapped per call.
 */
final class BackendLines implements UpstreamListener {

    /** What the call produces, in order: {@link #head} once, {@link #line} per line, then {@link #end} once. */
    interface Sink {
        /** The backend's status code. */
        void head(int status);

        /** One line, {@code bytes[offset, offset + length)}, readable only during the call. */
        void line(byte[] bytes, int offset, int length);

        /** The answer ended; {@code failure} is null when it was complete, else why it broke off. */
        void end(Throwable failure);
    }

    private final Sink sink;
    private final LineSplitter splitter = new LineSplitter();
    private final LineSplitter.Sink lines;
    private UpstreamConnection conn;
    private HttpResponse head;
    private boolean ended;

    private BackendLines(Sink sink) {
        this.sink = sink;
        this.lines = sink::line;
    }

    /** Sends {@code body} (JSON, may be null) to {@code backend} with {@code method} and streams the answer. */
    static void start(UpstreamPools pools, Backend backend, EventLoop loop, HttpMethod method, String path,
                      byte[] body, Sink sink) {
        BackendLines call = new BackendLines(sink);
        // A fresh connection: a pooled one the backend closed while idle would fail the operation before it began, and a
        // connect costs nothing next to a pull.
        Runnable go = () -> pools.acquireFresh(backend, loop).addListener((Future<UpstreamConnection> f) -> {
            if (f.isSuccess()) {
                call.send(f.getNow(), backend, method, path, body);
            } else {
                call.finish(f.cause());
            }
        });
        if (loop.inEventLoop()) {
            go.run();
        } else {
            loop.execute(go);
        }
    }

    private void send(UpstreamConnection c, Backend backend, HttpMethod method, String path, byte[] body) {
        conn = c;
        c.attach(this);
        SmallRequests.send(c, method, backend.config().pathPrefix() + path, body,
                "application/x-ndjson, application/json", this::finish);
    }

    @Override
    public void onUpstreamMessage(HttpObject msg) {
        try {
            if (ended) {
                return;
            }
            if (msg instanceof HttpResponse r) {
                head = r;
                sink.head(r.status().code());
            }
            if (msg instanceof HttpContent c) {
                splitter.feed(c.content(), lines);
                if (c instanceof LastHttpContent) {
                    splitter.finish(lines);
                    finish(null);
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
        finish(cause == null ? new IOException("connection closed") : cause);
    }

    private void finish(Throwable failure) {
        if (ended) {
            return;
        }
        ended = true;
        if (conn != null) {
            if (failure == null && HttpUtil.isKeepAlive(head)) {
                conn.release();
            } else {
                conn.discard();
            }
        }
        sink.end(failure);
    }
}
