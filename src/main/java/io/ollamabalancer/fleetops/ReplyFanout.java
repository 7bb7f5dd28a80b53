package io.ollamabalancer.fleetops;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import io.netty.handler.codec.http.HttpMethod;
import io.ollamabalancer.api.Endpoint;
import io.ollamabalancer.api.ErrorBodies;
import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.BackendProbe;
import io.ollamabalancer.relay.Responses;
import io.ollamabalancer.upstream.UpstreamFetcher;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * Sends one small request (delete, copy) to several backends at once and, once all answered and their model lists
 * were refreshed, lets a {@link Verdict} choose the client's answer from the outcomes, in target order. A client
 * that leaves stops nothing: the backends finish and are refreshed. Created on the client's event loop; the answer
 * is written there; a shutdown's abort answers 503 at once ({@link FleetCall}).
 */
final class ReplyFanout extends FleetCall {
    static final AsciiString BALANCER_BACKEND = AsciiString.cached("X-Balancer-Backend");
    /** A delete or copy answers in seconds; this bounds a backend that never does. */
    static final long TIMEOUT_MILLIS = 60_000;

    /** What one backend did: its reply, or why there was none. */
    record Outcome(Backend backend, BackendProbe.Reply reply, Throwable failure) {
        boolean ok() {
            return reply != null && reply.ok();
        }

        /** The status to pass on: the backend's own, or 502 when it did not answer. */
        int status() {
            return reply != null ? reply.status() : 502;
        }

        /** The backend's error text ({@code {"error":…}} or the body as text), or why it did not answer. */
        String error() {
            if (reply == null) {
                return String.valueOf(failure.getMessage());
            }
            ProgressLine line = ProgressLine.parse(reply.body(), 0, reply.body().length);
            return line != null && line.error() != null ? line.error()
                    : new String(reply.body(), StandardCharsets.UTF_8);
        }

        /** {@code backend 'b': <error>}. */
        String named() {
            return "backend '" + backend.name() + "': " + error();
        }
    }

    /** The client's answer: a status and a body (an empty body for Ollama's bare 200). */
    record Answer(int status, byte[] body) {
        static Answer ok() {
            return new Answer(200, new byte[0]);
        }

        static Answer error(int status, String message) {
            return new Answer(status, ErrorBodies.ollama(message));
        }

        /** Writes it as JSON, naming the backends asked in {@code X-Balancer-Backend} (as a proxied answer does). */
        void send(ChannelHandlerContext ctx, String backends) {
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status),
                    Unpooled.wrappedBuffer(body));
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, Responses.JSON);
            r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
            r.headers().set(BALANCER_BACKEND, backends);
            ctx.writeAndFlush(r);
        }
    }

    /** Chooses the answer from every backend's outcome. */
    interface Verdict {
        Answer decide(List<Outcome> outcomes);
    }

    private final String backends;

    private ReplyFanout(ChannelHandlerContext ctx, Endpoint endpoint, Runnable done, String backends) {
        super(ctx, endpoint, done);
        this.backends = backends;
    }

    static ReplyFanout start(ChannelHandlerContext ctx, UpstreamFetcher fetcher, List<Backend> targets,
                             Endpoint endpoint, HttpMethod method, byte[] body,
                             Function<Backend, CompletableFuture<?>> refresh, Verdict verdict, Runnable done) {
        List<CompletableFuture<Outcome>> calls = new ArrayList<>(targets.size());
        List<String> names = new ArrayList<>(targets.size());
        for (Backend b : targets) {
            names.add(b.name());
            calls.add(fetcher.send(b, method, endpoint.path(), body, ctx.channel().eventLoop(), TIMEOUT_MILLIS)
                    .handle((reply, failure) -> new Outcome(b, reply, failure))
                    .thenCompose(o -> refresh.apply(b).handle((v, t) -> o)));
        }
        ReplyFanout fan = new ReplyFanout(ctx, endpoint, done, String.join(",", names));
        CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).whenComplete((v, t) -> {
            List<Outcome> outcomes = new ArrayList<>(calls.size());
            for (CompletableFuture<Outcome> c : calls) {
                outcomes.add(c.getNow(null)); // all complete, none exceptionally (handle above)
            }
            ctx.executor().execute(() -> fan.answer(verdict.decide(outcomes)));
        });
        return fan;
    }

    private void answer(Answer a) {
        if (claim()) {
            a.send(ctx, backends);
            done();
        }
    }
}
