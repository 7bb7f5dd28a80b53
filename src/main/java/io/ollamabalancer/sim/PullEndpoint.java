package io.ollamabalancer.sim;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code /api/pull}, as Ollama's {@code PullHandler} answers it: a model that is installed, or that the simulated
 * registry ({@link SimulatorConfig#registry()}) offers, gets Ollama's progress sequence (pulling manifest; for each
 * layer in turn, {@code pulling <digest 7..19>} lines with the layer's digest, total and growing completed; verifying
 * sha256 digest; writing manifest; success) through a {@link ProgressStream}, one step per
 * {@link SimFaults#pullStepMillis()}; at the end a model that was not installed is (unloaded), so {@code /api/tags}
 * lists it. Layers are the weights and three small files (template, license, params), with digests derived from the
 * model's name, so every simulator pulling a model reports the same digests and sizes, as servers pulling from one
 * registry do. {@code stream:false} takes as long and answers only {@code {"status":"success"}}. A name in neither
 * list fails as a registry miss (an error line inside the 200, a 500 without streaming);
 * {@link SimFaults#failPullAfterSteps} makes a pull fail mid-way. A client that leaves cancels the pull (Ollama's
 * request context). Stateless; runs on the event loop.
 */
final class PullEndpoint {
    static final String MISSING = "pull model manifest: file does not exist";
    /** What Ollama's downloader reports when a part's connection keeps failing. */
    static final String BROKEN = "max retries exceeded: unexpected EOF";
    /** The small layers of a model: template, license, params (bytes), as on the registry. */
    private static final long[] SMALL_LAYERS = {1_429, 7_711, 96};
    /** Progress lines of the weights layer after its first (0 %); the small layers get one more each. */
    private static final int WEIGHT_STEPS = 8;

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
        SimContext sim = x.sim();
        sim.counters().pullReceived();
        ModelRuntime installed = sim.catalog().find(name);
        SimModel source = installed != null ? installed.model() : sim.catalog().inRegistry(name);
        String display = installed != null ? installed.displayName()
                : ModelCatalog.displayName(source != null ? source.name() : name);
        List<JsonOut.Body> steps = new ArrayList<>();
        String failure = plan(steps, source, display, sim.faults().failPullAfterSteps());
        Runnable install = () -> {
            if (failure == null && installed == null && sim.catalog().find(display) == null) {
                sim.catalog().add(source.withLoadedAtStart(false), sim.now());
            }
        };
        Runnable quietEnd = stream ? null : () -> {
            if (failure != null) {
                x.replyError(500, failure);
            } else {
                x.replyJson(200, ProgressStream.status("success"));
            }
        };
        new ProgressStream(x, steps, install, sim.faults().pullStepMillis(), quietEnd).start();
    }

    /** Fills {@code steps}; returns the error the pull ends with, or null when it succeeds. */
    private static String plan(List<JsonOut.Body> steps, SimModel source, String display, int failAfter) {
        steps.add(ProgressStream.status("pulling manifest"));
        if (source == null) {
            steps.add(JsonOut.error(MISSING));
            return MISSING;
        }
        long small = 0;
        for (long s : SMALL_LAYERS) {
            small += s;
        }
        int layerLines = 0;
        for (int layer = 0; layer <= SMALL_LAYERS.length; layer++) {
            long total = layer == 0 ? Math.max(1, source.sizeBytes() - small) : SMALL_LAYERS[layer - 1];
            int parts = layer == 0 ? WEIGHT_STEPS : 1;
            String digest = ModelRuntime.sha256(display + "#layer" + layer);
            for (int i = 0; i <= parts; i++) {
                if (failAfter > 0 && layerLines == failAfter) {
                    steps.add(JsonOut.error(BROKEN));
                    return BROKEN;
                }
                steps.add(ProgressStream.status("pulling " + digest.substring(0, 12), "sha256:" + digest, total,
                        total * i / parts));
                layerLines++;
            }
        }
        steps.add(ProgressStream.status("verifying sha256 digest"));
        steps.add(ProgressStream.status("writing manifest"));
        steps.add(ProgressStream.status("success"));
        return null;
    }
}
