package io.ollamabalancer.fleetops;

import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.ollamabalancer.api.Endpoint;
import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.BackendProbe;
import io.ollamabalancer.backend.Fleet;
import io.ollamabalancer.relay.ClientExchange;
import io.ollamabalancer.relay.Responses;
import io.ollamabalancer.upstream.UpstreamFetcher;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * Ollama's load and unload requests (a generate without a prompt or a chat without messages, optionally with
 * {@code keep_alive: 0}) mean "warm this model" or "stop this model". On a fleet they must reach every backend
 * that has the model, or {@code ollama stop} would leave it loaded elsewhere. The same body goes to each of them
 * at once; the client gets the first success (one JSON object, as Ollama answers), or the first error. Such
 * requests take no slot: they do no generation. Stateless and thread-safe.
 */
public final class ModelLoadFanout {
    /** A cold load of a large model can take minutes; this bounds a backend that never answers. */
    private static final long TIMEOUT_MILLIS = 10 * 60 * 1000L;

    private final Fleet fleet;
    private final UpstreamFetcher fetcher;
    private final Consumer<Backend> refreshModels;

    public ModelLoadFanout(Fleet fleet, UpstreamFetcher fetcher, Consumer<Backend> refreshModels) {
        this.fleet = fleet;
        this.fetcher = fetcher;
        this.refreshModels = refreshModels;
    }

    /**
     * Takes ownership of {@code req}. The caller checked that at least one available backend has the model.
     */
    public ClientExchange handle(ChannelHandlerContext ctx, FullHttpRequest req, Endpoint endpoint, String modelKey,
                          Runnable done) {
        byte[] body = ByteBufUtil.getBytes(req.content());
        String path = endpoint.path();
        req.release();
        List<Backend> targets = fleet.candidates(modelKey, null);
        List<CompletableFuture<BackendProbe.Reply>> calls = new ArrayList<>();
        for (Backend b : targets) {
            calls.add(fetcher.post(b, path, body, ctx.channel().eventLoop(), TIMEOUT_MILLIS));
        }
        Pending p = new Pending(ctx, endpoint, done);
        CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).handle((v, t) -> {
            BackendProbe.Reply ok = null;
            BackendProbe.Reply failed = null;
            String error = null;
            for (int i = 0; i < calls.size(); i++) {
                CompletableFuture<BackendProbe.Reply> c = calls.get(i);
                refreshModels.accept(targets.get(i));
                if (c.isCompletedExceptionally()) {
                    // Every call has completed (allOf): getNow reads the outcome without waiting.
                    error = "backend '" + targets.get(i).name() + "' failed: " + c.handle((r, e) -> e).getNow(null);
                    continue;
                }
                BackendProbe.Reply r = c.getNow(null);
                if (r.ok() && ok == null) {
                    ok = r;
                } else if (!r.ok() && failed == null) {
                    failed = r;
                }
            }
            BackendProbe.Reply answer = ok != null ? ok : failed;
            String why = error;
            ctx.executor().execute(() -> p.answer(answer, why));
            return null;
        });
        return p;
    }

    /** One fan-out in progress on a client connection; event-loop confined. */
    private static final class Pending extends FleetCall {

        Pending(ChannelHandlerContext ctx, Endpoint endpoint, Runnable done) {
            super(ctx, endpoint, done);
        }

        void answer(BackendProbe.Reply reply, String error) {
            if (!claim()) {
                return;
            }
            if (reply != null) {
                Responses.send(ctx, reply.status(), Responses.JSON, reply.body(), false);
            } else {
                Responses.error(ctx, endpoint, 502, error == null ? "no backend answered" : error, 0);
            }
            done();
        }
    }
}
