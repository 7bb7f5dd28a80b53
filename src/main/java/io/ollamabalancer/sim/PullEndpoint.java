package io.ollamabalancer.sim;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code /api/pull}: an installed model gets Ollama's progress sequence (pulling manifest, layer progress, verifying,
 * writing manifest, success) through a {@link ProgressStream}; {@code stream:false} gets only
 * {@code {"status":"success"}}. A model that is not installed fails as a registry miss would (an error line inside
 * the 200, or a 500 without streaming). Nothing is ever added to the catalogue. Stateless; runs on the event loop.
 */
final class PullEndpoint {
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
                x.replyJson(200, ProgressStream.status("success"));
            }
            return;
        }
        new ProgressStream(x, steps(model), () -> { }).start();
    }

    private static List<JsonOut.Body> steps(ModelRuntime model) {
        List<JsonOut.Body> steps = new ArrayList<>();
        steps.add(ProgressStream.status("pulling manifest"));
        if (model == null) {
            steps.add(JsonOut.error(MISSING));
            return steps;
        }
        String digest = model.digest();
        long total = model.model().sizeBytes();
        for (int i = 0; i <= 4; i++) {
            steps.add(ProgressStream.status("pulling " + digest.substring(0, 12), "sha256:" + digest, total,
                    total * i / 4));
        }
        steps.add(ProgressStream.status("verifying sha256 digest"));
        steps.add(ProgressStream.status("writing manifest"));
        steps.add(ProgressStream.status("success"));
        return steps;
    }
}
