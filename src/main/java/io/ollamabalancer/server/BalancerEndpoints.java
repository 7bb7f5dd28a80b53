package io.ollamabalancer.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.ollamabalancer.api.Endpoint;
import io.ollamabalancer.api.RouteTable;
import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.Fleet;
import io.ollamabalancer.backend.Health;
import io.ollamabalancer.dashboard.DashboardData;
import io.ollamabalancer.dashboard.DashboardPage;
import io.ollamabalancer.relay.Responses;
import io.ollamabalancer.schedule.Scheduler;

import io.netty.handler.codec.http.QueryStringDecoder;
import io.ollamabalancer.api.ErrorBodies;
import io.ollamabalancer.metrics.LatencyDump;
import io.ollamabalancer.metrics.PrometheusText;
import io.ollamabalancer.metrics.Rendered;
import io.ollamabalancer.metrics.StatusDocument;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The balancer's own endpoints: liveness, readiness, Prometheus metrics, the latency dump, the status document,
 * the dashboard (its page and the JSON it polls), and the admin routes that drain or enable a backend.
 * Thread-safe (reads shared state only). Responses are complete and written at once.
 */
final class BalancerEndpoints {
    private final Fleet fleet;
    private final Scheduler scheduler;
    /** True once a graceful stop began: {@code /ready} then answers 503 so the load balancer stops sending here. */
    private final BooleanSupplier draining;
    private final String adminToken;
    private final PrometheusText prometheus;
    private final LatencyDump latency;
    private final StatusDocument status;
    private final Executor renderer;
    private final DashboardPage page;
    private final DashboardData dashboard;
    /** Renders each key's use; null without API keys. */
    private volatile Function<String, Rendered> usage;
    private final RequestStatus requests;

    BalancerEndpoints(Fleet fleet, Scheduler scheduler, BooleanSupplier draining, String adminToken,
                      PrometheusText prometheus, LatencyDump latency, StatusDocument status, Executor renderer,
                      DashboardPage page, DashboardData dashboard, RequestStatus requests) {
        this.requests = requests;
        this.page = page;
        this.dashboard = dashboard;
        this.fleet = fleet;
        this.scheduler = scheduler;
        this.draining = draining;
        this.adminToken = adminToken;
        this.prometheus = prometheus;
        this.latency = latency;
        this.status = status;
        this.renderer = renderer;
    }

    /**
     * Answers {@code req} (which the caller releases after this returns). Rendering metrics may take milliseconds,
     * so it runs on the renderer executor and {@code done} runs when the answer was written; the return value says
     * whether that is still to come.
     */
    boolean handle(ChannelHandlerContext ctx, FullHttpRequest req, RouteTable.Route route, Runnable done) {
        boolean head = req.method().equals(HttpMethod.HEAD);
        Endpoint e = route.endpoint();
        switch (e) {
            case HEALTH -> Responses.send(ctx, 200, Responses.JSON, bytes("{\"status\":\"ok\"}"), head);
            case READY -> ready(ctx, head);
            case ADMIN -> admin(ctx, req, route);
            case REQUEST_STATUS -> {
                return requestStatus(ctx, req, route, head, done);
            }
            case METRICS -> {
                return render(ctx, head, done, prometheus::render);
            }
            case STATUS -> {
                return render(ctx, head, done, status::render);
            }
            case UI -> DashboardPageResponse.send(ctx, req, page, head);
            case UI_DATA -> {
                String since = new QueryStringDecoder(req.uri()).parameters().getOrDefault("since", List.of("0")).get(0);
                return render(ctx, head, done, () -> dashboard.render(sinceSecond(since)));
            }
            case USAGE -> {
                Function<String, Rendered> u = usage;
                if (u == null) {
                    Responses.error(ctx, e, 404, "usage is counted per API key, and no keys file is set (--api-keys)",
                            0);
                    return false;
                }
                List<String> since = new QueryStringDecoder(req.uri()).parameters().get("since");
                return render(ctx, head, done, () -> u.apply(since == null ? null : since.get(0)));
            }
            case DEBUG_LATENCY -> {
                Map<String, List<String>> query = new QueryStringDecoder(req.uri()).parameters();
                return render(ctx, head, done, () -> latency.render(query));
            }
            default -> Responses.error(ctx, e, 404, "not available", 0);
        }
        return false;
    }

    /** Serves {@code GET /balancer/usage} from {@code renderer} (given the {@code since} parameter or null). */
    BalancerEndpoints usage(Function<String, Rendered> renderer) {
        this.usage = renderer;
        return this;
    }

    private boolean render(ChannelHandlerContext ctx, boolean head, Runnable done, Supplier<Rendered> what) {
        renderer.execute(() -> {
            int code = 200;
            Rendered r;
            try {
                r = what.get();
            } catch (IllegalArgumentException bad) {
                code = 400;
                r = new Rendered(Responses.JSON, ErrorBodies.ollama(bad.getMessage()));
            }
            int finalCode = code;
            Rendered out = r;
            ctx.executor().execute(() -> {
                Responses.send(ctx, finalCode, out.contentType(), out.body(), head);
                done.run();
            });
        });
        return true;
    }

    private void ready(ChannelHandlerContext ctx, boolean head) {
        if (draining.getAsBoolean()) {
            Responses.send(ctx, 503, Responses.JSON, bytes("{\"status\":\"shutting down\"}"), head);
            return;
        }
        for (Backend b : fleet.available()) {
            if (b.health() == Health.UP) {
                Responses.send(ctx, 200, Responses.JSON, bytes("{\"status\":\"ready\"}"), head);
                return;
            }
        }
        Responses.send(ctx, 503, Responses.JSON, bytes("{\"status\":\"no healthy backend\"}"), head);
    }

    /**
     * {@code GET /balancer/requests/{id}}: behind the admin token like the admin routes (it names backends and
     * queue contents); rendered off the event loop, since finding a position walks the request's queue.
     */
    private boolean requestStatus(ChannelHandlerContext ctx, FullHttpRequest req, RouteTable.Route route,
                                  boolean head, Runnable done) {
        if (!authorized(ctx, req, route)) {
            return false;
        }
        String id = RouteTable.requestId(req.uri());
        renderer.execute(() -> {
            byte[] body = id == null ? null : requests.render(id);
            ctx.executor().execute(() -> {
                if (body == null) {
                    Responses.error(ctx, route.endpoint(), 404, "request '" + id + "' not found", 0);
                } else {
                    Responses.send(ctx, 200, Responses.JSON, body, head);
                }
                done.run();
            });
        });
        return true;
    }

    /** Whether the request may use an admin route (no token set, or the right one presented); answers 401 if not. */
    private boolean authorized(ChannelHandlerContext ctx, FullHttpRequest req, RouteTable.Route route) {
        if (adminToken != null && !adminToken.isEmpty()) {
            String auth = req.headers().get(HttpHeaderNames.AUTHORIZATION);
            if (!tokenMatches(auth)) {
                Responses.error(ctx, route.endpoint(), 401, "a valid admin bearer token is required", 0);
                return false;
            }
        }
        return true;
    }

    private void admin(ChannelHandlerContext ctx, FullHttpRequest req, RouteTable.Route route) {
        if (!authorized(ctx, req, route)) {
            return;
        }
        Backend b = fleet.byName(route.adminBackend());
        if (b == null) {
            Responses.error(ctx, route.endpoint(), 404, "backend '" + route.adminBackend() + "' not found", 0);
            return;
        }
        switch (String.valueOf(route.adminAction())) {
            case "drain" -> b.draining(true);
            case "enable" -> {
                b.draining(false);
                scheduler.drainAll();
            }
            default -> {
                Responses.error(ctx, route.endpoint(), 404, "unknown action '" + route.adminAction() + "'", 0);
                return;
            }
        }
        Responses.send(ctx, 200, Responses.JSON, bytes("{\"backend\":\"" + b.name() + "\",\"draining\":"
                + b.draining() + "}"), false);
    }

    /**
     * Compares the presented {@code Authorization} value with the expected one in time that does not depend on where
     * they differ, so the token cannot be guessed byte by byte from response times.
     */
    private boolean tokenMatches(String auth) {
        byte[] expected = ("Bearer " + adminToken).getBytes(StandardCharsets.UTF_8);
        byte[] given = (auth == null ? "" : auth).getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(expected, given);
    }

    /** The dashboard's {@code since} parameter: an epoch second, or 0 for every kept sample. */
    private static long sinceSecond(String since) {
        try {
            return Math.max(0, Long.parseLong(since));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("since must be an epoch second", e);
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
