package io.ollamabalancer.fleetops;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.ollamabalancer.api.Endpoint;
import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.relay.Responses;
import io.ollamabalancer.relay.ClientExchange;
import io.ollamabalancer.upstream.UpstreamPools;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * Runs one progress-streaming operation ({@code /api/pull}, {@code /api/create}) on several backends at once and
 * answers the client as one Ollama would: one NDJSON stream merged by a {@link PullProgressMerger}, or with
 * {@code stream:false} one object at the end. Each backend gets the client's body unchanged.
 *
 * <p>The backends' streams are read to their end whatever the client does: a client that leaves does not cancel
 * the operations (a half-pulled model helps no one), and a slow client does not slow them, because progress for it
 * is coalesced in the merger (one pending line per digest and status) rather than queued. When a backend's answer
 * ends its model list is refreshed; the last line goes out once every backend ended and those refreshes are done, so
 * a client that reads {@code success} finds the model routable. Nothing is sent before the first merged line: if
 * every backend fails before that, the client gets the first failure's status with the error naming each backend.
 *
 * <p>Threading: created and run on the client's event loop; the backend calls use the same loop, so no state is
 * shared across threads. Buffers: each line is a heap array wrapped into the content written (the channel owns it).
 */
final class ProgressFanout implements ClientExchange {
    private static final String NDJSON = "application/x-ndjson";
    /** Ollama's answer to a successful operation without streaming (gin's {@code c.JSON}: no newline). */
    private static final byte[] SUCCESS = "{\"status\":\"success\"}".getBytes(StandardCharsets.UTF_8);
    /** Error text kept from a failed backend's non-200 body. */
    private static final int MAX_ERROR_CHARS = 1024;

    private final ChannelHandlerContext ctx;
    private final Endpoint endpoint;
    private final boolean stream;
    private final Runnable done;
    /** Run once every backend ended, if at least one succeeded (whether or not the client is still there). */
    private final Runnable anySucceeded;
    private final PullProgressMerger merger;
    private final List<CompletableFuture<?>> refreshes = new ArrayList<>();
    private final String backendNames;
    private int running;
    /** The first failed backend's status for a non-streamed answer: its own if it had one, else 500 or 502. */
    private int failureStatus;
    private boolean headSent;
    private boolean succeededSomewhere;
    /** Every backend ended and the refreshes are done. */
    private boolean ending;
    private boolean clientGone;
    private boolean finished;

    private ProgressFanout(ChannelHandlerContext ctx, Endpoint endpoint, List<Backend> targets, boolean stream,
                           Runnable done, Runnable anySucceeded) {
        this.ctx = ctx;
        this.endpoint = endpoint;
        this.stream = stream;
        this.done = done;
        this.anySucceeded = anySucceeded;
        List<String> names = new ArrayList<>(targets.size());
        for (Backend b : targets) {
            names.add(b.name());
        }
        this.merger = new PullProgressMerger(names);
        this.backendNames = String.join(",", names);
        this.running = targets.size();
    }

    /**
     * Starts the operation on every target (at least one) and returns the exchange now answering the client.
     *
     * @param refresh      refreshes one backend's model lists; completes when done (never exceptionally matters)
     * @param anySucceeded run on the client's event loop once every backend ended, if at least one succeeded
     */
    static ProgressFanout start(ChannelHandlerContext ctx, UpstreamPools pools, List<Backend> targets,
                                Endpoint endpoint, byte[] body, boolean stream,
                                Function<Backend, CompletableFuture<?>> refresh, Runnable done,
                                Runnable anySucceeded) {
        ProgressFanout fan = new ProgressFanout(ctx, endpoint, targets, stream, done, anySucceeded);
        String path = endpoint.path();
        EventLoop loop = ctx.channel().eventLoop();
        for (Backend b : targets) {
            BackendLines.start(pools, b, loop, HttpMethod.POST, path, body, fan.new Target(b, refresh));
        }
        return fan;
    }

    /** One backend's answer, fed into the merger. */
    private final class Target implements BackendLines.Sink {
        private final Backend backend;
        private final Function<Backend, CompletableFuture<?>> refresh;
        private final StringBuilder errorBody = new StringBuilder();
        private int status;
        /** It succeeded or failed: what follows changes nothing. */
        private boolean over;

        Target(Backend backend, Function<Backend, CompletableFuture<?>> refresh) {
            this.backend = backend;
            this.refresh = refresh;
        }

        @Override
        public void head(int code) {
            status = code;
        }

        @Override
        public void line(byte[] bytes, int offset, int length) {
            ProgressLine line = ProgressLine.parse(bytes, offset, length);
            if (status != 200) {
                String text = line != null && line.error() != null ? line.error()
                        : new String(bytes, offset, length, StandardCharsets.UTF_8);
                errorBody.append(errorBody.length() == 0 ? "" : " ").append(text);
                errorBody.setLength(Math.min(errorBody.length(), MAX_ERROR_CHARS));
                return;
            }
            if (line == null || over) {
                return; // Ollama writes only JSON lines; anything else is not progress
            }
            if (line.error() != null) {
                fail(500, line.error()); // Ollama answers a failed pull without streaming with a 500
            } else {
                over = "success".equals(line.status());
                succeededSomewhere |= over;
                merger.line(backend.name(), line);
            }
            flush();
        }

        @Override
        public void end(Throwable failure) {
            if (!over) {
                if (failure != null) {
                    fail(502, String.valueOf(failure.getMessage()));
                } else if (status != 200) {
                    fail(status, errorBody.length() > 0 ? errorBody.toString() : "HTTP " + status);
                } else {
                    fail(500, "the stream ended before success");
                }
            }
            running--;
            refreshes.add(refresh.apply(backend));
            if (running == 0) {
                CompletableFuture.allOf(refreshes.toArray(CompletableFuture[]::new))
                        .whenComplete((v, t) -> ctx.executor().execute(ProgressFanout.this::allEnded));
            }
            flush();
        }

        private void fail(int code, String error) {
            over = true;
            if (failureStatus == 0) {
                failureStatus = code;
            }
            merger.failed(backend.name(), error);
        }
    }

    @Override
    public void onClientWritable() {
        flush();
    }

    @Override
    public void onClientClosed() {
        // The backends carry on (see the class comment); only writing stops.
        clientGone = true;
        finishClient();
    }

    /**
     * The balancer shuts down and its grace ran out: a stream under way ends with an error line, an answer not
     * started is a 503 with {@code Retry-After}. The backends are left to finish on their own, as for a client that
     * left (they stop only if the process does).
     */
    @Override
    public void abort(String reason) {
        if (clientGone || finished) {
            return;
        }
        if (headSent) {
            ctx.writeAndFlush(new DefaultLastHttpContent(Unpooled.wrappedBuffer(
                    PullProgressMerger.render(null, null, 0, 0, reason))));
        } else {
            Responses.error(ctx, endpoint, 503, reason, ABORT_RETRY_AFTER_SECONDS);
        }
        onClientClosed();
    }

    /** Every backend ended and its model list was refreshed: the answer can end. */
    private void allEnded() {
        ending = true;
        if (succeededSomewhere) {
            anySucceeded.run();
        }
        if (clientGone || finished) {
            return;
        }
        if (!stream || (!headSent && !merger.hasPending())) {
            answerWhole();
        } else {
            flush();
        }
    }

    /** Writes what the merger has while the client takes it; ends the stream when everything is out. */
    private void flush() {
        if (clientGone || finished || !stream) {
            return;
        }
        boolean wrote = false;
        byte[] line;
        while (ctx.channel().isWritable() && (line = merger.poll()) != null) {
            if (!headSent) {
                sendHead();
            }
            ctx.write(new DefaultHttpContent(Unpooled.wrappedBuffer(line)));
            wrote = true;
        }
        if (ending && headSent && ctx.channel().isWritable() && !merger.hasPending()) {
            ctx.writeAndFlush(new DefaultLastHttpContent(Unpooled.wrappedBuffer(merger.finalLine())));
            finishClient();
        } else if (wrote) {
            ctx.flush();
        }
    }

    private void sendHead() {
        headSent = true;
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, NDJSON);
        head.headers().set(ReplyFanout.BALANCER_BACKEND, backendNames);
        HttpUtil.setTransferEncodingChunked(head, true);
        ctx.write(head);
    }

    /** The answer as one object: without streaming, or when every backend failed before any line went out. */
    private void answerWhole() {
        ReplyFanout.Answer answer = merger.allSucceeded() ? new ReplyFanout.Answer(200, SUCCESS)
                : ReplyFanout.Answer.error(failureStatus == 0 ? 500 : failureStatus, merger.failures());
        answer.send(ctx, backendNames);
        finishClient();
    }

    private void finishClient() {
        if (!finished) {
            finished = true;
            done.run();
        }
    }
}
