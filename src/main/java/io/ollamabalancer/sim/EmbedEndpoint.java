package io.ollamabalancer.sim;

import com.fasterxml.jackson.core.JsonGenerator;
import io.netty.util.concurrent.ScheduledFuture;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code /api/embed}, legacy {@code /api/embeddings} and {@code /v1/embeddings}: validate, take a slot and the model,
 * spend {@code promptTokens / prefillTokensPerSecond}, then answer with deterministic vectors. Stateless; each
 * request gets its own {@link Session}. Runs on the event loop.
 */
final class EmbedEndpoint {

    void handle(SimExchange x, Route route) {
        EmbedRequest req;
        try {
            req = EmbedRequest.parse(route, x.request().body());
        } catch (BadRequestException e) {
            if (route.openAi()) {
                x.replyOpenAiError(400, e.emptyBody() ? "EOF" : e.getMessage(), true);
            } else {
                x.replyError(400, e.getMessage());
            }
            return;
        }
        if (route == Route.EMBEDDINGS && req.model().isEmpty()) {
            x.replyError(400, "model is required");
            return;
        }
        ModelRuntime model = x.sim().catalog().find(req.model());
        if (model == null) {
            error(x, route, 404, "model " + GenerationEndpoint.goQuote(req.model()) + " not found, try pulling it first");
            return;
        }
        new Session(x, req, model).start();
    }

    static void error(SimExchange x, Route route, int status, String message) {
        if (route.openAi()) {
            x.replyOpenAiError(status, message, false);
        } else {
            x.replyError(status, message);
        }
    }

    /** One embedding request in flight. */
    private static final class Session implements SimExchange.Active {
        private final SimExchange x;
        private final EmbedRequest req;
        private final ModelRuntime model;
        private final ModelLease lease;
        private final long startedAt;
        private long loadNanos;
        private ScheduledFuture<?> timer;
        private boolean finished;

        Session(SimExchange x, EmbedRequest req, ModelRuntime model) {
            this.x = x;
            this.req = req;
            this.model = model;
            this.lease = new ModelLease(x.sim(), model, this::ready);
            this.startedAt = x.sim().nanoTime();
        }

        void start() {
            x.active(this);
            if (!lease.start()) {
                finished = true;
                error(x, req.route(), 503, SimRouter.BUSY);
            }
        }

        private void ready(long measuredLoadNanos) {
            loadNanos = measuredLoadNanos + 1_000_000L;
            SimContext sim = x.sim();
            double rate = sim.config().prefillTokensPerSecond() * sim.faults().speedFactor();
            long work = req.inputs().isEmpty() ? 1_000_000L : (long) (req.promptTokens() * 1e9 / rate);
            timer = sim.loop().schedule(this::done, work, TimeUnit.NANOSECONDS);
        }

        private void done() {
            finished = true;
            lease.release(req.keepAlive());
            long total = x.sim().nanoTime() - startedAt;
            switch (req.route()) {
                case EMBED: x.replyJson(200, g -> embed(g, total)); break;
                case EMBEDDINGS: x.replyJson(200, this::legacy); break;
                default: x.reply(200, SimExchange.JSON, JsonOut.render(x.alloc(), "", this::openAi, "\n"));
            }
        }

        private List<float[]> vectors() {
            long seed = x.sim().config().seed();
            List<float[]> out = new ArrayList<>(req.inputs().size());
            for (String s : req.inputs()) {
                out.add(EmbeddingVectors.unit(seed, req.model(), s, model.embeddingLength(), req.dimensions()));
            }
            return out;
        }

        private void embed(JsonGenerator g, long total) throws IOException {
            g.writeStartObject();
            g.writeStringField("model", req.model());
            g.writeArrayFieldStart("embeddings");
            for (float[] v : vectors()) {
                writeFloats(g, v);
            }
            g.writeEndArray();
            if (!req.inputs().isEmpty()) {
                g.writeNumberField("total_duration", total);
                g.writeNumberField("load_duration", loadNanos);
                g.writeNumberField("prompt_eval_count", req.promptTokens());
            }
            g.writeEndObject();
        }

        private void legacy(JsonGenerator g) throws IOException {
            g.writeStartObject();
            g.writeArrayFieldStart("embedding");
            if (!req.inputs().isEmpty()) {
                for (double d : EmbeddingVectors.raw(x.sim().config().seed(), req.model(), req.inputs().get(0),
                        model.embeddingLength())) {
                    JsonOut.writeFloat64(g, d);
                }
            }
            g.writeEndArray();
            g.writeEndObject();
        }

        private void openAi(JsonGenerator g) throws IOException {
            g.writeStartObject();
            g.writeStringField("object", "list");
            g.writeArrayFieldStart("data");
            int i = 0;
            for (float[] v : vectors()) {
                g.writeStartObject();
                g.writeStringField("object", "embedding");
                if (req.base64()) {
                    g.writeStringField("embedding", EmbeddingVectors.base64(v));
                } else {
                    g.writeFieldName("embedding");
                    writeFloats(g, v);
                }
                g.writeNumberField("index", i++);
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeStringField("model", req.model());
            g.writeObjectFieldStart("usage");
            g.writeNumberField("prompt_tokens", req.promptTokens());
            g.writeNumberField("total_tokens", req.promptTokens());
            g.writeEndObject();
            g.writeEndObject();
        }

        private static void writeFloats(JsonGenerator g, float[] v) throws IOException {
            g.writeStartArray();
            for (float f : v) {
                JsonOut.writeFloat32(g, f);
            }
            g.writeEndArray();
        }

        @Override
        public void cancel() {
            if (finished) {
                return;
            }
            finished = true;
            if (timer != null) {
                timer.cancel(false);
            }
            lease.release(null);
            x.cancelled();
        }
    }
}
