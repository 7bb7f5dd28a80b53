package io.ollamabalancer.fleetops;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.ollamabalancer.api.Endpoint;
import io.ollamabalancer.api.AliasEntries;
import io.ollamabalancer.api.FleetResponses;
import io.ollamabalancer.backend.ModelAliases;
import io.ollamabalancer.backend.ModelNames;
import io.ollamabalancer.relay.ClientExchange;
import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.BackendProbe;
import io.ollamabalancer.backend.Fleet;
import io.ollamabalancer.relay.Responses;
import io.ollamabalancer.upstream.UpstreamFetcher;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Answers the fleet-wide endpoints ({@code /api/tags}, {@code /api/ps}, {@code /v1/models}, {@code /api/version})
 * by asking every available backend at once and merging what came back; a backend that fails is left out.
 * Stateless and thread-safe; each call's work stays on the client's event loop.
 */
public final class FleetAggregator {
    private final Fleet fleet;
    private final UpstreamFetcher fetcher;
    private final ModelAliases aliases;

    /** @param aliases listed in {@code /api/tags} and {@code /v1/models} beside their targets */
    public FleetAggregator(Fleet fleet, UpstreamFetcher fetcher, ModelAliases aliases) {
        this.fleet = fleet;
        this.fetcher = fetcher;
        this.aliases = aliases;
    }

    /** Takes ownership of {@code req}; calls {@code done} once, after answering or when the client left. */
    public ClientExchange handle(ChannelHandlerContext ctx, FullHttpRequest req, Endpoint endpoint, Runnable done) {
        boolean head = req.method().equals(HttpMethod.HEAD);
        String path = endpoint.path();
        req.release();
        List<Backend> backends = fleet.available();
        Pending p = new Pending(ctx, endpoint, head, done, aliases.all());
        if (backends.isEmpty()) {
            p.answer(List.of());
            return p;
        }
        List<CompletableFuture<BackendProbe.Reply>> calls = new ArrayList<>();
        for (Backend b : backends) {
            calls.add(fetcher.get(b, path, ctx.channel().eventLoop()));
        }
        CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).handle((v, t) -> {
            List<byte[]> bodies = new ArrayList<>();
            for (CompletableFuture<BackendProbe.Reply> c : calls) {
                BackendProbe.Reply r = c.isCompletedExceptionally() ? null : c.getNow(null);
                if (r != null && r.ok()) {
                    bodies.add(r.body());
                }
            }
            ctx.executor().execute(() -> p.answer(bodies));
            return null;
        });
        return p;
    }

    /** One aggregate request in progress on a client connection; event-loop confined. */
    private static final class Pending extends FleetCall {
        private final boolean head;
        private final Map<String, String> aliases;

        Pending(ChannelHandlerContext ctx, Endpoint endpoint, boolean head, Runnable done,
                Map<String, String> aliases) {
            super(ctx, endpoint, done);
            this.head = head;
            this.aliases = aliases;
        }

        void answer(List<byte[]> bodies) {
            if (!claim()) {
                return;
            }
            if (bodies.isEmpty()) {
                Responses.error(ctx, endpoint, 503, "no healthy backend available", 1);
            } else {
                Responses.send(ctx, 200, Responses.JSON, merge(bodies), head);
            }
            done();
        }

        private byte[] merge(List<byte[]> answers) {
            List<byte[]> bodies = new ArrayList<>(answers);
            byte[] aliased = switch (endpoint) {
                case TAGS -> AliasEntries.forTags(answers, aliases, ModelNames::normalize);
                case V1_MODELS -> AliasEntries.forV1Models(answers, aliases, ModelNames::normalize);
                default -> null;
            };
            if (aliased != null) {
                bodies.add(aliased);
            }
            return switch (endpoint) {
                case TAGS -> FleetResponses.mergeTags(bodies);
                case PS -> FleetResponses.mergePs(bodies);
                case V1_MODELS -> FleetResponses.mergeV1Models(bodies);
                case VERSION -> FleetResponses.lowestVersion(bodies);
                default -> throw new IllegalArgumentException("not an aggregate endpoint: " + endpoint);
            };
        }
    }
}
