package io.ollamabalancer.auth;

/**
 * Why a request was refused before it ran, with the status it is answered with and the label counted under
 * {@code ollama_balancer_key_rejected_total} (unauthorized has no key to count under, so it has its own counter).
 */
public enum Refusal {
    UNAUTHORIZED(401, "unauthorized"),
    OVER_RPM(429, "over_rpm"),
    OVER_TPM(429, "over_tpm"),
    OVER_CONCURRENCY(429, "over_concurrency"),
    MODEL_NOT_ALLOWED(403, "model_not_allowed");

    private final int status;
    private final String label;

    Refusal(int status, String label) {
        this.status = status;
        this.label = label;
    }

    public int status() {
        return status;
    }

    public String label() {
        return label;
    }
}
