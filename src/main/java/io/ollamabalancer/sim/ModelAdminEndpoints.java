package io.ollamabalancer.sim;

/**
 * {@code DELETE /api/delete} and {@code POST /api/copy}, as Ollama's {@code DeleteHandler} and {@code CopyHandler}
 * answer them: 200 with an empty body; an unknown model is 404, {@code model 'x' not found} for delete and
 * {@code model "x" not found} (Go's {@code %q}) for copy; a missing name is 400. Copy installs the source under the
 * destination name (replacing one of that name), unloaded. Stateless; runs on the event loop.
 */
final class ModelAdminEndpoints {

    void delete(SimExchange x) {
        String name;
        try {
            RequestFields f = new RequestFields(JsonTree.parseObject(x.request().body(), "api.DeleteRequest"),
                    "DeleteRequest");
            name = f.string("model").isEmpty() ? f.string("name") : f.string("model");
        } catch (BadRequestException e) {
            x.replyError(400, e.getMessage());
            return;
        }
        if (name.isEmpty()) {
            x.replyError(400, "model is required");
            return;
        }
        if (!x.sim().catalog().remove(name)) {
            x.replyError(404, "model '" + name + "' not found");
            return;
        }
        x.replyEmpty(200);
    }

    void copy(SimExchange x) {
        String source;
        String destination;
        try {
            RequestFields f = new RequestFields(JsonTree.parseObject(x.request().body(), "api.CopyRequest"),
                    "CopyRequest");
            source = f.string("source");
            destination = f.string("destination");
        } catch (BadRequestException e) {
            x.replyError(400, e.getMessage());
            return;
        }
        if (source.isBlank()) {
            x.replyError(400, "source " + GenerationEndpoint.goQuote(source) + " is invalid");
            return;
        }
        if (destination.isBlank()) {
            x.replyError(400, "destination " + GenerationEndpoint.goQuote(destination) + " is invalid");
            return;
        }
        SimContext sim = x.sim();
        ModelRuntime from = sim.catalog().find(source);
        if (from == null) {
            x.replyError(404, "model " + GenerationEndpoint.goQuote(source) + " not found");
            return;
        }
        SimModel m = from.model();
        sim.catalog().add(new SimModel(destination, m.sizeBytes(), m.family(), m.parameterSize(), m.quantization(),
                m.embeddingDims(), false), sim.now());
        x.replyEmpty(200);
    }
}
