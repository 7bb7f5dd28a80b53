package io.ollamabalancer.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.ollamabalancer.api.Endpoint;
import io.ollamabalancer.api.ErrorBodies;
import io.ollamabalancer.api.LegacyGenerate;
import io.ollamabalancer.api.RouteKind;
import io.ollamabalancer.api.RouteTable;
import io.ollamabalancer.auth.Admission;
import io.ollamabalancer.auth.ApiKeys;
import io.ollamabalancer.auth.KeyState;
import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.BlobLocations;
import io.ollamabalancer.backend.ModelNames;
import io.ollamabalancer.estimate.RequestEstimator;
import io.ollamabalancer.estimate.TimingSample;
import io.ollamabalancer.metrics.CompletedRequest;
import io.ollamabalancer.metrics.Outcome;
import io.ollamabalancer.fleetops.FleetAggregator;
import io.ollamabalancer.fleetops.FleetOperations;
import io.ollamabalancer.fleetops.ModelLoadFanout;
import io.ollamabalancer.relay.ClientExchange;
import io.ollamabalancer.relay.ExchangeRequest;
import io.ollamabalancer.relay.HeaderPolicy;
import io.ollamabalancer.relay.ProxyExchange;
import io.ollamabalancer.relay.RelayContext;
import io.ollamabalancer.relay.Responses;
import io.ollamabalancer.relay.StreamingExchange;
import io.ollamabalancer.request.BlobReferences;
import io.ollamabalancer.request.InferenceRequest;
import io.ollamabalancer.request.ModelFieldRewrite;
import io.ollamabalancer.backend.ModelAliases;
import io.ollamabalancer.request.MalformedRequestException;
import io.ollamabalancer.request.RequestJsonParser;
import io.ollamabalancer.schedule.Priority;
import io.ollamabalancer.schedule.ShareFlow;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Decides what happens to each client request: answered here (root, the balancer's own endpoints, errors),
 * merged over the fleet, run on several backends as one model operation ({@link FleetOperations}: pull, copy,
 * delete, create from an installed model), or proxied to one backend through a {@link ProxyExchange} (requests whose body streams,
 * blob uploads, through {@link BlobUploads}). Requests forwarded as they are go where {@link PassthroughTargets}
 * says: for {@code /api/create}, the backend holding the blobs its body names. Thread-safe (stateless but for
 * the request-id counter); called on client event loops.
 *
 * <p>With API keys ({@code --api-keys}), every Ollama and OpenAI route first needs a known bearer key (401 in the
 * route's error shape otherwise) and a proxied request is admitted under the key's limits (429 with
 * {@code Retry-After}, or 403 for a model the key may not use); its priority is clamped to the key's highest. The
 * balancer's own routes ({@code /health}, {@code /ready}, {@code /metrics}, {@code /balancer/*}) and {@code GET /}
 * stay as they were. Being answered here, in the request's turn, keeps pipelined answers in order.
 *
 * <p>Buffers: takes ownership of every {@link FullHttpRequest}; it releases it here or hands it to the exchange.
 * A streamed request's head holds no buffer; its body parts go to the exchange returned.
 */
final class RequestRouter {
    private static final byte[] RUNNING = "Ollama is running".getBytes(StandardCharsets.UTF_8);
    private static final byte[] METHOD_NOT_ALLOWED = "405 method not allowed".getBytes(StandardCharsets.UTF_8);

    private final RelayContext rc;
    private final RequestJsonParser parser = new RequestJsonParser();
    private final FleetAggregator aggregator;
    private final BalancerEndpoints own;
    private final FleetMonitor monitor;
    private final ModelLoadFanout loads;
    private static final byte[] NOT_FOUND = "404 page not found".getBytes(StandardCharsets.UTF_8);

    /** Which routes a listening port serves: everything, or (with a separate admin port) one side of the split. */
    enum Face {
        ALL, PUBLIC, ADMIN;

        boolean serves(Endpoint e) {
            boolean admin = e == Endpoint.ADMIN || e == Endpoint.METRICS || e == Endpoint.DEBUG_LATENCY
                    || e == Endpoint.STATUS || e == Endpoint.UI || e == Endpoint.UI_DATA
                    || e == Endpoint.REQUEST_STATUS || e == Endpoint.USAGE;
            boolean probe = e == Endpoint.HEALTH || e == Endpoint.READY;
            return switch (this) {
                case ALL -> true;
                case PUBLIC -> !admin;
                case ADMIN -> admin || probe;
            };
        }
    }

    private final AtomicLong ids;
    private final Face face;
    private final PassthroughTargets targets;
    private final BlobUploads uploads;
    private final FleetOperations fleetOps;
    private final ModelAliases aliases;
    /** The API keys, or {@code null} when no keys file is set (every route open). */
    private ApiKeys keys;
    private RequestEstimator estimator;
    static final String UNAUTHORIZED = "unauthorized: a valid API key is required (Authorization: Bearer <key>)";

    RequestRouter(RelayContext rc, FleetAggregator aggregator, ModelLoadFanout loads, BalancerEndpoints own,
                  FleetMonitor monitor, Face face, AtomicLong ids, BlobLocations blobs, FleetOperations fleetOps,
                  ModelAliases aliases) {
        this.fleetOps = fleetOps;
        this.aliases = aliases;
        this.targets = new PassthroughTargets(rc.fleet(), blobs);
        this.uploads = new BlobUploads(rc, targets, blobs, ids);
        this.loads = loads;
        this.face = face;
        this.ids = ids;
        this.rc = rc;
        this.aggregator = aggregator;
        this.own = own;
        this.monitor = monitor;
    }

    /**
     * Requires API keys on the Ollama and OpenAI routes; {@code estimator} gives the prompt estimate charged to a
     * key's tokens per minute. Call once, before the router serves.
     */
    RequestRouter withKeys(ApiKeys keys, RequestEstimator estimator) {
        this.keys = keys;
        this.estimator = estimator;
        return this;
    }

    /** Whether a route needs an API key when keys are on: all but the balancer's own and {@code GET /}. */
    static boolean needsKey(Endpoint e) {
        return e.kind() != RouteKind.BALANCER && e.kind() != RouteKind.LOCAL;
    }

    /** Routes {@code req}; returns the exchange in progress, or {@code null} when it was answered at once. */
    ClientExchange route(ChannelHandlerContext ctx, FullHttpRequest req, Runnable done) {
        long arrival = System.nanoTime();
        RouteTable.Route route = req instanceof AggregatedRequest collected ? collected.route()
                : RouteTable.match(req.method().name(), req.uri());
        boolean head = req.method().equals(HttpMethod.HEAD);
        if (!face.serves(route.endpoint())) {
            return answered(req, done, () -> Responses.send(ctx, 404, Responses.TEXT, NOT_FOUND, head));
        }
        KeyState key = null;
        if (keys != null && needsKey(route.endpoint())) {
            key = keys.authenticate(req.headers().get(HttpHeaderNames.AUTHORIZATION));
            if (key == null) {
                report(route.endpoint().label(), 401, arrival, "");
                return answered(req, done, () -> Responses.unauthorized(ctx, route.endpoint(), UNAUTHORIZED));
            }
        }
        if (!route.methodAllowed()) {
            return answered(req, done, () -> Responses.send(ctx, 405, Responses.TEXT, METHOD_NOT_ALLOWED, head));
        }
        RouteKind kind = route.endpoint().kind();
        if (kind == RouteKind.LOCAL) {
            return answered(req, done, () -> Responses.send(ctx, 200, Responses.TEXT, RUNNING, head));
        }
        if (kind == RouteKind.BALANCER) {
            boolean later;
            try {
                later = own.handle(ctx, req, route, done);
            } finally {
                req.release();
            }
            if (!later) {
                done.run();
            }
            return null;
        }
        if (kind == RouteKind.AGGREGATE) {
            return aggregator.handle(ctx, req, route.endpoint(), done);
        }
        String named = req.headers().get(HeaderPolicy.BACKEND_HEADER);
        if (kind == RouteKind.FLEET
                || route.endpoint() == Endpoint.CREATE && fleetOps.createsOnFleet(req.content(), named)) {
            return fleetOps.handle(ctx, req, route.endpoint(), named, done);
        }
        return proxy(ctx, req, route, arrival, done, key);
    }

    /**
     * Routes a request whose body is still arriving (the routes that stream it: blob uploads); returns the exchange
     * that takes the body, or {@code null} when the request was answered at once.
     */
    StreamingExchange routeStreamed(ChannelHandlerContext ctx, HttpRequest head, Runnable done) {
        long arrival = System.nanoTime();
        RouteTable.Route route = RouteTable.match(head.method().name(), head.uri());
        if (!face.serves(route.endpoint())) {
            BlobUploads.refuse(ctx, head, route, 404, ErrorBodies.PAGE_NOT_FOUND, 0);
            done.run();
            return null;
        }
        if (keys != null && needsKey(route.endpoint())
                && keys.authenticate(head.headers().get(HttpHeaderNames.AUTHORIZATION)) == null) {
            report(route.endpoint().label(), 401, arrival, "");
            BlobUploads.refuse(ctx, head, route, 401, UNAUTHORIZED, 0);
            done.run();
            return null;
        }
        return uploads.route(ctx, head, route, arrival, done);
    }

    private ClientExchange proxy(ChannelHandlerContext ctx, FullHttpRequest req, RouteTable.Route route,
                                 long arrival, Runnable whenDone, KeyState key) {
        Runnable done = whenDone;
        Endpoint e = route.endpoint();
        InferenceRequest parsed = null;
        String model = route.pathModel();
        if (e.shape() != null) {
            try {
                parsed = parser.parse(req.content().nioBuffer(), e.shape());
            } catch (MalformedRequestException ex) {
                return rejected(ctx, req, e, 400, ex.getMessage(), 0, arrival, done);
            }
            model = parsed.model();
        }
        String aliasTarget = e.kind() == RouteKind.INFERENCE || e.kind() == RouteKind.MODEL_INFO
                ? aliases.target(model) : null;
        if (aliasTarget != null) {
            // Routed, estimated and forwarded as the target: every path below (a load fan-out included) sends the
            // rewritten body.
            model = aliasTarget;
            parsed = parsed == null ? null : parsed.withModel(aliasTarget);
            req = renamed(req, aliasTarget);
        }
        if (e.kind() != RouteKind.PASSTHROUGH && (model == null || model.isBlank())) {
            return rejected(ctx, req, e, 400, "model is required", 0, arrival, done);
        }
        String modelKey = model == null ? null : ModelNames.normalize(model);
        long id = ids.incrementAndGet();
        if (key != null) {
            long prompt = parsed != null && e.kind() == RouteKind.INFERENCE
                    ? estimator.estimate(parsed, e.shape(), modelKey).promptTokens() : 0;
            Admission admission = keys.admit(key, modelKey, prompt, id);
            if (!admission.admitted()) {
                report(e.label(), admission.refusal().status(), arrival, key.name());
                return answered(req, done, () -> Responses.refusal(ctx, e, admission.refusal().status(),
                        admission.message(), admission.retryAfterSeconds(), admission.refusal().openAi()));
            }
            // The key's concurrency place is held until the exchange ends, whatever the outcome.
            done = () -> {
                admission.release();
                whenDone.run();
            };
        }
        if (parsed != null && parsed.emptyPrompt() && (e == Endpoint.GENERATE || e == Endpoint.CHAT)
                && !rc.fleet().candidates(modelKey, null).isEmpty()) {
            return loads.handle(ctx, req, e, modelKey, done);
        }
        Backend direct = null;
        if (e.kind() == RouteKind.MODEL_INFO) {
            direct = leastOutstanding(rc.fleet().candidates(modelKey, null));
            if (direct == null) {
                String m = model;
                int status = rc.fleet().anyHas(modelKey) ? 503 : 404;
                String msg = status == 404 ? "model '" + m + "' not found" : "no healthy backend has model '" + m + "'";
                return answered(req, done, () -> Responses.error(ctx, e, status, msg, status == 503 ? 1 : 0));
            }
        } else if (e.kind() == RouteKind.PASSTHROUGH) {
            List<String> digests = e == Endpoint.CREATE
                    ? BlobReferences.in(new ByteBufInputStream(req.content().duplicate())) : List.of();
            PassthroughTargets.Choice choice = targets.choose(digests, req.headers().get(HeaderPolicy.BACKEND_HEADER));
            if (choice.backend() == null) {
                return answered(req, done, () -> Responses.error(ctx, e, choice.status(), choice.error(),
                        choice.retryAfterSeconds()));
            }
            direct = choice.backend();
        }
        ByteBuf body;
        String uri = req.uri();
        if (e == Endpoint.LEGACY_GENERATE) {
            try {
                byte[] bytes = ByteBufUtil.getBytes(req.content());
                body = Unpooled.wrappedBuffer(LegacyGenerate.rewrite(bytes, 0, bytes.length));
            } catch (IOException ex) {
                return rejected(ctx, req, e, 400, ex.getMessage(), 0, arrival, done);
            }
            uri = "/api/generate";
        } else {
            body = req.content().retain();
            if (e.path() != null && e != Endpoint.V1_MODEL) {
                // "/api/chat/" would earn a redirect from Ollama: send the canonical path.
                int q = uri.indexOf('?');
                uri = e.path() + (q < 0 ? "" : uri.substring(q));
            }
            if (e == Endpoint.V1_MODEL && aliasTarget != null) {
                uri = "/v1/models/" + aliasTarget; // the model is in the path: name the target there
            }
        }
        int priority = Priority.parse(req.headers().get(HeaderPolicy.PRIORITY_HEADER));
        if (key != null) {
            priority = key.key().clampPriority(priority); // asking for more than the key may is clamped, not refused
        }
        ExchangeRequest spec = new ExchangeRequest(req, body, e, uri, parsed, modelKey, priority, id, arrival,
                key == null ? "" : key.name(), key == null ? ShareFlow.DEFAULT : key.key().shareFlow());
        ProxyExchange ex = new ProxyExchange(rc, ctx, spec, done);
        if (e.kind() == RouteKind.INFERENCE && !rc.fleet().anyHas(modelKey)) {
            // Perhaps pulled a moment ago: look again before answering 404.
            monitor.refreshAll().whenComplete((v, t) -> ctx.executor().execute(() -> ex.start(null)));
        } else {
            ex.start(direct);
        }
        return ex;
    }

    /**
     * {@code req} with its body's model value set to {@code target} (a new request owning the new body; {@code req}
     * is released), or {@code req} itself when the model was not a body string (a path model, {@code /v1/models/x}).
     */
    private static FullHttpRequest renamed(FullHttpRequest req, String target) {
        ByteBuf body = ModelFieldRewrite.rewrite(req.content(), target);
        if (body == null) {
            return req;
        }
        FullHttpRequest out = req.replace(body);
        req.release();
        return out;
    }

    private static Backend leastOutstanding(List<Backend> candidates) {
        Backend best = null;
        for (Backend b : candidates) {
            if (best == null || b.outstanding().get() < best.outstanding().get()) {
                best = b;
            }
        }
        return best;
    }

    /**
     * Answers a request the front door refused, in its turn, and counts it like any other request (metrics, access
     * log). A refusal that closes the connection closes it gently after its answer (the client may still be sending)
     * and never calls {@code done}: nothing after it runs.
     */
    void refuse(ChannelHandlerContext ctx, RefusedRequest refused, Runnable done) {
        refused.release();
        report(refused.endpointLabel(), refused.status(), refused.arrivalNanos(), "");
        FullHttpResponse answer = refused.answer();
        if (refused.closes()) {
            ctx.channel().attr(Responses.LINGER_ON_CLOSE).set(Boolean.TRUE);
            ctx.writeAndFlush(answer).addListener(ChannelFutureListener.CLOSE);
        } else {
            ctx.writeAndFlush(answer);
            done.run();
        }
    }

    /** An error answer to a request the balancer will not forward, counted in the metrics and the access log. */
    private ClientExchange rejected(ChannelHandlerContext ctx, FullHttpRequest req, Endpoint e, int status,
                                    String message, long retryAfterSeconds, long arrival, Runnable done) {
        report(e.label(), status, arrival, "");
        return answered(req, done, () -> Responses.error(ctx, e, status, message, retryAfterSeconds));
    }

    private void report(String endpoint, int status, long arrival, String keyName) {
        rc.observer().requestCompleted(new CompletedRequest(ids.incrementAndGet(), endpoint, "", "", status, -1, -1,
                -1, System.nanoTime() - arrival, TimingSample.EMPTY, 0, 0, status < 400 ? Outcome.OK : Outcome.ERROR,
                keyName));
    }

    private static ClientExchange answered(FullHttpRequest req, Runnable done, Runnable respond) {
        try {
            respond.run();
        } finally {
            req.release();
        }
        done.run();
        return null;
    }
}
