package io.ollamabalancer.sim;

/**
 * {@code /api/generate}, {@code /api/chat}, {@code /v1/chat/completions} and {@code /v1/completions}: validates in
 * Ollama's order (body, model name, lookup, capability), answers the empty-prompt load/unload requests, and starts a
 * {@link GenerationSession} for everything else. Stateless; runs on the event loop.
 */
final class GenerationEndpoint {

    void handle(SimExchange x, Route route) {
        GenerationRequest req;
        try {
            req = GenerationRequest.parse(route, x.request().body());
        } catch (BadRequestException e) {
            if (route.openAi()) {
                x.replyOpenAiError(400, e.emptyBody() ? "EOF" : e.getMessage(), true);
            } else {
                x.replyError(400, e.getMessage());
            }
            return;
        }
        GenerationFormat format = format(x, req);
        String name = req.model();
        if (req.chat() && name.isEmpty()) {
            format.replyError(x, 400, "model is required");
            return;
        }
        ModelRuntime model = x.sim().catalog().find(name);
        if (model == null) {
            format.replyError(x, 404, "model '" + name + "' not found");
            return;
        }
        if (model.model().isEmbedding()) {
            format.replyError(x, 400, goQuote(name) + " does not support " + (req.chat() ? "chat" : "generate"));
            return;
        }
        if (req.empty()) {
            Long keepAlive = req.keepAlive();
            if (keepAlive != null && keepAlive == 0) {
                model.expireNow();
                special(x, req, format, "unload");
            } else {
                new Preload(x, req, model, format).start();
            }
            return;
        }
        new GenerationSession(x, req, model, format).start();
    }

    private static GenerationFormat format(SimExchange x, GenerationRequest req) {
        long created = x.sim().now().getEpochSecond();
        int n = (int) Math.floorMod(req.bodyHash(), 999L);
        switch (req.route()) {
            case V1_CHAT:
                return new OpenAiChatFormat(req.model(), "chatcmpl-" + n, created, req.includeUsage());
            case V1_COMPLETIONS:
                return new OpenAiCompletionFormat(req.model(), "cmpl-" + n, created, req.includeUsage());
            case CHAT:
                return new NativeFormat(req.model(), true);
            default:
                return new NativeFormat(req.model(), false);
        }
    }

    /**
     * A load or unload answer. Native endpoints send one JSON object even when streaming; /v1 re-encodes it like any
     * final response.
     */
    static void special(SimExchange x, GenerationRequest req, GenerationFormat format, String reason) {
        GenerationOutcome o = GenerationOutcome.special(x.sim().now(), reason);
        if (req.route().openAi() && req.stream()) {
            x.endStream(x.stream(format.streamContentType()), format.last(x.alloc(), o));
        } else {
            format.replyWhole(x, o);
        }
    }

    /** Go's {@code %q} for a model name. */
    static String goQuote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    /** An empty-prompt request: load the model (if cold), then answer {@code done_reason:"load"}. */
    private static final class Preload implements SimExchange.Active {
        private final SimExchange x;
        private final GenerationRequest req;
        private final ModelRuntime model;
        private final GenerationFormat format;
        private ModelRuntime.Claim claim;
        private boolean finished;

        Preload(SimExchange x, GenerationRequest req, ModelRuntime model, GenerationFormat format) {
            this.x = x;
            this.req = req;
            this.model = model;
            this.format = format;
        }

        void start() {
            x.active(this);
            claim = new ModelRuntime.Claim(cold -> {
                if (finished) {
                    return;
                }
                finished = true;
                model.release(claim, req.keepAlive());
                special(x, req, format, "load");
            });
            model.acquire(claim);
        }

        @Override
        public void cancel() {
            if (!finished) {
                finished = true;
                model.release(claim, null);
                x.cancelled();
            }
        }
    }
}
