package io.ollamabalancer.loadgen;

import io.ollamabalancer.upstream.LineSplitter;
import io.netty.bootstrap.Bootstrap;
import io.netty.handler.ssl.SslContext;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.ScheduledFuture;

import java.net.URI;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One simulated client: a keep-alive HTTP/1.1 connection that sends its requests one after another, each after the
 * previous answer ended, reconnecting when the server closes the connection and counting a failed connect as one
 * failed request (then waiting {@value #RETRY_MILLIS} ms), so the loop is bounded by the request count or the
 * deadline either way. Its first {@code warmup} requests record into the warm-up stats.
 *
 * <p>Confined to one event loop, fixed at construction: every channel it opens is registered on that loop and every
 * callback runs there, so its fields need no synchronisation; {@link #start} and {@link #stop} hop onto the loop.
 * Buffers: each request body is a fresh heap buffer handed to the channel on write; response parts belong to
 * {@link StreamResponseHandler}.
 */
final class ConnectionLoop {
    static final long RETRY_MILLIS = 100;

    private final URI target;
    private final LoadgenConfig config;
    private final EventLoop loop;
    private final Bootstrap bootstrap;
    private final LoadStats measured;
    private final LoadStats warmup;
    private final LoadClock clock;
    private final AtomicLong sequence;
    private final long deadline;
    private final Runnable onFinished;
    private final LineSplitter splitter = new LineSplitter();
    private final String host;
    private Channel channel;
    private StreamTracker current;
    private ScheduledFuture<?> timeout;
    private boolean keepAlive;
    private int sent;
    private boolean finished;

    /**
     * @param deadline   {@link LoadClock#nanoTime()} after which no request starts (ignored without a duration)
     * @param onFinished called once, on the loop, when this connection has sent its last request and it ended
     * @param tls        the client context for an {@code https://} target (null: plain HTTP only)
     */
    ConnectionLoop(URI target, LoadgenConfig config, EventLoop loop, Bootstrap base, LoadStats measured,
                   LoadStats warmup, LoadClock clock, AtomicLong sequence, long deadline, Runnable onFinished,
                   SslContext tls) {
        this.target = target;
        this.config = config;
        this.loop = loop;
        this.measured = measured;
        this.warmup = warmup;
        this.clock = clock;
        this.sequence = sequence;
        this.deadline = deadline;
        this.onFinished = onFinished;
        int port = LoadgenConfig.port(target);
        this.host = port == 80 ? target.getHost() : target.getHost() + ":" + port;
        this.bootstrap = base.clone(loop).handler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                if (tls != null && "https".equalsIgnoreCase(target.getScheme())) {
                    ch.pipeline().addLast("tls", tls.newHandler(ch.alloc(), target.getHost(), port));
                }
                ch.pipeline().addLast("codec", new HttpClientCodec());
                ch.pipeline().addLast("stream", new StreamResponseHandler(ConnectionLoop.this));
            }
        });
    }

    /** Opens the connection and starts sending; callable from any thread. */
    void start() {
        loop.execute(this::connect);
    }

    /** Ends this connection now, counting a running request as timed out; callable from any thread. */
    void stop() {
        loop.execute(() -> {
            abortCurrent(ErrorKind.TIMEOUT);
            finish();
        });
    }

    private void connect() {
        if (!moreToDo()) {
            finish();
            return;
        }
        bootstrap.connect(target.getHost(), LoadgenConfig.port(target)).addListener((ChannelFuture f) -> {
            if (finished) {
                f.channel().close();
            } else if (f.isSuccess()) {
                channel = f.channel();
                sendNext();
            } else {
                new StreamTracker(stats(), clock.nanoTime()).abort(ErrorKind.CONNECT, clock.nanoTime());
                sent++;
                loop.schedule(this::connect, RETRY_MILLIS, TimeUnit.MILLISECONDS);
            }
        });
    }

    private void sendNext() {
        if (!moreToDo()) {
            finish();
            return;
        }
        LoadStats stats = stats();
        sent++;
        byte[] body = config.body().render(sequence.getAndIncrement());
        FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, config.path(),
                Unpooled.wrappedBuffer(body));
        req.headers().set(HttpHeaderNames.HOST, host)
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        splitter.reset();
        keepAlive = true;
        current = new StreamTracker(stats, clock.nanoTime());
        Channel ch = channel;
        timeout = loop.schedule(() -> onTimeout(ch), config.timeout().toNanos(), TimeUnit.NANOSECONDS);
        ch.writeAndFlush(req).addListener((ChannelFuture f) -> {
            if (!f.isSuccess()) {
                f.channel().close();
            }
        });
    }

    void onResponse(HttpResponse response) {
        if (current != null) {
            current.status(response.status().code(), clock.nanoTime());
            keepAlive = HttpUtil.isKeepAlive(response);
        }
    }

    void onContent(HttpContent content) {
        StreamTracker t = current;
        if (t == null) {
            return;
        }
        long nanos = clock.nanoTime();
        long wall = clock.epochNanos();
        LineSplitter.Sink sink = (bytes, offset, length) -> t.line(bytes, offset, length, nanos, wall);
        splitter.feed(content.content(), sink);
        if (content instanceof LastHttpContent) {
            splitter.finish(sink);
            t.end(clock.nanoTime());
            endCurrent();
            if (keepAlive) {
                sendNext();
            } else {
                channel.close();
            }
        }
    }

    void onClosed(Channel closed) {
        if (closed != channel) {
            return;
        }
        channel = null;
        abortCurrent(ErrorKind.INCOMPLETE);
        if (!finished) {
            connect();
        }
    }

    private void onTimeout(Channel ch) {
        if (ch == channel && current != null) {
            abortCurrent(ErrorKind.TIMEOUT);
            ch.close();
        }
    }

    private void abortCurrent(ErrorKind kind) {
        if (current != null) {
            current.abort(kind, clock.nanoTime());
            endCurrent();
        }
    }

    private void endCurrent() {
        current = null;
        if (timeout != null) {
            timeout.cancel(false);
            timeout = null;
        }
    }

    private boolean moreToDo() {
        if (config.requests() > 0 && sent >= config.warmup() + config.requests()) {
            return false;
        }
        return config.duration().isZero() || clock.nanoTime() - deadline < 0;
    }

    private LoadStats stats() {
        return sent < config.warmup() ? warmup : measured;
    }

    private void finish() {
        if (finished) {
            return;
        }
        finished = true;
        if (channel != null) {
            channel.close();
        }
        onFinished.run();
    }
}
