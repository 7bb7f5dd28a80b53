package io.ollamabalancer.api;

/**
 * One model loaded on a backend, as {@code /api/ps} reports it. Immutable.
 *
 * @param name          {@code name} (falling back to {@code model}) as the backend spells it, e.g. {@code llama3.2:latest}
 * @param sizeVram      bytes of the model in GPU memory; 0 when it runs on the CPU or the field is missing
 * @param expiresAt     {@code expires_at} verbatim (local time with offset), {@code null} if missing
 * @param contextLength {@code context_length}; 0 when missing (servers before about v0.12 do not send it)
 * @param size          {@code size}: bytes the model takes in memory wherever it runs (GPU and CPU, weights and KV
 *                      cache); 0 when missing
 */
public record LoadedModel(String name, long sizeVram, String expiresAt, int contextLength, long size) {

    /** Its footprint in memory: {@code size}, else {@code size_vram} (0 for a CPU model of an old server). */
    public long bytes() {
        return size > 0 ? size : sizeVram;
    }
}
