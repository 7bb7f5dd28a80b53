package io.ollamabalancer.fleetops;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.ollamabalancer.api.Endpoint;
import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.Fleet;
import io.ollamabalancer.relay.ClientExchange;
import io.ollamabalancer.relay.Responses;
import io.ollamabalancer.upstream.UpstreamFetcher;
import io.ollamabalancer.upstream.UpstreamPools;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * The entry point of the model operations that reach several backends and answer as one Ollama:
 * {@code /api/pull} ({@link FleetPull}), {@code DELETE /api/delete} ({@link FleetDelete}), {@code /api/copy}
 * ({@link FleetCopy}) and {@code /api/create} from an installed model ({@link FleetCreate}). Each picks its targets
 * ({@link FleetTargets}: {@code X-Ollama-Backend: a,b}, else its default), forwards the client's body unchanged to
 * each, answers from all of them, and refreshes each touched backend's model lists before the answer ends. The server
 * only routes to it.
 *
 * <p>Thread-safe (stateless but for the services it is given); called on client event loops, where each operation
 * then runs. Buffers: takes ownership of the request it handles and releases it before returning (the body is copied
 * to a heap array, small by the body limit, and sent to every backend).
 */
public final class FleetOperations {
    private final FleetTargets targets;
    private final UpstreamPools pools;
    private final UpstreamFetcher fetcher;
    private final Function<Backend, CompletableFuture<?>> refresh;
    private final ModelEnsurer catchUp;

    /**
     * @param refresh refreshes one backend's model lists ({@code /api/tags}, {@code /api/ps}); completes when done
     * @param catchUp told of the backends a pull missed (so that they get the model when they return) and of deletes
     */
    public FleetOperations(Fleet fleet, UpstreamPools pools, UpstreamFetcher fetcher,
                           Function<Backend, CompletableFuture<?>> refresh, ModelEnsurer catchUp) {
        this.targets = new FleetTargets(fleet);
        this.pools = pools;
        this.fetcher = fetcher;
        this.refresh = refresh;
        this.catchUp = Objects.requireNonNull(catchUp, "catchUp");
    }

    /**
     * Runs a {@link io.ollamabalancer.api.RouteKind#FLEET} request (pull, copy, delete), or a create for which
     * {@link #createsOnFleet} said yes; takes ownership of
     * {@code req}. Returns the exchange in progress, or null when it was answered at once (after calling
     * {@code done}).
     */
    public ClientExchange handle(ChannelHandlerContext ctx, FullHttpRequest req, Endpoint endpoint, String named,
                                 Runnable done) {
        byte[] body = ByteBufUtil.getBytes(req.content());
        req.release();
        OperationFields fields = OperationFields.read(body);
        FleetTargets.Choice choice = switch (endpoint) {
            case PULL -> FleetPull.targets(targets, named, fields);
            // Checked by createsOnFleet; should the holders have gone since, one backend answers, as for any create.
            case CREATE -> Objects.requireNonNullElseGet(FleetCreate.targets(targets, named, fields),
                    () -> FleetTargets.first(targets.all(named)));
            case DELETE -> FleetDelete.targets(targets, named, fields);
            case COPY -> FleetCopy.targets(targets, named, fields);
            default -> throw new IllegalArgumentException("not a fleet operation: " + endpoint);
        };
        if (choice.backends().isEmpty()) {
            return refuse(ctx, endpoint, choice, done);
        }
        return switch (endpoint) {
            case PULL -> ProgressFanout.start(ctx, pools, choice.backends(), endpoint, body, fields.stream(), refresh,
                    done, caughtUpLater(named, fields.model(), choice));
            case CREATE -> ProgressFanout.start(ctx, pools, choice.backends(), endpoint, body, fields.stream(),
                    refresh, done, () -> { });
            case DELETE -> {
                forgetCatchUps(named, fields.model(), choice);
                yield ReplyFanout.start(ctx, fetcher, choice.backends(), endpoint, HttpMethod.DELETE, body, refresh,
                        new FleetDelete(fields.model()), done);
            }
            default -> ReplyFanout.start(ctx, fetcher, choice.backends(), endpoint, HttpMethod.POST, body,
                    refresh, FleetCopy.INSTANCE, done);
        };
    }

    /**
     * Whether an {@code /api/create} with this body runs on the fleet ({@link FleetCreate}): from an installed model
     * that some backend holds, or with backends named. Otherwise the caller forwards it to one backend. Reads
     * {@code body} without consuming it.
     */
    public boolean createsOnFleet(ByteBuf body, String named) {
        return FleetCreate.targets(targets, named, OperationFields.read(ByteBufUtil.getBytes(body))) != null;
    }

    /**
     * What a pull does once it succeeded somewhere: the enabled backends it could not reach because they were
     * unavailable get the model when they return. Not for a pull to named backends (the client chose them).
     */
    private Runnable caughtUpLater(String named, String model, FleetTargets.Choice choice) {
        if (named != null || model.isBlank()) {
            return () -> { };
        }
        List<String> missed = targets.missedBy(choice);
        return missed.isEmpty() ? () -> { } : () -> catchUp.caughtUp(model, missed);
    }

    /** A delete through the balancer: no backend it reaches is caught up on the model afterwards. */
    private void forgetCatchUps(String named, String model, FleetTargets.Choice choice) {
        if (!model.isBlank()) {
            catchUp.deleted(model, named == null ? null : choice.backends().stream().map(Backend::name).toList());
        }
    }

    private static ClientExchange refuse(ChannelHandlerContext ctx, Endpoint endpoint, FleetTargets.Choice choice,
                                         Runnable done) {
        Responses.error(ctx, endpoint, choice.status(), choice.error(), choice.retryAfterSeconds());
        done.run();
        return null;
    }
}
