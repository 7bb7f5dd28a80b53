package io.ollamabalancer.auth;

import io.ollamabalancer.api.OpenAiErrorCode;

/**
 * Why a request was refused before it ran, with the status it is answered with and the label counted under
 * {@code ollama_balancer_key_rejected_total} (unauthorized has no key to count under, so it has its own counter).
 */
public enum Refusal {
    UNAUTHORIZED(401, "unauthorized", OpenAiErrorCode.INVALID_API_KEY),
    OVER_RPM(429, "over_rpm", OpenAiErrorCode.REQUESTS_RATE_LIMIT),
    OVER_TPM(429, "over_tpm", OpenAiErrorCode.TOKENS_RATE_LIMIT),
    OVER_CONCURRENCY(429, "over_concurrency", OpenAiErrorCode.REQUESTS_RATE_LIMIT),
    MODEL_NOT_ALLOWED(403, "model_not_allowed", null);

    private final int status;
    private final String label;
    private final OpenAiErrorCode openAi;

    Refusal(int status, String label, OpenAiErrorCode openAi) {
        this.status = status;
        this.label = label;
        this.openAi = openAi;
    }

    /** OpenAI's type and code for this refusal on {@code /v1}, or null where OpenAI's API has no such refusal. */
    public OpenAiErrorCode openAi() {
        return openAi;
    }

    public int status() {
        return status;
    }

    public String label() {
        return label;
    }
}
