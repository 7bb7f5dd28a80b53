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
import io.ollamabalancer.relay.Responses;
import io.ollamabalancer.schedule.Scheduler;

import java.nio.charset.StandardCharsets;

/**
 * The balancer's own endpoints: liveness, readiness, and the admin routes that drain or enable a backend.
 * Thread-safe (reads shared state only). Responses are complete and written at once.
 */
final class BalancerEndpoints {
    private final Fleet fleet;
    private final Scheduler scheduler;
    private final String adminToken;

    BalancerEndpoints(Fleet fleet, Scheduler scheduler, String adminToken) {
        this.fleet = fleet;
        this.scheduler = scheduler;
        this.adminToken = adminToken;
    }

    void handle(ChannelHandlerContext ctx, FullHttpRequest req, RouteTable.Route route) {
        boolean head = req.method().equals(HttpMethod.HEAD);
        Endpoint e = route.endpoint();
        switch (e) {
            case HEALTH -> Responses.send(ctx, 200, Responses.JSON, bytes("{\"status\":\"ok\"}"), head);
            case READY -> ready(ctx, head);
            case ADMIN -> admin(ctx, req, route);
            default -> Responses.error(ctx, e, 404, "not available", 0);
        }
    }

    private void ready(ChannelHandlerContext ctx, boolean head) {
        for (Backend b : fleet.available()) {
            if (b.health() == Health.UP) {
                Responses.send(ctx, 200, Responses.JSON, bytes("{\"status\":\"ready\"}"), head);
                return;
            }
        }
        Responses.send(ctx, 503, Responses.JSON, bytes("{\"status\":\"no healthy backend\"}"), head);
    }

    private void admin(ChannelHandlerContext ctx, FullHttpRequest req, RouteTable.Route route) {
        if (adminToken != null && !adminToken.isEmpty()) {
            String auth = req.headers().get(HttpHeaderNames.AUTHORIZATION);
            if (auth == null || !auth.equals("Bearer " + adminToken)) {
                Responses.error(ctx, route.endpoint(), 401, "a valid admin bearer token is required", 0);
                return;
            }
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

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
