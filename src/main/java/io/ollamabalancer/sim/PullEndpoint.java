package io.ollamabalancer.sim;

import io.netty.util.concurrent.ScheduledFuture;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code /api/pull}: an installed model gets Ollama's progress sequence (pulling manifest, layer progress, verifying,
 * writing manifest, success), one flushed NDJSON line every {@value #STEP_MILLIS} ms; {@code stream:false} gets only
 * {@code {"status":"success"}}. A model that is not installed fails as a registry miss would (an error line inside the
 * 200, or a 500 without streaming). Nothing is ever added to the catalogue. Stateless; runs on the event loop.
 */
final class PullEndpoint {
    static final long STEP_MILLIS = 5;
    static final String MISSING = "pull model manifest: file does not exist";

    void handle(SimExchange x) {
        RequestFields f;
        try {
            f = new RequestFields(JsonTree.parseObject(x.request().body(), "api.PullRequest"), "PullRequest");
            f.bool("insecure", false);
        } catch (BadRequestException e) {
            x.replyError(400, e.getMessage());
            return;
        }
        String name = f.string("model").isEmpty() ? f.string("name") : f.string("model");
        boolean stream = f.bool("stream", true);
        if (name.isEmpty()) {
            x.replyError(400, "model is required");
            return;
        }
        ModelRuntime model = x.sim().catalog().find(name);
        if (!stream) {
            if (model == null) {
                x.replyError(500, MISSING);
            } else {
                x.replyJson(200, status("success", null, 0, 0));
            }
            return;
        }
        new Progress(x, steps(model)).start();
    }

    private static List<JsonOut.Body> steps(ModelRuntime model) {
        List<JsonOut.Body> steps = new ArrayList<>();
        steps.add(status("pulling manifest", null, 0, 0));
        if (model == null) {
            steps.add(JsonOut.error(MISSING));
            return steps;
        }
        String digest = model.digest();
        long total = model.model().sizeBytes();
        for (int i = 0; i <= 4; i++) {
            steps.add(status("pulling " + digest.substring(0, 12), "sha256:" + digest, total, total * i / 4));
        }
        steps.add(status("verifying sha256 digest", null, 0, 0));
        steps.add(status("writing manifest", null, 0, 0));
        steps.add(status("success", null, 0, 0));
        return steps;
    }

    /** Ollama's {@code ProgressResponse}: status, then digest, total and completed when non-zero. */
    private static JsonOut.Body status(String status, String digest, long total, long completed) {
        return g -> {
            g.writeStartObject();
            g.writeStringField("status", status);
            if (digest != null) {
                g.writeStringField("digest", digest);
            }
            if (total != 0) {
                g.writeNumberField("total", total);
            }
            if (completed != 0) {
                g.writeNumberField("completed", completed);
            }
            g.writeEndObject();
        };
    }

    /** Streams the progress lines. */
    private static final class Progress implements SimExchange.Active {
        private final SimExchange x;
        private final List<JsonOut.Body> steps;
        private final StreamWriter out;
        private ScheduledFuture<?> timer;
        private int next;
        private boolean finished;

        Progress(SimExchange x, List<JsonOut.Body> steps) {
            this.x = x;
            this.steps = steps;
            this.out = x.stream(SimExchange.NDJSON);
        }

        void start() {
            x.active(this);
            step();
        }

        private void step() {
            timer = null;
            JsonOut.Body line = steps.get(next++);
            if (next == steps.size()) {
                finished = true;
                x.endStream(out, JsonOut.render(x.alloc(), "", line, "\n"));
                return;
            }
            out.chunk(JsonOut.render(x.alloc(), "", line, "\n"));
            timer = x.sim().loop().schedule(this::step, STEP_MILLIS, TimeUnit.MILLISECONDS);
        }

        @Override
        public void cancel() {
            if (!finished) {
                finished = true;
                if (timer != null) {
                    timer.cancel(false);
                }
                x.cancelled();
            }
        }
    }
}
