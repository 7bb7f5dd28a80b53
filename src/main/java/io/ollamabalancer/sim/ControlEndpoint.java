package io.ollamabalancer.sim;

import io.netty.handler.codec.http.HttpMethod;

import java.util.Map;

/**
 * The simulator's own control API (not part of Ollama, never counted): {@code GET /sim/counters},
 * {@code POST /sim/reset} (counters and faults), {@code GET /sim/faults} and {@code POST /sim/faults} with any of
 * {@code refuseConnections}, {@code crashAfterTokens}, {@code errorAfterTokens}, {@code extraLatencyMillis},
 * {@code failNextWith}, {@code speedFactor}, {@code uploadBytesPerSecond}, {@code stallAfterTokens},
 * {@code stallBeforeHead}, {@code dropOnReusedConnection}, {@code pullStepMillis}, {@code failPullAfterSteps}.
 * Stateless; runs on the event loop.
 */
final class ControlEndpoint {
    static final String PREFIX = "/sim/";

    private final String name;

    ControlEndpoint(String name) {
        this.name = name;
    }

    void handle(SimExchange x) {
        String path = x.request().path();
        HttpMethod method = x.request().method();
        SimContext sim = x.sim();
        switch (path) {
            case "/sim/counters":
                if (HttpMethod.GET.equals(method)) {
                    x.replyText(200, SimExchange.JSON_UTF8, sim.counters().toJson(name));
                    return;
                }
                break;
            case "/sim/reset":
                if (HttpMethod.POST.equals(method)) {
                    sim.counters().reset();
                    sim.faults().reset();
                    x.replyText(200, SimExchange.JSON_UTF8, sim.counters().toJson(name));
                    return;
                }
                break;
            case "/sim/faults":
                if (HttpMethod.GET.equals(method)) {
                    x.replyText(200, SimExchange.JSON_UTF8, sim.faults().toJson());
                    return;
                }
                if (HttpMethod.POST.equals(method)) {
                    applyFaults(x);
                    return;
                }
                break;
            default:
                x.replyText(404, "text/plain", "404 page not found");
                return;
        }
        x.replyText(405, "text/plain", "405 method not allowed");
    }

    private static void applyFaults(SimExchange x) {
        SimFaults faults = x.sim().faults();
        Boolean refuse;
        try {
            Map<String, Object> body = JsonTree.parseObject(x.request().body(), "faults");
            RequestFields f = new RequestFields(body, "faults");
            if (f.has("crashAfterTokens")) {
                faults.crashAfterTokens(f.integer("crashAfterTokens", 0));
            }
            if (f.has("errorAfterTokens")) {
                faults.errorAfterTokens(f.integer("errorAfterTokens", 0));
            }
            if (f.has("extraLatencyMillis")) {
                faults.extraLatencyMillis(f.integer("extraLatencyMillis", 0));
            }
            if (f.has("uploadBytesPerSecond")) {
                faults.uploadBytesPerSecond(f.integer("uploadBytesPerSecond", 0));
            }
            if (f.has("pullStepMillis")) {
                faults.pullStepMillis(f.integer("pullStepMillis", 0));
            }
            if (f.has("failPullAfterSteps")) {
                faults.failPullAfterSteps(f.integer("failPullAfterSteps", 0));
            }
            if (f.has("stallAfterTokens")) {
                faults.stallAfterTokens(f.integer("stallAfterTokens", 0));
            }
            if (f.has("dropOnReusedConnection")) {
                faults.dropOnReusedConnection(f.integer("dropOnReusedConnection", 0));
            }
            if (f.has("stallBeforeHead")) {
                faults.stallBeforeHead(f.bool("stallBeforeHead", false));
            }
            if (f.has("failNextWith")) {
                faults.failNextWith(f.integer("failNextWith", 0));
            }
            if (f.has("speedFactor")) {
                Object v = f.raw("speedFactor");
                if (!(v instanceof Number)) {
                    throw f.mismatch("speedFactor", v, "float64");
                }
                faults.speedFactor(((Number) v).doubleValue());
            }
            refuse = f.has("refuseConnections") ? f.bool("refuseConnections", false) : null;
        } catch (BadRequestException | IllegalArgumentException e) {
            x.replyError(400, e.getMessage());
            return;
        }
        if (Boolean.TRUE.equals(refuse)) {
            // Answer first: refusing closes every connection, this one included.
            x.replyText(200, SimExchange.JSON_UTF8, faults.toJson().replace("\"refuseConnections\":false",
                    "\"refuseConnections\":true"));
            x.sim().loop().execute(() -> faults.refuseConnections(true));
            return;
        }
        if (Boolean.FALSE.equals(refuse)) {
            faults.refuseConnections(false);
        }
        x.replyText(200, SimExchange.JSON_UTF8, faults.toJson());
    }
}
