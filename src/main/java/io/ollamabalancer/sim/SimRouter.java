package io.ollamabalancer.sim;

import io.netty.handler.codec.http.HttpMethod;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Decides what answers a request: {@code /sim/} control calls, then (for Ollama paths) the Host check, injected
 * latency and one-shot failures, gin's redirect / 404 / 405 behaviour, and finally the endpoint. Shared by all
 * connections of one simulator; confined to its event loop.
 */
final class SimRouter {
    static final String BUSY = "server busy, please try again.  maximum pending requests exceeded";
    static final String RUNNER_STOPPED = "model runner has unexpectedly stopped, this may be due to resource "
            + "limitations or an internal error, check ollama server logs for details";

    private final SimContext sim;
    private final ControlEndpoint control;
    private final InfoEndpoints info;
    private final GenerationEndpoint generation;
    private final EmbedEndpoint embed;
    private final PullEndpoint pull;
    private final CreateEndpoint create;
    private final ModelAdminEndpoints admin;

    SimRouter(SimContext sim, ControlEndpoint control) {
        this.sim = sim;
        this.control = control;
        this.info = new InfoEndpoints();
        this.generation = new GenerationEndpoint();
        this.embed = new EmbedEndpoint();
        this.pull = new PullEndpoint();
        this.create = new CreateEndpoint();
        this.admin = new ModelAdminEndpoints();
    }

    void route(SimExchange x) {
        String path = x.request().path();
        if (path.startsWith(ControlEndpoint.PREFIX)) {
            control.handle(x);
            return;
        }
        x.counted();
        sim.counters().onRequest();
        if (sim.config().checkHost() && !HostCheck.allowed(x.request().host())) {
            x.replyEmpty(403);
            return;
        }
        long delay = sim.faults().extraLatencyMillis();
        if (delay > 0) {
            ScheduledFuture<?> later = sim.loop().schedule(() -> dispatch(x), delay, TimeUnit.MILLISECONDS);
            x.active(() -> {
                later.cancel(false);
                x.cancelled();
            });
            return;
        }
        dispatch(x);
    }

    private void dispatch(SimExchange x) {
        if (x.done()) {
            return;
        }
        x.active(null);
        String path = x.request().path();
        HttpMethod method = x.request().method();
        Route route = Route.match(path);
        if (route == null) {
            String trimmed = path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : null;
            if (trimmed != null && Route.match(trimmed) != null) {
                redirect(x, trimmed);
            } else {
                x.replyText(404, "text/plain", "404 page not found");
            }
            return;
        }
        if (!route.allows(method)) {
            x.replyText(405, "text/plain", "405 method not allowed");
            return;
        }
        if (route.inference() && sim.faults().stallBeforeHead()) {
            // Hold the request: no status line, ever; only the client leaving ends it.
            x.active(x::cancelled);
            return;
        }
        if (route.inference()) {
            int failure = sim.faults().takeFailure();
            if (failure != 0) {
                injectFailure(x, route, failure);
                return;
            }
        }
        switch (route) {
            case ROOT: info.root(x); break;
            case VERSION: info.version(x); break;
            case TAGS: info.tags(x); break;
            case PS: info.ps(x); break;
            case SHOW: info.show(x); break;
            case V1_MODELS: info.openAiModels(x); break;
            case V1_MODEL: info.openAiModel(x, Route.modelParam(path)); break;
            case PULL: pull.handle(x); break;
            case CREATE: create.handle(x); break;
            case COPY: admin.copy(x); break;
            case DELETE: admin.delete(x); break;
            case EMBED: case EMBEDDINGS: case V1_EMBEDDINGS: embed.handle(x, route); break;
            default: generation.handle(x, route);
        }
    }

    /** gin's trailing-slash redirect: 301 for GET, 307 otherwise, with Go's short HTML body on GET. */
    private static void redirect(SimExchange x, String location) {
        boolean get = HttpMethod.GET.equals(x.request().method()) || x.request().isHead();
        int status = get ? 301 : 307;
        String body = HttpMethod.GET.equals(x.request().method())
                ? "<a href=\"" + location + "\">Moved Permanently</a>.\n\n" : "";
        x.header("Location", location);
        x.replyText(status, get ? "text/html; charset=utf-8" : null, body);
    }

    private void injectFailure(SimExchange x, Route route, int status) {
        String message;
        switch (status) {
            case 503: message = BUSY; break;
            case 500: message = RUNNER_STOPPED; break;
            case 404: message = "model '" + requestedModel(x) + "' not found"; break;
            default: message = "simulated failure";
        }
        if (route.openAi()) {
            x.replyOpenAiError(status, message, false);
        } else {
            x.replyError(status, message);
        }
    }

    private static String requestedModel(SimExchange x) {
        try {
            Map<String, Object> body = JsonTree.parseObject(x.request().body(), "map");
            Object m = body.get("model");
            return m instanceof String ? (String) m : "";
        } catch (BadRequestException e) {
            return "";
        }
    }
}
